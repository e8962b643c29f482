import type { DecodeHint } from "./jpeg-turbo";
import { jpegScaledSize } from "./jpeg-turbo";
import { pngScaledSize } from "./png-stream";
import { boxShrinkSize } from "./row-shrink";
import type { HeaderProbe } from "./types";
import { webpScaledSize } from "./webp-scaled";

/**
 * The size a format's decoder hands out for this hint, known from the header alone: the memory
 * check and the decoded-size check both depend on it. Decoders that scale while decoding (JPEG
 * by DCT, still WebP through libwebp's scaler; PNG rows, HEIC tiles and AVIF planes by an integer
 * box shrink; an interlaced PNG is shrunk after its passes are assembled) return less than the
 * full frame.
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
    case "heic": {
      // Converted to RGBA row by row (tile bands for a grid) through a RowShrinker.
      const { width, height } = boxShrinkSize(probe.width, probe.height, hint);
      return { width, height };
    }
    case "png":
      return pngScaledSize(probe.width, probe.height, hint);
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
