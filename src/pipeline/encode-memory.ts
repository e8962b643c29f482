import { DECODE_PEAK_BUDGET, type DecodeMemory, WASM_MEMORY_BUDGET } from "./decode-memory";
import type { OutputFormat } from "./types";

const MIB = 2 ** 20;

/**
 * Encoder WASM per output pixel at its peak (input RGBA copied in + the codec's working set +
 * the emscripten heap's growth step), measured with codecs.memory on real-photo frames
 * (2048x1536, 2048x2048, 1024x768, 1024x1024), MiB: mozjpeg 50.3, 66.9, 16.2, 16.2; libwebp
 * lossy 41.8, 55.6, 16.0, 16.0 (a transparent image costs the same: its alpha is coded in JS,
 * webp-alpha.ts); PNG 42.0, 66.5, 11.5, 17.8; AVIF (aom, speed 8) -, -, 33.3, 40.3. Modelled as
 * max(16 MiB initial heap, bytes a pixel x pixels + 4 MiB), which bounds each from above.
 */
const ENCODER_BYTES_PER_PIXEL: Record<OutputFormat, number> = {
  jpeg: 16,
  webp: 13,
  png: 16.5,
  avif: 44,
};
/** State beyond the pixels (tables, stacks). */
const ENCODER_FIXED = 4 * MIB;
/** The emscripten builds start with a 16 MiB heap: no encode takes less. */
const ENCODER_INITIAL_HEAP = 16 * MIB;

/** The instant peak of encoding one variant in every format it gets. */
export interface EncodeMemory {
  wasmBytes: number;
  /** The variant's RGBA frame, the upload, and for a transparent WebP its alpha planes and tokens. */
  jsBytes: number;
  format: OutputFormat;
}

/** The costliest encode of one variant of `width` x `height` in `formats`. */
export function estimateEncodeMemory(
  width: number,
  height: number,
  formats: readonly OutputFormat[],
  alpha: boolean,
  inputBytes: number,
): EncodeMemory {
  const px = width * height;
  let worst: EncodeMemory = { wasmBytes: 0, jsBytes: 0, format: formats[0] ?? "webp" };
  for (const format of formats) {
    const wasmBytes = Math.max(
      ENCODER_INITIAL_HEAP,
      px * ENCODER_BYTES_PER_PIXEL[format] + ENCODER_FIXED,
    );
    const transparentWebp = format === "webp" && alpha;
    // While the WASM encoder runs: the frame (made opaque in place) and, for a transparent
    // WebP, its alpha plane. After it is dropped, webp-alpha.ts adds the gradient-filtered
    // plane and up to 4 bytes of tokens a pixel, with no WASM alive.
    const during = { wasmBytes, jsBytes: px * (transparentWebp ? 5 : 4) + inputBytes, format };
    const after = { wasmBytes: 0, jsBytes: px * 10 + inputBytes, format };
    for (const m of transparentWebp ? [during, after] : [during]) {
      if (m.wasmBytes + m.jsBytes > worst.wasmBytes + worst.jsBytes) worst = m;
    }
  }
  return worst;
}

/** Null when the encode fits both budgets, else a human reason for `too_many_pixels`. */
export function encodeMemoryProblem(variant: string, m: EncodeMemory): string | null {
  const total = m.wasmBytes + m.jsBytes;
  if (m.wasmBytes <= WASM_MEMORY_BUDGET && total <= DECODE_PEAK_BUDGET) return null;
  return (
    `the ${variant} variant in ${m.format} would need ~${(m.wasmBytes / MIB).toFixed(1)} MiB of ` +
    `WASM and ~${(total / MIB).toFixed(1)} MiB in all to encode (budgets ` +
    `${WASM_MEMORY_BUDGET / MIB} and ${DECODE_PEAK_BUDGET / MIB} MiB)`
  );
}

/**
 * Memory of the stand-in original of an AVIF whose metadata cannot be blanked in place
 * (transform.ts): the whole frame encoded as WebP (13.9 bytes a pixel measured from 2048x1536
 * to 5000x3750), while the frame (and, for a non-1 orientation, its upright copy) sits in JS.
 * This caps such files at ~5.8 MP (4.7 MP when rotated), far below what avif-dav1d decodes.
 */
export function estimateReencodeMemory(
  width: number,
  height: number,
  orientation: number,
): DecodeMemory {
  const pixels = width * height;
  return {
    wasmBytes: pixels * ENCODER_BYTES_PER_PIXEL.webp + MIB,
    jsBytes: pixels * 4 * (orientation === 1 ? 1 : 2),
    note: `its metadata cannot be blanked in place, so the original is re-encoded whole (~${ENCODER_BYTES_PER_PIXEL.webp} bytes a pixel in the WebP encoder)`,
  };
}
