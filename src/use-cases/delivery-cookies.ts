import { canManage, type Principal } from "../domain/access";
import { fail, type Outcome, ok } from "../domain/result";
import type { AlbumRepository } from "../storage/album-repository";
import type { ImageWithVariants } from "../storage/image-repository";
import type { ImageRow } from "../storage/schema";
import type { Deps } from "./deps";

/** Most images one delivery cookie names (it must stay well under the 4 KiB cookie limit). */
export const MAX_COOKIE_IMAGES = 50;

/**
 * The images a delivery cookie may name: the caller's own (any image, for an admin), each
 * with a served revision; or the first page of one of the caller's albums (a grant for the
 * album, checked per request, however many images it holds). An image or album that is
 * missing or not theirs fails the whole request, with the same 404 as one that does not exist.
 */
export async function imagesForDeliveryCookie(
  deps: Pick<Deps, "images"> & { albums: AlbumRepository },
  input: { principal: Principal; target: { imageIds: readonly string[] } | { albumId: string } },
): Promise<Outcome<ImageWithVariants[]>> {
  let images: ImageRow[];
  if ("albumId" in input.target) {
    const album = await deps.albums.get(input.target.albumId);
    if (!album || !canManage(album, input.principal)) return fail("album_not_found");
    images = (await deps.albums.images(album.id, 100, null)).items.filter(
      (image) => image.servedRevision !== null,
    );
  } else {
    const ids = [...new Set(input.target.imageIds)];
    const byId = new Map((await deps.images.getMany(ids)).map((row) => [row.id, row]));
    for (const id of ids) {
      const image = byId.get(id);
      if (!image || !canManage(image, input.principal)) {
        return fail("image_not_found", `No image ${id} of yours.`);
      }
      if (image.servedRevision === null)
        return fail("image_not_ready", `Image ${id} is not ready.`);
    }
    images = ids.flatMap((id) => byId.get(id) ?? []);
  }
  const variants = await deps.images.servedVariantsOf(images);
  return ok(images.map((image) => ({ image, variants: variants.get(image.id) ?? [] })));
}
