import { canManage, type Principal } from "../domain/access";
import { fail, type Outcome, ok } from "../domain/result";
import type { Deps } from "./deps";

/** Removes an image's objects and rows; idempotent (an absent image is already purged). */
export async function purgeImage(deps: Pick<Deps, "images" | "store">, imageId: string) {
  await deps.store.deleteImage(imageId);
  // Variant rows go with the image row (foreign key cascade).
  await deps.images.purge(imageId);
}

/**
 * Deletes an image for its owner (or an admin): hidden from every read at once, then purged.
 * If the inline purge fails the processor finishes it from an ImageDeleted event, and the
 * sweeper from the `deleted` row if even that send fails.
 */
export async function deleteImage(
  deps: Deps,
  input: { imageId: string; principal: Principal },
): Promise<Outcome<void>> {
  const started = deps.now();
  const image = await deps.images.get(input.imageId);
  if (!image || !canManage(image, input.principal)) return fail("image_not_found");
  if (!(await deps.images.markDeleted(image.id, deps.now()))) return fail("image_not_found");
  // Before the response: the next view misses the cache, reads D1 and gets a 404.
  await deps.invalidate.purge(
    { kind: "image", imageId: image.id, newestRevision: image.revision },
    "delete",
    started,
  );
  let outcome = "purged";
  try {
    await purgeImage(deps, image.id);
  } catch (err) {
    outcome = "purge_deferred";
    deps.log.warn("inline_purge_failed", { imageId: image.id, err });
    try {
      await deps.events.send({ type: "ImageDeleted", v: 1, imageId: image.id });
    } catch (sendErr) {
      deps.log.warn("purge_event_failed", { imageId: image.id, err: sendErr });
    }
  }
  deps.metrics.record({
    name: "image.delete",
    outcome,
    ms: deps.now() - started,
    imageId: image.id,
    ...(image.bytes !== null ? { bytes: image.bytes } : {}),
  });
  return ok(undefined);
}
