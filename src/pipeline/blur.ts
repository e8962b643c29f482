import { gaussian_blur, PhotonImage } from "@cf-wasm/photon";
import type { Codecs } from "./codecs";
import type { Result, TransformError } from "./types";

/** The blurred preview's box: small, so it carries no detail and costs a few KB. */
const PREVIEW_SIDE = 96;
const BLUR_RADIUS = 6;

/**
 * The placeholder served while an image waits for review (MODERATION_PENDING_DELIVERY=blurred):
 * the thumb shrunk to 96 px, gaussian-blurred with photon (`@cf-wasm/photon`) and encoded as
 * WebP. Photon works on RGBA that our decoders produced, the use it is fit for (it traps on
 * malformed input, so it never sees undecoded bytes); at this size its memory is ~37 KB.
 */
export async function blurredPreview(
  codecs: Pick<Codecs, "decode" | "resize" | "encode">,
  bytes: Uint8Array,
  format: "jpeg" | "png" | "webp",
): Promise<Result<Uint8Array, TransformError>> {
  const decoded = await codecs.decode(bytes, format);
  if (!decoded.ok) return decoded;
  const { width, height } = decoded.value;
  const scale = Math.min(1, PREVIEW_SIDE / Math.max(width, height));
  const w = Math.max(1, Math.round(width * scale));
  const h = Math.max(1, Math.round(height * scale));
  const small = await codecs.resize(decoded.value, w, h, false);
  if (!small.ok) return small;
  const image = new PhotonImage(small.value.data, w, h);
  let pixels: Uint8Array;
  try {
    gaussian_blur(image, BLUR_RADIUS);
    pixels = image.get_raw_pixels();
  } finally {
    image.free();
  }
  // Opaque: a blurred preview needs no alpha, and the encoder then skips the alpha plane.
  for (let i = 3; i < pixels.length; i += 4) pixels[i] = 255;
  return codecs.encode({ width: w, height: h, data: pixels }, "webp", { quality: 60 });
}
