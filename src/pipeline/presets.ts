import type { TransformOptions } from "./types";

/**
 * Largest accepted input, in pixels (width x height from the header, checked before decode).
 *
 * Measured with `npm run bench` (decode is the peak step; resize is JS, encoders see <= 2048 px):
 * peak WASM memory of mozjpeg decode = 49.9 MiB at 12 MP, 67.2 at 16, 83.5 at 20, 91.6 at 22,
 * 99.8 at 24 MP (about 4 bytes/pixel RGBA + the input + ~2 MiB). So the < 96 MiB WASM budget
 * alone would allow ~22 MP, and 24 MP is impossible with the shipped decoders: none exposes
 * libjpeg's scaled IDCT, strip output or RGB output, so the full RGBA frame must exist in WASM.
 *
 * But the isolate limit is 128 MB for everything, and embind copies the decoded frame into a
 * JS Uint8ClampedArray while the decoder's memory is still alive: the instant peak is ~8 bytes
 * a pixel (12 MP: 49.9 + 46 = 96 MiB; 16 MP: 67 + 61 = 128 MiB, over the limit). 12.6 MP is
 * the largest round limit that keeps that sum under ~100 MiB and still admits the common
 * camera sizes (4032x3024 = 12.19 MP, 4080x3072 = 12.53 MP). Raising it needs a decoder that
 * scales in the DCT (libjpeg-turbo scale_num/denom built with emscripten) — see the report.
 */
export const DEFAULT_MAX_PIXELS = 12_600_000;

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
};
