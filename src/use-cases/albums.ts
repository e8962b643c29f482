import { canManage, type Principal } from "../domain/access";
import { newImageId } from "../domain/ids";
import { canView, type Visibility } from "../domain/images";
import { fail, type Outcome, ok } from "../domain/result";
import type { AlbumImagePage, AlbumRepository } from "../storage/album-repository";
import type { ImageWithVariants } from "../storage/image-repository";
import type { AlbumRow } from "../storage/schema";
import type { Deps } from "./deps";
import { requestIndexing } from "./search-index";

/** What the album use cases use. */
export type AlbumDeps = Pick<Deps, "images" | "events" | "now" | "metrics" | "log" | "control"> & {
  albums: AlbumRepository;
};

/** The fields of an album its owner sets. */
export interface AlbumFields {
  title?: string | undefined;
  description?: string | null | undefined;
  visibility?: Visibility | undefined;
  coverImageId?: string | null | undefined;
}

/** An album with a page of the images its viewer may see. */
export interface AlbumView {
  album: AlbumRow;
  /** How many images it holds; only for its owner (others see the page they may see). */
  imageCount: number | null;
  images: ImageWithVariants[];
  nextCursor: string | null;
}

/** Who may see an album: its owner and admins always; anyone when public or unlisted. */
function canSeeAlbum(album: AlbumRow, principal: Principal | null): boolean {
  return album.visibility !== "private" || canManage(album, principal);
}

async function ownAlbum(
  deps: AlbumDeps,
  albumId: string,
  principal: Principal,
): Promise<AlbumRow | null> {
  const album = await deps.albums.get(albumId);
  return album && canManage(album, principal) ? album : null;
}

/** Whether every image is the caller's (an admin may use any): the cover and added images. */
async function ownImages(deps: AlbumDeps, ids: readonly string[], principal: Principal) {
  const rows = await deps.images.getMany(ids);
  return rows.length === new Set(ids).size && rows.every((row) => canManage(row, principal));
}

/** Creates an album for the caller. */
export async function createAlbum(
  deps: AlbumDeps,
  input: { principal: Principal; fields: AlbumFields & { title: string } },
): Promise<Outcome<AlbumRow>> {
  const { fields, principal } = input;
  if (fields.coverImageId && !(await ownImages(deps, [fields.coverImageId], principal))) {
    return fail("image_not_found", "The cover must be one of your images.");
  }
  const now = deps.now();
  const album: AlbumRow = {
    id: newImageId(),
    ownerId: principal.userId,
    title: fields.title,
    description: fields.description ?? null,
    visibility: fields.visibility ?? "private",
    coverImageId: fields.coverImageId ?? null,
    shareVersion: 1,
    createdAt: now,
    updatedAt: now,
  };
  await deps.albums.create(album);
  deps.metrics.record({ name: "album.create", outcome: "created" });
  return ok(album);
}

/**
 * An album and a page of its images, for its owner (all of them) or, when the album is
 * public or unlisted, anyone (the images they may see: a private image stays hidden).
 */
export async function getAlbum(
  deps: AlbumDeps,
  input: { principal: Principal | null; albumId: string; limit: number; cursor: string | null },
): Promise<Outcome<AlbumView>> {
  const album = await deps.albums.get(input.albumId);
  if (!album || !canSeeAlbum(album, input.principal)) return fail("album_not_found");
  if (!canManage(album, input.principal) && (await deps.control.isSuspended(album.ownerId))) {
    return fail("album_not_found");
  }
  const page = await deps.albums.images(album.id, input.limit, input.cursor);
  const owner = canManage(album, input.principal);
  return ok(
    await viewOf(deps, album, page, owner, (image) => owner || canView(image, input.principal)),
  );
}

