import { canManage, type Principal } from "../domain/access";
import { fail, type Outcome, ok } from "../domain/result";
import type { ImageWithVariants } from "../storage/image-repository";
import type { Deps } from "./deps";

/** Most images one delivery cookie names (it must stay well under the 4 KiB cookie limit). */
export const MAX_COOKIE_IMAGES = 50;

/**
 * The images a delivery cookie may name: the caller's own (any image, for an admin), each
 * with a served revision. One that is missing or not theirs fails the whole request, with
 * the same 404 as an image that does not exist.
 */
export async function imagesForDeliveryCookie(
  deps: Pick<Deps, "images">,
  input: { principal: Principal; imageIds: readonly string[] },
): Promise<Outcome<ImageWithVariants[]>> {
  const ids = [...new Set(input.imageIds)];
  const rows = await deps.images.getMany(ids);
  const byId = new Map(rows.map((row) => [row.id, row]));
  for (const id of ids) {
    const image = byId.get(id);
    if (!image || !canManage(image, input.principal)) {
      return fail("image_not_found", `No image ${id} of yours.`);
    }
    if (image.servedRevision === null) return fail("image_not_ready", `Image ${id} is not ready.`);
  }
  const images = ids.flatMap((id) => byId.get(id) ?? []);
  const variants = await deps.images.servedVariantsOf(images);
  return ok(images.map((image) => ({ image, variants: variants.get(image.id) ?? [] })));
}
