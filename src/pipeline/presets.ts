import type { TransformOptions } from "./types";

/**
 * Largest accepted input, in pixels (width x height from the header, checked before decode).
 * On top of it, transformImage estimates each decode's memory from the header
 * (decode-memory.ts) and refuses what would not fit: WASM <= 96 MiB, WASM + JS frame + input
 * copies <= 100 MiB.
 *
 * Measured with `npm run bench` (decode-only peak WASM, MiB, real-photo JPEGs at q92, decoded
 * by libjpeg-turbo at the DCT scale that covers 2048 px; the RGBA copy in JS is 11-15 MiB):
 *   baseline 4:2:0     12 MP 11.9 | 16 MP 15.6 | 20 MP 12.9 | 24 MP 13.8
 *   progressive 4:2:0  12 MP 46.3 | 16 MP 61.5 | 20 MP 70.3 | 24 MP 82.4 (107 MiB in all: no)
 *   progressive 4:4:4  12 MP 81.3 (104 MiB in all: no) | 16 MP 108.1 | 24 MP 152.1
 * Baseline JPEG never holds a full frame, so 24 MP costs < 40 MiB in all and is the limit
 * (time, not memory, bounds it). Progressive JPEG keeps every DCT coefficient of the full
 * image (2 bytes a sample), so it is limited by its header and file size: at 4:2:0 up to
 * ~20 MP (24 MP only for files under ~1.5 MiB), at 4:4:4 ~11 MP. The encoders peak at 44.8-50.3 MiB (2048 px WebP/JPEG). PNG, WebP and AVIF decoders
 * hold full frames (9.2, 5.1 and ~24 bytes a pixel of WASM at 8-12 MP, + 4 in JS): the
 * estimate admits ~7, ~10.5 and ~3.5 MP of those.
 */
export const DEFAULT_MAX_PIXELS = 24_000_000;

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