/** An album's view with every image of the page shown (share links, which grant them all). */
export async function albumPage(
  deps: AlbumDeps,
  album: AlbumRow,
  limit: number,
  cursor: string | null,
): Promise<AlbumView> {
  // A share page shows what moderation allows; the rest is its owner's to see.
  const page = await deps.albums.images(album.id, limit, cursor);
  return viewOf(deps, album, page, true, (image) => image.moderation === "allowed");
}

async function viewOf(
  deps: AlbumDeps,
  album: AlbumRow,
  page: AlbumImagePage,
  counted: boolean,
  visible: (image: ImageWithVariants["image"]) => boolean,
): Promise<AlbumView> {
  const shown = page.items.filter(visible);
  const variants = await deps.images.servedVariantsOf(shown);
  return {
    album,
    imageCount: counted ? await deps.albums.imageCount(album.id) : null,
    images: shown.map((image) => ({ image, variants: variants.get(image.id) ?? [] })),
    nextCursor: page.nextCursor,
  };
}

/** Changes an album; a new title reaches its images' search text. */
export async function updateAlbum(
  deps: AlbumDeps,
  input: {
    principal: Principal;
    albumId: string;
    fields: AlbumFields;
    order?: string[] | undefined;
  },
): Promise<Outcome<AlbumRow>> {
  const album = await ownAlbum(deps, input.albumId, input.principal);
  if (!album) return fail("album_not_found");
  const { coverImageId } = input.fields;
  if (coverImageId && !(await deps.albums.contains(album.id, [coverImageId]))) {
    return fail("validation_failed", "coverImageId: must be an image of this album.");
  }
  const now = deps.now();
  const revokeShares = input.fields.visibility === "private" && album.visibility !== "private";
  const updated = await deps.albums.update(album.id, input.fields, now, { revokeShares });
  if (!updated) return fail("album_not_found");
  if (input.order) await deps.albums.reorder(album.id, input.order, now);
  if (input.fields.title !== undefined && input.fields.title !== album.title) {
    await requestIndexing(deps, { kind: "album", albumId: album.id });
  }
  deps.metrics.record({ name: "album.update", outcome: "updated" });
  return ok(updated);
}

/** Deletes an album; its images stay where they are. */
export async function deleteAlbum(
  deps: AlbumDeps,
  input: { principal: Principal; albumId: string },
): Promise<Outcome<null>> {
  const album = await ownAlbum(deps, input.albumId, input.principal);
  if (!album) return fail("album_not_found");
  const members = await deps.albums.memberIds(album.id);
  await deps.albums.delete(album.id);
  await requestIndexing(deps, { kind: "images", imageIds: members });
  deps.metrics.record({ name: "album.delete", outcome: "deleted" });
  return ok(null);
}

/** Adds the caller's images at the end of their album. */
export async function addAlbumImages(
  deps: AlbumDeps,
  input: { principal: Principal; albumId: string; imageIds: string[] },
): Promise<Outcome<null>> {
  const album = await ownAlbum(deps, input.albumId, input.principal);
  if (!album) return fail("album_not_found");
  const ids = [...new Set(input.imageIds)];
  if (!(await ownImages(deps, ids, input.principal))) {
    return fail("image_not_found", "Every image must be one of yours.");
  }
  await deps.albums.addImages(album.id, ids, deps.now());
  await requestIndexing(deps, { kind: "images", imageIds: ids });
  deps.metrics.record({ name: "album.add", outcome: "added", bytes: ids.length });
  return ok(null);
}

/** Takes an image out of an album (the image itself stays). */
export async function removeAlbumImage(
  deps: AlbumDeps,
  input: { principal: Principal; albumId: string; imageId: string },
): Promise<Outcome<null>> {
  const album = await ownAlbum(deps, input.albumId, input.principal);
  if (!album) return fail("album_not_found");
  if (!(await deps.albums.removeImage(album.id, input.imageId, deps.now()))) {
    return fail("image_not_found", "The image is not in this album.");
  }
  await requestIndexing(deps, { kind: "images", imageIds: [input.imageId] });
  return ok(null);
}
