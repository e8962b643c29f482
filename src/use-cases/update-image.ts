import { canManage, type Principal } from "../domain/access";
import type { Visibility } from "../domain/images";
import { fail, type Outcome, ok } from "../domain/result";
import { normaliseTags } from "../domain/tags";
import type { ImageWithVariants } from "../storage/image-repository";
import type { Deps } from "./deps";
import { enqueueProcessing } from "./enqueue-processing";
import { requestIndexing } from "./search-index";

/** The editable fields of an image; null clears a text field. */
export interface ImageChanges {
  title?: string | null | undefined;
  description?: string | null | undefined;
  visibility?: Visibility | undefined;
  /** Replaces the image's tags (normalised here). */
  tags?: readonly string[] | undefined;
}

/** Changes title, description or visibility, for the owner or an admin. */
export async function updateImage(
  deps: Pick<Deps, "images" | "events" | "now" | "metrics" | "invalidate" | "log">,
  input: { imageId: string; principal: Principal; changes: ImageChanges },
): Promise<Outcome<ImageWithVariants>> {
  const startedAt = deps.now();
  const image = await deps.images.get(input.imageId);
  if (!image || !canManage(image, input.principal)) return fail("image_not_found");
  const tags = input.changes.tags === undefined ? undefined : normaliseTags(input.changes.tags);
  if (tags && !tags.ok) return tags;
  // drizzle leaves fields that are undefined out of the UPDATE.
  // Making an image private stops every share link made before (docs/api.md, "Share links").
  const revokeShares = input.changes.visibility === "private" && image.visibility !== "private";
  const updated = await deps.images.update(
    image.id,
    { ...input.changes, tags: tags ? { ownerId: image.ownerId, tags: tags.value } : undefined },
    deps.now(),
    { revokeShares },
  );
  if (!updated) return fail("image_not_found");
  // Cached views record whether the image was public: any change of visibility drops them.
  if (updated.visibility !== image.visibility) {
    await deps.invalidate.purge(
      { kind: "image", imageId: image.id, newestRevision: updated.revision },
      "visibility",
      startedAt,
    );
  }
  const { title, description, tags: newTags } = input.changes;
  if (title !== undefined || description !== undefined || newTags !== undefined) {
    await requestIndexing(deps, { kind: "images", imageIds: [image.id] });
  }
  deps.metrics.record({ name: "image.update", outcome: "updated", imageId: image.id });
  const found = await deps.images.getWithVariants(image.id);
  return ok({ image: updated, variants: found?.variants ?? [] });
}

/** Starts a new revision from the stored upload and queues it (ready, failed or stalled). */
export async function reprocessImage(
  deps: Deps,
  input: { imageId: string; principal: Principal },
): Promise<Outcome<ImageWithVariants>> {
  const image = await deps.images.get(input.imageId);
  if (!image || !canManage(image, input.principal)) return fail("image_not_found");
  const next = await deps.images.startReprocess(image.id, image.revision, deps.now());
  if (!next) {
    return fail("image_not_ready", `An image that is ${image.status} cannot be reprocessed.`);
  }
  const queued = await enqueueProcessing(deps, image.id, next.revision);
  deps.metrics.record({
    name: "image.reprocess",
    outcome: queued.ok ? "queued" : "enqueue_failed",
    imageId: image.id,
  });
  if (!queued.ok) return queued;
  const found = await deps.images.getWithVariants(image.id);
  return ok(found ?? { image: next, variants: [] });
}
