/** Who may see an image. */
export type Visibility = "public" | "unlisted" | "private";

/** Lifecycle of an image; see DESIGN.md "Status machine". */
export type ImageStatus =
  | "pending"
  | "uploading"
  | "uploaded"
  | "processing"
  | "ready"
  | "failed"
  | "deleted";

/** Variant names a client may ask for. */
export const VARIANT_NAMES = ["thumb", "medium", "large", "original"] as const;
export type VariantName = (typeof VARIANT_NAMES)[number];

/** Whether `viewerId` may view an image (the owner always; anyone for public/unlisted). */
export function canView(
  image: { ownerId: string; visibility: Visibility; moderation: string },
  viewerId: string | null,
): boolean {
  if (viewerId !== null && viewerId === image.ownerId) return true;
  if (image.moderation === "blocked") return false;
  return image.visibility === "public" || image.visibility === "unlisted";
}

/** Whether the image may be served on the stable, unsigned public URL. */
export function isPubliclyServable(image: { visibility: Visibility; moderation: string }): boolean {
  return image.visibility === "public" && image.moderation === "allowed";
}

/** Maps the format of a stored rendition to its exact Content-Type. */
export function contentTypeFor(format: string): string {
  switch (format) {
    case "jpeg":
      return "image/jpeg";
    case "png":
      return "image/png";
    case "webp":
      return "image/webp";
    case "avif":
      return "image/avif";
    case "gif":
      return "image/gif";
    case "heic":
      return "image/heic";
    default:
      return "application/octet-stream";
  }
}

/** Preference order when the client accepts several formats: smallest first. */
const FORMAT_PREFERENCE = ["avif", "webp", "jpeg", "png", "gif", "heic"] as const;

/**
 * Picks the stored format to serve for a request's Accept header. JPEG/PNG/GIF are
 * always acceptable (every image client decodes them); AVIF and WebP only when announced.
 */
export function negotiateFormat(
  available: readonly string[],
  accept: string | null,
): string | null {
  const acc = (accept ?? "").toLowerCase();
  const accepts = (f: string): boolean => {
    if (f === "avif") return acc.includes("image/avif");
    if (f === "webp") return acc.includes("image/webp");
    return true;
  };
  for (const f of FORMAT_PREFERENCE) {
    if (available.includes(f) && accepts(f)) return f;
  }
  return available[0] ?? null;
}
