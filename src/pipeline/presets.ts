import type { TransformOptions } from "./types";

/**
 * Product ceiling on input size, in pixels (width x height from the header, checked before
 * decode): 100 MP, as Cloudflare Images. It is not what bounds memory: transformImage refuses,
 * per format and mode, every input whose header-based memory estimate (decode-memory.ts) would
 * not fit (WASM <= 96 MiB, WASM + JS frame + input copies <= 100 MiB), so nothing that fits is
 * refused by a pixel count alone.
 *
 * Measured with `npm run bench` (decode-only peak WASM, MiB, real-photo JPEGs at q92, decoded
 * by libjpeg-turbo at the DCT scale that covers 2048 px; the RGBA copy in JS is 11-27 MiB):
 *   baseline 4:2:0     12 MP 11.9 | 16 MP 15.6 | 20 MP 12.9 | 24 MP 13.8
 *   progressive 4:2:0  12 MP 46.3 | 16 MP 61.5 | 20 MP 70.3 | 24 MP 82.4 (107 MiB in all: no)
 *   progressive 4:4:4  12 MP 81.3 (104 MiB in all: no) | 16 MP 108.1 | 24 MP 152.1
 * Baseline JPEG never holds a full frame: the DCT-scaled frame is at most ~(2 x 2048)^2 px, so
 * 24.5 MP (phones' default), 48/50 MP and 100 MP pass on memory and only the file size (held
 * in JS and WASM) grows. Progressive JPEG keeps every DCT coefficient of the full image (2
 * bytes a sample): at 4:2:0 up to ~20 MP, at 4:4:4 ~11 MP. PNG decodes in JS row by row
 * (png-stream.ts, `bench/png-stream.ts`) into the integer box-shrunk frame, no WASM: a
 * 3840x2160 screenshot (not shrunk, 32 MiB RGBA) peaks at 33-37 MiB of JS heap, 6016x3384
 * (shrunk by 2) at 22-25 MiB, a 10000x10000 1-bit scan (by 4) at 27-29 MiB. That frame is at
 * most ~(2 x 2048)^2 px (64 MiB, just under 4096 px a side), so PNG up to 100 MP passes on
 * memory and only the file (held once in JS) grows; the worst size refuses files over ~30 MiB. An
 * Adam7 (interlaced) PNG is assembled at full size (4 bytes a pixel, 5 with the shrunk copy)
 * and so stops near 19 MP. Animated WebP and libavif hold full frames (5.1 and ~24 bytes a
 * pixel of WASM at 8-12 MP, + 4 in JS): the estimate admits ~10.5 and ~3.5 MP of those.
 * A single-item AVIF goes through avif-dav1d instead
 * (dav1d's planes + ~0.5 bytes a pixel, RGBA only at the box-shrunk size): 26.8 MiB at 12 MP
 * and 50.1 MiB at 24 MP (4:2:0); the estimate admits ~24-35 MP at 4:2:0 (by file size),
 * ~11-20 MP at 4:4:4 and ~10-22 MP with an alpha item (by aspect ratio too: a frame that
 * cannot be shrunk by 2 keeps its whole RGBA in JS); 10/12-bit planes are twice as large (a
 * 4032x3024 10-bit 4:2:0 peaks at 44.5 MiB).
 */
export const DEFAULT_MAX_PIXELS = 100_000_000;

/** Default variant set: WebP + JPEG per preset (PNG for alpha), AVIF for thumb and medium. */
export const DEFAULT_TRANSFORM_OPTIONS: TransformOptions = {
  maxPixels: DEFAULT_MAX_PIXELS,
  presets: [
    { name: "large", maxWidth: 2048, maxHeight: 2048 },
    { name: "medium", maxWidth: 1024, maxHeight: 1024 },
    { name: "thumb", maxWidth: 256, maxHeight: 256 },
  ],
  formats: ["webp", "jpeg"],
  avifPresets: ["thumb", "medium"],
  // Same numbers as sharp's jpeg({ quality: 80, mozjpeg: true }) / webp({ quality: 80 }) /
  // avif({ quality: 50 }); the encoders are configured to match sharp's at the same setting.
  quality: { jpeg: 80, webp: 80, avif: 50 },
  metadata: { keepCopyrightAndCamera: false },
  original: true,
};
