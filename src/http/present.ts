import { isPubliclyServable } from "../domain/images";
import { stringList } from "../domain/json-list";
import { mayAppeal } from "../domain/moderation";
import type { ImageWithVariants } from "../storage/image-repository";
import type { AlbumRow, ImageRow, VariantRow } from "../storage/schema";

/**
 * The public delivery URLs of each variant of a public image: `url` is revisioned and
 * immutable (embed this one), `stableUrl` always serves the current revision (short TTL).
 * Null while the image is not public or has nothing served yet.
 */
function publicUrls(image: ImageRow, variants: readonly VariantRow[], origin: string) {
  if (!isPubliclyServable(image) || image.servedRevision === null) return null;
  const urls: Record<string, { url: string; stableUrl: string }> = {};
  for (const name of new Set(variants.map((v) => v.name))) {
    urls[name] = {
      url: `${origin}/i/${image.id}/${image.servedRevision}/${name}`,
      stableUrl: `${origin}/i/${image.id}/${name}`,
    };
  }
  return urls;
}

/** A Unix-ms time as ISO 8601, or null. */
export function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/** The public JSON shape of an image; `origin` is the service's, for its URLs. */
export function presentImage(image: ImageRow, variants: readonly VariantRow[], origin: string) {
  return {
    id: image.id,
    status: image.status,
    title: image.title,
    description: image.description,
    visibility: image.visibility,
    moderation: image.moderation,
    tags: stringList(image.tags),
    filename: image.filename,
    contentType: image.contentType,
    format: image.format,
    bytes: image.bytes,
    width: image.width,
    height: image.height,
    revision: image.revision,
    placeholder: image.placeholder,
    dominantColor: image.dominantColor,
    colour: image.colour,
    originalRepairs: stringList(image.originalRepairs),
    variants: variants.map((v) => ({
      name: v.name,
      format: v.format,
      contentType: v.contentType,
      width: v.width,
      height: v.height,
      bytes: v.bytes,
    })),
    publicUrls: publicUrls(image, variants, origin),
    ...(image.status === "failed"
      ? { failure: { code: image.failureCode, detail: image.failureDetail } }
      : {}),
    // Only its owner and admins can read an image that is not allowed: they see why.
    ...(image.moderation !== "allowed"
      ? {
          moderationDetail: {
            reason: image.moderationReason,
            decidedAt: isoOrNull(image.moderationUpdatedAt),
            appealedAt: isoOrNull(image.appealedAt),
            canAppeal: mayAppeal(image),
          },
        }
      : {}),
    createdAt: new Date(image.createdAt).toISOString(),
    updatedAt: new Date(image.updatedAt).toISOString(),
  };
}

/** The JSON shape of an album; `view` adds a page of its images. */
export function presentAlbum(
  album: AlbumRow,
  origin: string,
  view?: { imageCount: number | null; images: ImageWithVariants[]; nextCursor: string | null },
) {
  return {
    id: album.id,
    title: album.title,
    description: album.description,
    visibility: album.visibility,
    coverImageId: album.coverImageId,
    createdAt: new Date(album.createdAt).toISOString(),
    updatedAt: new Date(album.updatedAt).toISOString(),
    ...(view
      ? {
          imageCount: view.imageCount,
          images: {
            items: view.images.map((i) => presentImage(i.image, i.variants, origin)),
            nextCursor: view.nextCursor,
          },
        }
      : {}),
  };
}
