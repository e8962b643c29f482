import { canManage, type Principal } from "./access";
/** Who may see an image. */
export type Visibility = "public" | "unlisted" | "private";

/** Lifecycle of an image: declared once in lifecycle.ts. */
export type { ImageStatus } from "./lifecycle";

/** Variant names a client may ask for. */
export const VARIANT_NAMES = ["thumb", "medium", "large", "original"] as const;
export type VariantName = (typeof VARIANT_NAMES)[number];

/**
 * Whether `viewer` may view an image: owner and admins always; anyone for public/unlisted
 * images that moderation allows (one under review or blocked is its owner's alone).
 */
export function canView(
  image: { ownerId: string; visibility: Visibility; moderation: string },
  viewer: Pick<Principal, "userId" | "admin"> | null,
): boolean {
  if (canManage(image, viewer)) return true;
  if (image.moderation !== "allowed") return false;
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

/** Formats a client may force with `?format=`. */
export const FORCEABLE_FORMATS = ["avif", "webp", "jpeg", "png"] as const;
export type ForceableFormat = (typeof FORCEABLE_FORMATS)[number];

/**
 * What a client decodes, reduced to what can change our choice: whether it takes AVIF and
 * whether it takes WebP. JPEG, PNG and GIF count as always decodable (every image client
 * reads them; a client that refuses everything still gets an image, never a 406), so two
 * Accept headers of one class always get the same rendition: the class, never the raw
 * header, goes into cache keys.
 */
export type FormatClass = "avif-webp" | "avif" | "webp" | "basic";

/** Every format class, for enumerating cache keys. */
export const FORMAT_CLASSES: readonly FormatClass[] = ["avif-webp", "avif", "webp", "basic"];

/** Media types with their q-values from an Accept header (q=0 means "not acceptable"). */
function acceptQualities(accept: string | null): Map<string, number> {
  const q = new Map<string, number>();
  // A real Accept is a few hundred bytes; a hostile one is not parsed past this.
  for (const part of (accept ?? "").slice(0, 4096).toLowerCase().split(",")) {
    const [type = "", ...params] = part.split(";").map((p) => p.trim());
    if (type === "") continue;
    const qParam = params.find((p) => p.startsWith("q="));
    const value = qParam ? Number(qParam.slice(2)) : 1;
    q.set(type, Number.isFinite(value) ? value : 0);
  }
  return q;
}

/**
 * The format class of an Accept header. AVIF and WebP count only when named explicitly with
 * q > 0: a wildcard does not promise a decoder for them.
 */
export function formatClass(accept: string | null): FormatClass {
  const q = acceptQualities(accept);
  const named = (type: string) => (q.get(type) ?? 0) > 0;
  const avif = named("image/avif");
  const webp = named("image/webp");
  if (avif && webp) return "avif-webp";
  if (avif) return "avif";
  return webp ? "webp" : "basic";
}

/** Picks the stored format to serve to a client of format class `cls`: smallest it decodes. */
export function negotiateFormat(available: readonly string[], cls: FormatClass): string | null {
  const decodes = (format: string): boolean => {
    if (format === "avif") return cls === "avif-webp" || cls === "avif";
    if (format === "webp") return cls === "avif-webp" || cls === "webp";
    return true;
  };
  for (const f of FORMAT_PREFERENCE) {
    if (available.includes(f) && decodes(f)) return f;
  }
  // Only modern formats exist: WebP is the one more clients decode.
  return available.includes("webp") ? "webp" : (available[0] ?? null);
}

/** How a rendition is picked: negotiated for a format class, or forced by `?format=`. */
export type FormatChoice =
  | { kind: "negotiate"; cls: FormatClass }
  | { kind: "forced"; format: ForceableFormat };

/** Every format choice, for enumerating cache keys. */
export const FORMAT_CHOICES: readonly FormatChoice[] = [
  ...FORMAT_CLASSES.map((cls) => ({ kind: "negotiate", cls }) as const),
  ...FORCEABLE_FORMATS.map((format) => ({ kind: "forced", format }) as const),
];

/** The stored format a choice serves; null when a forced format is not stored. */
export function chooseFormat(available: readonly string[], choice: FormatChoice): string | null {
  if (choice.kind === "negotiate") return negotiateFormat(available, choice.cls);
  return available.includes(choice.format) ? choice.format : null;
}
