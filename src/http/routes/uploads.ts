import { Hono } from "hono";
import { ApiError } from "../../domain/errors";
import { isImageId } from "../../domain/ids";
import type { AppEnv } from "../context";
import { enqueueProcessing } from "../enqueue-processing";
import { requireSignature } from "../middleware";
import { presentImage } from "../present";

/** Parses a Content-Length header strictly; null when absent or malformed. */
function contentLength(value: string | undefined): number | null {
  if (value === undefined || !/^\d{1,15}$/.test(value)) return null;
  return Number(value);
}

/** `PUT /upload/{id}` (mounted at `/upload`): the pre-signed, single-use upload target. */
export const uploadsApp = new Hono<AppEnv>().put("/:id", requireSignature("upload"), async (c) => {
  const { config, images, store } = c.get("services");
  const id = c.req.param("id");
  if (!isImageId(id)) throw new ApiError("signature_invalid");

  const length = contentLength(c.req.header("Content-Length"));
  if (length === null) throw new ApiError("length_required");
  if (length === 0) throw new ApiError("bad_request", "The upload is empty.");
  if (length > config.maxUploadBytes) {
    throw new ApiError("upload_too_large", `The limit is ${config.maxUploadBytes} bytes.`);
  }
  const image = await images.get(id);
  if (!image) throw new ApiError("image_not_found");
  if (image.declaredSize !== null && length !== image.declaredSize) {
    throw new ApiError("size_mismatch", `Declared ${image.declaredSize} bytes, sent ${length}.`);
  }
  const body = c.req.raw.body;
  if (!body) throw new ApiError("bad_request", "The upload has no body.");

  const claim = await images.claimUpload(id, Date.now());
  if (claim === null) {
    throw new ApiError("upload_already_used", `The image is ${image.status}.`);
  }
  let stored: R2Object;
  try {
    // Streamed straight into R2: the body is never buffered in the isolate.
    stored = await store.putUpload(id, body, "application/octet-stream");
  } catch (err) {
    await images.releaseUpload(id, claim, Date.now());
    console.warn(JSON.stringify({ level: "warn", msg: "upload failed", id, err: String(err) }));
    throw new ApiError("bad_request", "The upload did not complete; retry the same URL.");
  }
  const updated = await images.markUploaded(id, claim, stored.size, Date.now());
  if (!updated) {
    // Deleted meanwhile: our bytes are an orphan. Otherwise a later claim took the slot over
    // and owns the object now; leave it alone.
    if (!(await images.get(id))) {
      await store.deleteImage(id);
      throw new ApiError("image_not_found");
    }
    throw new ApiError("upload_already_used", "Another upload took this slot over.");
  }
  await enqueueProcessing(c.get("services"), id, updated.revision);
  return c.json(presentImage(updated));
});
