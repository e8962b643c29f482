import { isPubliclyServable } from "../domain/images";
import type { ImageRow, VariantRow } from "../storage/schema";

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

/** The public JSON shape of an image; `origin` is the service's, for its URLs. */
export function presentImage(image: ImageRow, variants: readonly VariantRow[], origin: string) {
  return {
    id: image.id,
    status: image.status,
    title: image.title,
    description: image.description,
    visibility: image.visibility,
    moderation: image.moderation,
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
    originalRepairs: parseRepairs(image.originalRepairs),
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
    createdAt: new Date(image.createdAt).toISOString(),
    updatedAt: new Date(image.updatedAt).toISOString(),
  };
}

/** The stored JSON array of repairs; [] for images processed before repairs were recorded. */
function parseRepairs(json: string | null): string[] {
  if (!json) return [];
  try {
    const v: unknown = JSON.parse(json);
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
  } catch {
    return [];
  }
}
