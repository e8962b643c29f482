import { canManage, type Principal } from "../domain/access";
import type { Policy } from "../domain/policy";
import { fail, type Outcome, ok } from "../domain/result";
import type { ImageRow } from "../storage/schema";
import type { Deps } from "./deps";
import { queueStoredUpload } from "./enqueue-processing";

/** What the resumable-upload use cases use. */
export type ResumableDeps = Pick<Deps, "images" | "store" | "events" | "now" | "log" | "metrics">;

/** What claiming a slot needs on top: the owner's account and policy. */
export type ClaimDeps = ResumableDeps & Pick<Deps, "control" | "policy">;

/** A claimed upload slot: the session may now receive bytes until `expiresAt`. */
export interface ResumableClaim {
  image: ImageRow;
  claim: number;
  expiresAt: number;
  /** The owner's policy: the session refuses formats and sizes it does not allow. */
  policy: Policy;
}

/**
 * Gives a pending image's upload slot to a new resumable session (its owner only), after the
 * cheap checks: a declared length over the limit or unlike the size declared at creation.
 */
export async function claimResumableUpload(
  deps: ClaimDeps,
  input: {
    principal: Principal;
    imageId: string;
    uploadId: string;
    length: number;
    maxBytes: number;
    ttlSeconds: number;
  },
): Promise<Outcome<ResumableClaim>> {
  const image = await deps.images.get(input.imageId);
  if (!image || !canManage(image, input.principal)) return fail("image_not_found");
  if (await deps.control.isSuspended(image.ownerId)) {
    return fail("account_suspended", "This account is suspended.");
  }
  const policy = await deps.policy(image.ownerId);
  const maxBytes = Math.min(input.maxBytes, policy.maxUploadBytes);
  if (input.length < 1) return fail("bad_request", "The upload is empty.");
  if (input.length > maxBytes) {
    return fail("upload_too_large", `Resumable uploads are limited to ${maxBytes} bytes.`);
  }
  if (image.declaredSize !== null && input.length !== image.declaredSize) {
    return fail("size_mismatch", `Declared ${image.declaredSize} bytes, not ${input.length}.`);
  }
  const now = deps.now();
  const expiresAt = now + input.ttlSeconds * 1000;
  const storage = {
    ownerId: image.ownerId,
    length: input.length,
    maxStorageBytes: policy.maxStorageBytes,
  };
  const claim = await deps.images.claimResumable(image.id, input.uploadId, expiresAt, now, storage);
  if (claim === null) {
    if (await deps.images.overStorage(image.id, storage)) {
      return fail(
        "quota_exceeded",
        `maxStorageBytes: at most ${policy.maxStorageBytes} bytes stored.`,
      );
    }
    return fail("upload_already_used", `The image is ${image.status}.`);
  }
  deps.metrics.record({ name: "upload.resumable", outcome: "started", imageId: image.id });
  return ok({ image, claim, expiresAt, policy });
}

/** Gives the slot back from a session that ended without an upload (terminated, refused, expired). */
export async function releaseResumableUpload(
  deps: ResumableDeps,
  input: { imageId: string; uploadId: string; why: string },
): Promise<void> {
  await deps.images.releaseResumable(input.imageId, input.uploadId, deps.now());
  deps.metrics.record({ name: "upload.resumable", outcome: input.why, imageId: input.imageId });
}

/**
 * After the parts are joined into the raw upload: the image becomes `uploaded` and its
 * processing is queued, once. A retry after a crash finds the image already uploaded by this
 * claim and queues nothing again (the sweeper re-sends an event that was lost); an image
 * deleted meanwhile gets its orphaned bytes removed.
 */
export async function finishResumableUpload(
  deps: ResumableDeps,
  input: { imageId: string; claim: number; size: number; startedAt: number },
): Promise<Outcome<"queued" | "already_uploaded">> {
  const { imageId, claim, size } = input;
  const updated = await deps.images.markUploaded(imageId, claim, size, deps.now());
  if (!updated) {
    const image = await deps.images.get(imageId);
    if (!image) {
      await deps.store.deleteImage(imageId);
      return fail("upload_not_found", "The image was deleted during the upload.");
    }
    if (image.status !== "pending" && image.uploadStartedAt === claim) {
      return ok("already_uploaded");
    }
    return fail("upload_already_used", "Another upload took this slot over.");
  }
  const queued = await queueStoredUpload(deps, {
    imageId,
    revision: updated.revision,
    bytes: size,
    startedAt: input.startedAt,
    path: "uploaded_resumable",
  });
  return queued.ok ? ok("queued") : queued;
}
