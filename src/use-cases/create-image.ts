import { newImageId } from "../domain/ids";
import type { Visibility } from "../domain/images";
import { type Policy, secondsUntilNextDay, utcDay } from "../domain/policy";
import { fail, type Outcome, ok, rateLimited } from "../domain/result";
import { normaliseTags } from "../domain/tags";
import type { ImageRow } from "../storage/schema";
import type { Deps } from "./deps";
import { HELD_UNTIL_CLASSIFIED, NEW_ACCOUNT_REVIEW } from "./moderation";
import { requestIndexing } from "./search-index";

/** What a client may say about an image before uploading it. */
export interface NewImage {
  title?: string | undefined;
  description?: string | undefined;
  /** Absent: the owner's policy's default. */
  visibility?: Visibility | undefined;
  filename?: string | undefined;
  contentType?: string | undefined;
  size?: number | undefined;
  /** As given: normalised here (domain/tags.ts). */
  tags?: readonly string[] | undefined;
}

/**
 * Creates a `pending` image owned by `ownerId`; its bytes come through the upload URL. The
 * owner's policy decides: a suspended account creates nothing, the image count and the images
 * a day are quotas checked atomically, a declared size over the limit is refused, the default
 * visibility applies, and a new account's burst of uploads is held for review.
 */
export async function createImage(
  deps: Pick<Deps, "images" | "events" | "now" | "metrics" | "log" | "control" | "policy">,
  input: { ownerId: string; image: NewImage; maxUploadBytes: number },
): Promise<Outcome<ImageRow>> {
  const { image } = input;
  const now = deps.now();
  const account = await deps.control.account(input.ownerId, now);
  if (account.suspendedAt !== null) return fail("account_suspended", "This account is suspended.");
  const policy = await deps.policy(input.ownerId);
  const maxBytes = Math.min(input.maxUploadBytes, policy.maxUploadBytes);
  if (image.size !== undefined && image.size > maxBytes) {
    return fail("upload_too_large", `The limit is ${maxBytes} bytes.`);
  }
  const tags = normaliseTags(image.tags ?? []);
  if (!tags.ok) return tags;
  const review = await heldForReview(deps, input.ownerId, account.createdAt, policy, now);
  const row = await deps.images.create(
    {
      id: newImageId(),
      ownerId: input.ownerId,
      title: image.title ?? null,
      description: image.description ?? null,
      visibility: image.visibility ?? policy.defaultVisibility,
      ...moderationAtCreation(review, policy.holdUntilClassified, now),
      filename: image.filename ?? null,
      declaredContentType: image.contentType ?? null,
      declaredSize: image.size ?? null,
      createdAt: now,
      updatedAt: now,
    },
    tags.value,
    { maxImages: policy.maxImages },
  );
  if (!row) {
    deps.metrics.record({ name: "quota", outcome: "max_images" });
    return fail("quota_exceeded", `maxImages: at most ${policy.maxImages} images.`);
  }
  const day = utcDay(now);
  if (!(await deps.control.countIfBelow(`upload:${input.ownerId}`, day, policy.uploadsPerDay))) {
    await deps.images.purge(row.id);
    deps.metrics.record({ name: "quota", outcome: "uploads_per_day" });
    return rateLimited(
      `uploadsPerDay: at most ${policy.uploadsPerDay} images a day.`,
      secondsUntilNextDay(now),
    );
  }
  // Its title, description and tags are searchable from the start.
  if (row.title !== null || row.description !== null || tags.value.length > 0) {
    await requestIndexing(deps, { kind: "images", imageIds: [row.id] });
  }
  deps.metrics.record({
    name: "image.create",
    outcome: review ? "held_for_review" : "created",
    imageId: row.id,
  });
  return ok(row);
}

/** The state a new image starts in: held for the new-account rule, for the classifier, or allowed. */
function moderationAtCreation(review: boolean, holdUntilClassified: boolean, now: number) {
  if (review) {
    return {
      moderation: "pending_review" as const,
      moderationReason: NEW_ACCOUNT_REVIEW,
      moderationUpdatedAt: now,
    };
  }
  if (holdUntilClassified) {
    return {
      moderation: "pending_review" as const,
      moderationReason: HELD_UNTIL_CLASSIFIED,
      moderationUpdatedAt: now,
    };
  }
  return { moderation: "allowed" as const };
}

/** Whether a new account is past its policy's upload burst (its next images wait for review). */
async function heldForReview(
  deps: Pick<Deps, "images">,
  ownerId: string,
  accountCreatedAt: number,
  policy: Policy,
  now: number,
): Promise<boolean> {
  const rule = policy.newAccountReview;
  if (!rule || now - accountCreatedAt > rule.accountAgeHours * 3600_000) return false;
  return (await deps.images.createdSince(ownerId, now - 3600_000)) >= rule.uploadsPerHour;
}
