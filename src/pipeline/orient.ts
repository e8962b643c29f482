import type { RgbaImage } from "./codec-glue";

/** True when EXIF orientation `o` swaps width and height (5..8). */
export function swapsAxes(o: number): boolean {
  return o >= 5 && o <= 8;
}

/**
 * Applies EXIF orientation 1..8 so the result is upright. Works on 32-bit pixels; the caller
 * runs it on already-downscaled variants, so the extra buffer is small.
 */
export function applyOrientation(img: RgbaImage, o: number): RgbaImage {
  if (o < 2 || o > 8) return img;
  const { width: w, height: h } = img;
  const src = new Uint32Array(img.data.buffer, img.data.byteOffset, w * h);
  const swap = swapsAxes(o);
  const ow = swap ? h : w;
  const oh = swap ? w : h;
  const out = new Uint8Array(ow * oh * 4);
  const dst = new Uint32Array(out.buffer);
  for (let y = 0; y < oh; y++) {
    const row = y * ow;
    for (let x = 0; x < ow; x++) {
      let sx: number;
      let sy: number;
      switch (o) {
        case 2:
          sx = w - 1 - x;
          sy = y;
          break;
        case 3:
          sx = w - 1 - x;
          sy = h - 1 - y;
          break;
        case 4:
          sx = x;
          sy = h - 1 - y;
          break;
        case 5:
          sx = y;
          sy = x;
          break;
        case 6:
          sx = y;
          sy = h - 1 - x;
          break;
        case 7:
          sx = w - 1 - y;
          sy = h - 1 - x;
          break;
        default:
          sx = w - 1 - y;
          sy = x;
          break;
      }
      dst[row + x] = src[sy * w + sx] ?? 0;
    }
  }
  return { width: ow, height: oh, data: out };
}
