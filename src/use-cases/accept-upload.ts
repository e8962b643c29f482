import type { Policy } from "../domain/policy";
import { fail, type Outcome, ok } from "../domain/result";
import type { ImageRow } from "../storage/schema";
import type { Deps } from "./deps";
import { queueStoredUpload } from "./enqueue-processing";

/** One single-`PUT` upload: its target, its declared length and its streamed body. */
export interface UploadInput {
  imageId: string;
  length: number;
  /** Null when the request has none (refused after the cheaper checks). */
  body: ReadableStream | null;
  maxUploadBytes: number;
}

/** Checks an upload before any byte is read, so a refusal can answer and close at once. */
async function checkUpload(
  deps: Pick<Deps, "images" | "control" | "policy">,
  input: Omit<UploadInput, "body">,
): Promise<Outcome<{ image: ImageRow; policy: Policy }>> {
  if (input.length === 0) return fail("bad_request", "The upload is empty.");
  if (input.length > input.maxUploadBytes) {
    return fail("upload_too_large", `The limit is ${input.maxUploadBytes} bytes.`);
  }
  const image = await deps.images.get(input.imageId);
  if (!image) return fail("image_not_found");
  if (await deps.control.isSuspended(image.ownerId)) {
    return fail("account_suspended", "This account is suspended.");
  }
  const policy = await deps.policy(image.ownerId);
  if (input.length > policy.maxUploadBytes) {
    return fail("upload_too_large", `The limit is ${policy.maxUploadBytes} bytes.`);
  }
  if (image.declaredSize !== null && input.length !== image.declaredSize) {
    return fail("size_mismatch", `Declared ${image.declaredSize} bytes, sent ${input.length}.`);
  }
  return ok({ image, policy });
}

/**
 * Streams an upload into R2 (never buffered in the isolate), moves the image to `uploaded`
 * and queues its processing. One upload holds the slot at a time (a claim token).
 */
export async function acceptUpload(deps: Deps, input: UploadInput): Promise<Outcome<ImageRow>> {
  const started = deps.now();
  const checked = await checkUpload(deps, input);
  if (!checked.ok) return checked;
  const { image, policy } = checked.value;
  const id = image.id;
  if (!input.body) return fail("bad_request", "The upload has no body.");
  // The storage quota is checked inside the claim: racing uploads cannot pass it together.
  const storage = {
    ownerId: image.ownerId,
    length: input.length,
    maxStorageBytes: policy.maxStorageBytes,
  };
  const claim = await deps.images.claimUpload(id, deps.now(), storage);
  if (claim === null) {
    if (await deps.images.overStorage(id, storage)) {
      return fail(
        "quota_exceeded",
        `maxStorageBytes: at most ${policy.maxStorageBytes} bytes stored.`,
      );
    }
    return fail("upload_already_used", `The image is ${image.status}.`);
  }
  let size: number;
  try {
    size = (await deps.store.putUpload(id, input.body, "application/octet-stream")).size;
  } catch (err) {
    await deps.images.releaseUpload(id, claim, deps.now());
    deps.log.warn("upload_failed", { imageId: id, err });
    deps.metrics.record({ name: "image.upload", outcome: "transfer_failed", imageId: id });
    return fail("bad_request", "The upload did not complete; retry the same URL.");
  }
  const updated = await deps.images.markUploaded(id, claim, size, deps.now());
  if (!updated) {
    // Deleted meanwhile: our bytes are an orphan. Otherwise a later claim took the slot over
    // and owns the object now; leave it alone.
    if (!(await deps.images.get(id))) {
      await deps.store.deleteImage(id);
      return fail("image_not_found");
    }
    return fail("upload_already_used", "Another upload took this slot over.");
  }
  const queued = await queueStoredUpload(deps, {
    imageId: id,
    revision: updated.revision,
    bytes: size,
    startedAt: started,
    path: "uploaded",
  });
  return queued.ok ? ok(updated) : queued;
}
