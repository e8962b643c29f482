import { instantiateStandalone, type RgbaImage, type WasmMemoryMeter } from "./codec-glue";
import type { DecodeHint } from "./jpeg-turbo";

/** libwebp reported bad data (a VP8StatusCode other than OK). */
export class WebpDecodeError extends Error {}

/** Exports of webp-scaled.wasm (wasm/webp-scaled: libwebp 1.2.4 and a small C shim). */
interface WebpScaledExports {
  memory: WebAssembly.Memory;
  _initialize(): void;
  malloc(size: number): number;
  free(ptr: number): void;
  webp_decode_scaled(src: number, len: number, width: number, height: number, dst: number): number;
}

const EXPORTS = ["memory", "_initialize", "malloc", "free", "webp_decode_scaled"] as const;

function isWebpScaled(e: WebAssembly.Exports): e is WebAssembly.Exports & WebpScaledExports {
  return EXPORTS.every((n) => n in e);
}

const STATUS = [
  "ok",
  "out of memory",
  "invalid parameter",
  "bitstream error",
  "unsupported feature",
  "suspended",
  "user abort",
  "not enough data",
];

/**
 * The size to decode a WebP at: exactly the box the largest variant needs (libwebp scales while
 * decoding, as sharp does), or the full size when the image is not larger than that box.
 */
export function webpScaledSize(
  width: number,
  height: number,
  hint: DecodeHint | undefined,
): { width: number; height: number } {
  if (!hint || (hint.minWidth >= width && hint.minHeight >= height)) return { width, height };
  return { width: Math.min(width, hint.minWidth), height: Math.min(height, hint.minHeight) };
}

/**
 * Decodes a still WebP (or one animation frame as a still) to width x height RGBA with
 * libwebp's scaler, in a fresh instance that is dropped afterwards. The frame at full size is
 * never held: memory is the input plus the output (plus, measured, ~1.4 bytes a source pixel
 * for an alpha plane and 4 for a lossless bitstream).
 */
export function decodeWebpScaled(
  module: WebAssembly.Module,
  meter: WasmMemoryMeter,
  bytes: Uint8Array,
  width: number,
  height: number,
): RgbaImage {
  const ex = instantiateStandalone(
    module,
    meter,
    isWebpScaled,
    "webp-scaled.wasm",
    (code) => new WebpDecodeError(`libwebp exited with ${code}`),
  );
  try {
    const outBytes = width * height * 4;
    const src = ex.malloc(bytes.length) >>> 0;
    const dst = ex.malloc(outBytes) >>> 0;
    if (src === 0 || dst === 0) throw new WebAssembly.RuntimeError("webp-scaled: out of memory");
    new Uint8Array(ex.memory.buffer, src, bytes.length).set(bytes);
    const status = ex.webp_decode_scaled(src, bytes.length, width, height, dst);
    meter.sample();
    // libwebp's own allocation failure is the instance running out, not bad data.
    if (status === 1) throw new WebAssembly.RuntimeError("libwebp: out of memory");
    if (status !== 0) {
      throw new WebpDecodeError(`libwebp: ${STATUS[status] ?? `status ${status}`}`);
    }
    // Own the pixels: the instance (and its memory) is dropped when this returns.
    const data = new Uint8Array(ex.memory.buffer, dst, outBytes).slice();
    return { width, height, data };
  } finally {
    meter.release(ex.memory);
  }
}
