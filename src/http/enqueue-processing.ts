import { ApiError } from "../domain/errors";
import type { ImageUploaded } from "../pipeline/messages";
import type { Services } from "./context";

/**
 * Queues processing of a stored upload. If the queue refuses, the image ends `failed` with
 * `enqueue_failed` (which :reprocess restarts) and the caller gets a 503. If even that write
 * fails, the image stays `uploaded` until :reprocess accepts it as stale.
 */
export async function enqueueProcessing(
  services: Pick<Services, "images" | "events">,
  imageId: string,
  revision: number,
): Promise<void> {
  const event: ImageUploaded = {
    type: "ImageUploaded",
    v: 1,
    imageId,
    revision,
    uploadedAt: Date.now(),
  };
  try {
    await services.events.send(event, { contentType: "json" });
  } catch (err) {
    await services.images.markFailed(
      imageId,
      revision,
      "enqueue_failed",
      "Could not queue processing; call :reprocess.",
      Date.now(),
    );
    console.error(
      JSON.stringify({ level: "error", msg: "enqueue failed", imageId, err: String(err) }),
    );
    throw new ApiError("queue_unavailable");
  }
}
