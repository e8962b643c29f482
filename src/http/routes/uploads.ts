import { Hono } from "hono";
import { ApiError } from "../../domain/errors";
import { isImageId } from "../../domain/ids";
import { acceptUpload } from "../../use-cases/accept-upload";
import type { AppEnv } from "../context";
import { requireSignature } from "../middleware";
import { orThrow } from "../outcome";
import { presentImage } from "../present";

/** Parses a Content-Length header strictly; null when absent or malformed. */
function contentLength(value: string | undefined): number | null {
  if (value === undefined || !/^\d{1,15}$/.test(value)) return null;
  return Number(value);
}

/** `PUT /upload/{id}` (mounted at `/upload`): the pre-signed, single-use upload target. */
export const uploadsApp = new Hono<AppEnv>().put("/:id", requireSignature("upload"), async (c) => {
  const { config, deps } = c.get("services");
  const imageId = c.req.param("id");
  if (!isImageId(imageId)) throw new ApiError("signature_invalid");
  const length = contentLength(c.req.header("Content-Length"));
  if (length === null) throw new ApiError("length_required");
  // Checked before a byte is read, then streamed straight into R2 (never buffered here).
  const image = orThrow(
    await acceptUpload(deps, {
      imageId,
      length,
      body: c.req.raw.body,
      maxUploadBytes: config.maxUploadBytes,
    }),
  );
  return c.json(presentImage(image, [], new URL(c.req.url).origin));
});
