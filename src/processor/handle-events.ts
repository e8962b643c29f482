import type { ImageDeleted, ImageEvent, ImageUploaded } from "../pipeline/messages";
import type { Result, TransformError, TransformOutput } from "../pipeline/types";
import type { ImageRepository } from "../storage/image-repository";
import type { ObjectStore } from "../storage/object-store";

/** Runs the WASM transform on one upload. */
export type TransformFn = (bytes: Uint8Array) => Promise<Result<TransformOutput, TransformError>>;

/** What the processor needs; built once per batch. */
export interface ProcessorDeps {
  images: ImageRepository;
  store: ObjectStore;
  transform: TransformFn;
  now: () => number;
  log: (entry: Record<string, unknown>) => void;
}

/** How one event ended; anything thrown instead is transient and retried. */
export type Outcome = "ready" | "failed" | "duplicate" | "stale" | "purged";

/** Processes an uploaded image into variants; idempotent under redelivery and concurrency. */
export async function handleImageUploaded(
  event: ImageUploaded,
  deps: ProcessorDeps,
): Promise<Outcome> {
  const { images, store } = deps;
  const startedAt = deps.now();
  const claimed = await images.claimProcessing(event.imageId, event.revision, startedAt);
  if (!claimed) {
    const current = await images.get(event.imageId);
    const duplicate = current?.revision === event.revision && current.status === "ready";
    return duplicate ? "duplicate" : "stale";
  }
  const upload = await store.readUpload(event.imageId);
  if (!upload) {
    await images.markFailed(
      event.imageId,
      event.revision,
      "upload_missing",
      "The uploaded file is gone.",
      deps.now(),
    );
    return "failed";
  }
  const result = await deps.transform(upload);
  if (!result.ok) {
    await images.markFailed(
      event.imageId,
      event.revision,
      result.error.code,
      result.error.detail,
      deps.now(),
    );
    deps.log({ msg: "image failed", id: event.imageId, code: result.error.code });
    return "failed";
  }
  const out = result.value;
  const renditions = [out.original, ...out.variants];
  const stored = [];
  // Sequential puts keep only one upload in flight; the bytes are already in memory.
  for (const r of renditions) {
    const etag = await store.putVariant(
      event.imageId,
      event.revision,
      r.name,
      r.format,
      r.bytes,
      r.contentType,
    );
    stored.push({
      name: r.name,
      format: r.format,
      contentType: r.contentType,
      width: r.width,
      height: r.height,
      bytes: r.bytes.byteLength,
      etag,
    });
  }
  const finishedAt = deps.now();
  const completed = await images.completeProcessing(
    event.imageId,
    event.revision,
    {
      format: out.probe.format,
      contentType: out.original.contentType,
      width: out.width,
      height: out.height,
      placeholder: out.placeholder,
      dominantColor: out.dominantColor,
      timings: {
        queueWaitMs: Math.max(0, startedAt - event.uploadedAt),
        decodeMs: out.timings.decodeMs,
        resizeMs: out.timings.resizeMs,
        encodeMs: out.timings.encodeMs,
        transformMs: out.timings.totalMs,
        totalMs: finishedAt - startedAt,
      },
      variants: stored,
    },
    finishedAt,
  );
  if (completed) {
    if (event.revision > 1) await store.deleteRevision(event.imageId, event.revision - 1);
    deps.log({
      msg: "image ready",
      id: event.imageId,
      revision: event.revision,
      ms: finishedAt - startedAt,
    });
    return "ready";
  }
  // Lost a race: a concurrent run already finished (same keys, nothing to undo), or the
  // image was deleted or reprocessed meanwhile (our objects are orphans).
  const current = await images.get(event.imageId);
  if (current?.revision === event.revision && current.status === "ready") return "duplicate";
  if (!current) {
    await store.deleteImage(event.imageId);
    await images.purge(event.imageId);
  } else if (current.revision !== event.revision) {
    await store.deleteRevision(event.imageId, event.revision);
  }
  return "stale";
}

/** Finishes a deletion the edge could not complete inline. */
export async function handleImageDeleted(
  event: ImageDeleted,
  deps: ProcessorDeps,
): Promise<Outcome> {
  await deps.store.deleteImage(event.imageId);
  await deps.images.purge(event.imageId);
  return "purged";
}

/** Dispatches one event from the main queue. */
export function handleEvent(event: ImageEvent, deps: ProcessorDeps): Promise<Outcome> {
  switch (event.type) {
    case "ImageUploaded":
      return handleImageUploaded(event, deps);
    case "ImageDeleted":
      return handleImageDeleted(event, deps);
  }
}

/** Handles an event that exhausted its retries: the image ends `failed`, never stuck. */
export async function handleDeadLetter(event: ImageEvent, deps: ProcessorDeps): Promise<Outcome> {
  if (event.type === "ImageDeleted") return handleImageDeleted(event, deps);
  const marked = await deps.images.markFailed(
    event.imageId,
    event.revision,
    "processing_failed",
    "Processing kept failing with a transient error; call :reprocess to try again.",
    deps.now(),
  );
  deps.log({ msg: "dead letter", id: event.imageId, marked });
  return "failed";
}
