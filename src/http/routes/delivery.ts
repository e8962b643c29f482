import { Hono } from "hono";
import { verifyPath } from "../../auth/url-signing";
import { ApiError } from "../../domain/errors";
import { isImageId } from "../../domain/ids";
import {
  isPubliclyServable,
  negotiateFormat,
  VARIANT_NAMES,
  type VariantName,
} from "../../domain/images";
import type { ObjectStore } from "../../storage/object-store";
import type { VariantRow } from "../../storage/schema";
import type { AppEnv } from "../context";
import { imageSecurityHeaders } from "../delivery-headers";

function isVariantName(value: string): value is VariantName {
  return (VARIANT_NAMES as readonly string[]).includes(value);
}

/** Streams the best stored format of one variant, honouring If-None-Match and Range. */
async function serveVariant(
  req: Request,
  store: ObjectStore,
  imageId: string,
  revision: number,
  rows: readonly VariantRow[],
  variant: string,
  cacheControl: string,
): Promise<Response> {
  const candidates = rows.filter((r) => r.name === variant);
  const format = negotiateFormat(
    candidates.map((r) => r.format),
    req.headers.get("Accept"),
  );
  const row = candidates.find((r) => r.format === format);
  if (!row) throw new ApiError("variant_not_found");
  const obj = await store.getVariant(imageId, revision, row.name, row.format, {
    onlyIf: req.headers,
    range: req.headers,
  });
  if (!obj) throw new ApiError("variant_not_found");
  const headers = imageSecurityHeaders();
  headers.set("Content-Type", row.contentType);
  headers.set("ETag", obj.httpEtag);
  headers.set("Cache-Control", cacheControl);
  headers.set("Last-Modified", obj.uploaded.toUTCString());
  if (candidates.length > 1) headers.set("Vary", "Accept");
  if (!("body" in obj)) {
    // R2 returns a body-less object when a precondition failed: If-None-Match matched.
    return new Response(null, { status: 304, headers });
  }
  const range = obj.range as { offset?: number; length?: number } | undefined;
  if (range && req.headers.has("Range")) {
    const offset = range.offset ?? 0;
    const length = range.length ?? obj.size - offset;
    headers.set("Content-Range", `bytes ${offset}-${offset + length - 1}/${obj.size}`);
    headers.set("Content-Length", String(length));
    return new Response(obj.body, { status: 206, headers });
  }
  headers.set("Content-Length", String(obj.size));
  return new Response(obj.body, { headers });
}

/** Signed (`/d/...`) and public (`/i/...`) image delivery. */
export const deliveryApp = new Hono<AppEnv>()
  .get("/d/:id/:revision{[0-9]{1,9}}/:variant", async (c) => {
    const { config, images, store } = c.get("services");
    const { id, variant } = c.req.param();
    const revision = Number(c.req.param("revision"));
    const nowSec = Math.floor(Date.now() / 1000);
    const check = await verifyPath(
      config.signing,
      "view",
      c.req.path,
      { kid: c.req.query("kid"), exp: c.req.query("exp"), sig: c.req.query("sig") },
      nowSec,
    );
    if (check === "expired") throw new ApiError("signature_expired");
    if (check !== "valid") throw new ApiError("signature_invalid");
    if (!isImageId(id) || !isVariantName(variant)) throw new ApiError("image_not_found");
    const rows = await images.variantsOf(id, revision);
    const maxAge = Math.max(0, Number(c.req.query("exp")) - nowSec);
    return serveVariant(
      c.req.raw,
      store,
      id,
      revision,
      rows,
      variant,
      `private, max-age=${maxAge}`,
    );
  })
  .get("/i/:id/:variant", async (c) => {
    const { images, store } = c.get("services");
    const { id, variant } = c.req.param();
    if (!isImageId(id) || !isVariantName(variant)) throw new ApiError("image_not_found");
    const found = await images.getWithVariants(id);
    if (!found || !isPubliclyServable(found.image) || found.image.status !== "ready") {
      throw new ApiError("image_not_found");
    }
    return serveVariant(
      c.req.raw,
      store,
      id,
      found.image.revision,
      found.variants,
      variant,
      "public, max-age=86400, stale-while-revalidate=604800",
    );
  });
