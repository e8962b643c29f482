import type { ImageRow, VariantRow } from "../storage/schema";

/** The public JSON shape of an image. */
export function presentImage(image: ImageRow, variants: readonly VariantRow[] = []) {
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
