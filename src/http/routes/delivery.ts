import { Hono } from "hono";
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
import { requireSignature } from "../middleware";
import { serveObject } from "../serve-object";

function isVariantName(value: string): value is VariantName {
  return (VARIANT_NAMES as readonly string[]).includes(value);
}

/** Serves the best stored format of one variant for the request's Accept header. */
function serveVariant(
  req: Request,
  store: ObjectStore,
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
  return serveObject(req, {
    contentType: row.contentType,
    size: row.bytes,
    etag: row.etag,
    cacheControl,
    // The Cache API and CDNs ignore Vary for keys, so only say it when it matters.
    headers: candidates.length > 1 ? { Vary: "Accept" } : {},
    get: (options) => store.getVariant(row.imageId, row.revision, row.name, row.format, options),
  });
}

/** Signed delivery, mounted at `/d`: `/d/{id}/{revision}/{variant}?kid&exp&sig`. */
export const signedDeliveryApp = new Hono<AppEnv>().get(
  "/:id/:revision{[0-9]{1,9}}/:variant",
  requireSignature("view"),
  async (c) => {
    const { images, store } = c.get("services");
    const { id, variant } = c.req.param();
    if (!isImageId(id) || !isVariantName(variant)) throw new ApiError("image_not_found");
    const rows = await images.variantsOf(id, Number(c.req.param("revision")));
    // The revision is in the path, so these bytes never change for this URL.
    const maxAge = Math.max(0, Number(c.req.query("exp")) - Math.floor(Date.now() / 1000));
    return serveVariant(c.req.raw, store, rows, variant, `private, max-age=${maxAge}`);
  },
);

/** Public delivery, mounted at `/i`: `/i/{id}/{variant}` for public images only. */
export const publicDeliveryApp = new Hono<AppEnv>().get("/:id/:variant", async (c) => {
  const { images, store } = c.get("services");
  const { id, variant } = c.req.param();
  if (!isImageId(id) || !isVariantName(variant)) throw new ApiError("image_not_found");
  const found = await images.getWithVariants(id);
  if (!found || !isPubliclyServable(found.image) || found.image.servedRevision === null) {
    throw new ApiError("image_not_found");
  }
  return serveVariant(
    c.req.raw,
    store,
    found.variants,
    variant,
    "public, max-age=86400, stale-while-revalidate=604800",
  );
});
