import { Hono } from "hono";
import { ApiError } from "../../domain/errors";
import { isImageId } from "../../domain/ids";
import { negotiateFormat, VARIANT_NAMES, type VariantName } from "../../domain/images";
import { publicVariant, signedVariant, type VariantCandidates } from "../../use-cases/read-images";
import type { AppEnv } from "../context";
import { requireSignature } from "../middleware";
import { orThrow } from "../outcome";
import { serveObject } from "../serve-object";

function isVariantName(value: string): value is VariantName {
  return (VARIANT_NAMES as readonly string[]).includes(value);
}

/** Serves the best stored format of one variant for the request's Accept header. */
function serveVariant(
  req: Request,
  { rows, open }: VariantCandidates,
  cacheControl: string,
): Promise<Response> {
  const format = negotiateFormat(
    rows.map((r) => r.format),
    req.headers.get("Accept"),
  );
  const row = rows.find((r) => r.format === format);
  if (!row) throw new ApiError("variant_not_found");
  return serveObject(req, {
    contentType: row.contentType,
    size: row.bytes,
    etag: row.etag,
    cacheControl,
    // The Cache API and CDNs ignore Vary for keys, so only say it when it matters.
    headers: rows.length > 1 ? { Vary: "Accept" } : {},
    get: (options) => open(row, options),
  });
}

/** Signed delivery, mounted at `/d`: `/d/{id}/{revision}/{variant}?kid&exp&sig`. */
export const signedDeliveryApp = new Hono<AppEnv>().get(
  "/:id/:revision{[0-9]{1,9}}/:variant",
  requireSignature("view"),
  async (c) => {
    const { id, variant } = c.req.param();
    if (!isImageId(id) || !isVariantName(variant)) throw new ApiError("image_not_found");
    const candidates = orThrow(
      await signedVariant(c.get("services").deps, {
        imageId: id,
        revision: Number(c.req.param("revision")),
        variant,
      }),
    );
    // The revision is in the path, so these bytes never change for this URL.
    const maxAge = Math.max(0, Number(c.req.query("exp")) - Math.floor(Date.now() / 1000));
    return serveVariant(c.req.raw, candidates, `private, max-age=${maxAge}`);
  },
);

/** Public delivery, mounted at `/i`: `/i/{id}/{variant}` for public images only. */
export const publicDeliveryApp = new Hono<AppEnv>().get("/:id/:variant", async (c) => {
  const { id, variant } = c.req.param();
  if (!isImageId(id) || !isVariantName(variant)) throw new ApiError("image_not_found");
  const candidates = orThrow(await publicVariant(c.get("services").deps, { imageId: id, variant }));
  return serveVariant(
    c.req.raw,
    candidates,
    "public, max-age=86400, stale-while-revalidate=604800",
  );
});
