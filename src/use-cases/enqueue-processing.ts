import { fail, type Outcome, ok } from "../domain/result";
import type { Deps } from "./deps";

/**
 * Queues processing of a stored revision. If the queue refuses, the image ends `failed` with
 * `enqueue_failed` (which :reprocess restarts) and the caller gets `queue_unavailable`. If even
 * that write fails, the image stays `uploaded` and the sweeper re-sends it.
 */
export async function enqueueProcessing(
  deps: Pick<Deps, "images" | "events" | "now" | "log">,
  imageId: string,
  revision: number,
): Promise<Outcome<void>> {
  try {
    await deps.events.send({
      type: "ImageUploaded",
      v: 1,
      imageId,
      revision,
      uploadedAt: deps.now(),
    });
    return ok(undefined);
  } catch (err) {
    deps.log.error("enqueue_failed", { imageId, code: "enqueue_failed", err });
    await deps.images.markFailed(
      imageId,
      revision,
      "enqueue_failed",
      "Could not queue processing; call :reprocess.",
      deps.now(),
    );
    return fail("queue_unavailable");
  }
}

/** Queues a stored upload's processing and records the upload (`image.upload`) either way. */
export async function queueStoredUpload(
  deps: Pick<Deps, "images" | "events" | "now" | "log" | "metrics">,
  upload: { imageId: string; revision: number; bytes: number; startedAt: number; path: string },
): Promise<Outcome<void>> {
  const queued = await enqueueProcessing(deps, upload.imageId, upload.revision);
  deps.metrics.record({
    name: "image.upload",
    outcome: queued.ok ? upload.path : "enqueue_failed",
    ms: deps.now() - upload.startedAt,
    bytes: upload.bytes,
    imageId: upload.imageId,
  });
  return queued;
}
