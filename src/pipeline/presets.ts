import type { TransformOptions } from "./types";

/**
 * Largest accepted input, in pixels (width x height from the header, checked before decode).
 *
 * PLACEHOLDER until bench/ measures peak WASM memory; see the measured reasoning once set.
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
};
