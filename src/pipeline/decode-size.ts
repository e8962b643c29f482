import type { DecodeHint } from "./jpeg-turbo";
import { jpegScaledSize } from "./jpeg-turbo";
import { boxShrinkSize } from "./row-shrink";
import type { HeaderProbe } from "./types";
import { webpScaledSize } from "./webp-scaled";

/**
 * The size a format's decoder hands out for this hint, known from the header alone: the memory
 * check and the decoded-size check both depend on it. Decoders that scale while decoding (JPEG
 * by DCT, still WebP through libwebp's scaler, AVIF through avif-dav1d's box shrink) return
 * less than the full frame.
 */
export function decodedSize(
  probe: HeaderProbe,
  hint: DecodeHint,
): { width: number; height: number } {
  switch (probe.format) {
    case "jpeg":
      return jpegScaledSize(probe.width, probe.height, hint);
    case "webp":
      if (probe.frames === 1) return webpScaledSize(probe.width, probe.height, hint);
      return { width: probe.width, height: probe.height };
    case "avif":
      if (probe.avifPlaneBytes !== undefined) {
        const { width, height } = boxShrinkSize(probe.width, probe.height, hint);
        return { width, height };
      }
      return { width: probe.width, height: probe.height };
    default:
      return { width: probe.width, height: probe.height };
  }
}
