import { canManage } from "./access";
/** Who may see an image. */
export type Visibility = "public" | "unlisted" | "private";

/** Lifecycle of an image: declared once in lifecycle.ts. */
export type { ImageStatus } from "./lifecycle";

/** Variant names a client may ask for. */
export const VARIANT_NAMES = ["thumb", "medium", "large", "original"] as const;
export type VariantName = (typeof VARIANT_NAMES)[number];

/** Whether `viewer` may view an image (owner and admins always; anyone for public/unlisted). */
export function canView(
  image: { ownerId: string; visibility: Visibility; moderation: string },
  viewer: { userId: string; admin: boolean } | null,
): boolean {
  if (canManage(image, viewer)) return true;
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

/** Media types with their q-values from an Accept header (q=0 means "not acceptable"). */
function acceptQualities(accept: string | null): Map<string, number> {
  const q = new Map<string, number>();
  for (const part of (accept ?? "").toLowerCase().split(",")) {
    const [type = "", ...params] = part.split(";").map((p) => p.trim());
    if (type === "") continue;
    const qParam = params.find((p) => p.startsWith("q="));
    const value = qParam ? Number(qParam.slice(2)) : 1;
    q.set(type, Number.isFinite(value) ? value : 0);
  }
  return q;
}

/**
 * Picks the stored format to serve for a request's Accept header. AVIF and WebP only when
 * named explicitly (a wildcard does not promise a decoder for them); JPEG/PNG/GIF unless
 * refused with q=0, since every image client decodes them.
 */
export function negotiateFormat(
  available: readonly string[],
  accept: string | null,
): string | null {
  const q = acceptQualities(accept);
  const acceptable = (format: string): boolean => {
    const explicit = q.get(contentTypeFor(format));
    if (format === "avif" || format === "webp") return explicit !== undefined && explicit > 0;
    return explicit === undefined || explicit > 0;
  };
  for (const f of FORMAT_PREFERENCE) {
    if (available.includes(f) && acceptable(f)) return f;
  }
  // Nothing acceptable: serve the most compatible rendition rather than a 406 to an <img>.
  for (const f of ["jpeg", "png", "gif", "webp", "avif"]) {
    if (available.includes(f)) return f;
  }
  return available[0] ?? null;
}
