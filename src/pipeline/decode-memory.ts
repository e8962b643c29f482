import type { HeaderProbe } from "./types";

const MIB = 2 ** 20;

/** Budget (docs/architecture.md, "Budgets"): peak WASM memory while processing the largest accepted input. */
export const WASM_MEMORY_BUDGET = 96 * MIB;

/**
 * WASM peak + the JS-heap pixels and input copies alive at the same instant. The isolate has
 * 128 MB (122 MiB) for everything; ~22 MiB stay for the runtime, the compiled codecs and the
 * encoded variants.
 */
export const DECODE_PEAK_BUDGET = 100 * MIB;

/**
 * Decoder working memory per output pixel, beyond the compressed input it copies in, measured
 * with `npm run bench` (8 and 12 MP inputs; bytes of WASM memory / pixels):
 * WebP 5.1 (RGBA + YUV planes), PNG 9.2 (raw rows + RGBA), AVIF through libavif 23.6-24.7
 * (jsquash's build decodes with libaom 3.7.0, not dav1d: its per-4x4 mode info alone is ~9.5,
 * then 16-bit frame buffers, the RGBA frame, and emscripten's 20 % over-growth on top).
 * JPEG is computed exactly instead (see estimateDecodeMemory). GIF decodes in JS.
 */
const WASM_BYTES_PER_PIXEL = { webp: 5.25, png: 9.5, avif: 25, gif: 0 } as const;
/** libjpeg's own state, Huffman tables, row buffers: well under this. */
const JPEG_FIXED = 1 * MIB;

/** avif-dav1d.wasm's initial memory: 1 MiB stack, static data, dav1d's tables. */
const AVIF_DAV1D_FIXED = 2 * MIB;
/**
 * dav1d's frame state beyond its planes (block levels, loop-filter masks, CDEF/loop-restoration
 * line buffers, motion field), freed before conversion. Measured 0.52 (4:2:0, 12 and 24 MP;
 * 10-bit too) and 0.59 (4:4:4, 12 MP) bytes a pixel on aom-encoded stills; 0.75 leaves a
 * margin, and the module's own 96 MiB cap turns any miss into decode_failed rather than a dead
 * isolate.
 */
const AVIF_DAV1D_STATE_PER_PIXEL = 0.75;
/** dav1d pads each plane to 128-pixel multiples (dav1d_default_picture_alloc). */
const AVIF_DAV1D_ALIGN = 128;

/** Where the memory of one decode goes, estimated from the header alone. */
export interface DecodeMemory {
  wasmBytes: number;
  /** Decoded RGBA frame(s) in the JS heap plus the upload and its stripped copy. */
  jsBytes: number;
  /** What dominates, for the error detail. */
  note: string;
}

/**
 * Estimates the instant peak of decoding (the decoder's WASM memory at its largest, while the
 * RGBA copy is being made in JS), from the header. `decoded` is the size the decoder outputs
 * (the DCT-scaled size for JPEG).
 */
export function estimateDecodeMemory(
  probe: HeaderProbe,
  inputBytes: number,
  decoded: { width: number; height: number },
): DecodeMemory {
  const pixels = probe.width * probe.height;
  const outPixels = decoded.width * decoded.height;
  const inputCopies = 2 * inputBytes;
  switch (probe.format) {
    case "jpeg":
      // Input copy + the scaled frame (RGB, or CMYK: count 4 bytes) + the whole-image
      // coefficients of a multi-scan file.
      return {
        wasmBytes: inputBytes + outPixels * 4 + probe.coefficientBytes + JPEG_FIXED,
        jsBytes: outPixels * 4 + inputCopies,
        note:
          probe.coefficientBytes > 0
            ? `a ${probe.progressive ? "progressive" : "multi-scan"} JPEG keeps every DCT coefficient (${mib(probe.coefficientBytes)} MiB here)`
            : "baseline JPEG decoded at a reduced DCT scale",
      };
    case "gif":
      // Index buffer (1 byte a pixel) + RGBA canvas, all in JS.
      return { wasmBytes: 0, jsBytes: pixels * 5 + inputCopies, note: "GIF frame buffers" };
    case "webp":
      // A transparent image is held to the full-frame estimate for now: its variants' alpha
      // encodes peak at 35-55 bytes an output pixel, which this model does not count yet.
      if (probe.frames === 1 && !probe.hasAlpha) {
        // libwebp scales while decoding (webp-scaled.ts): input + the output frame, plus, for
        // a lossless bitstream, every source pixel at 4 bytes.
        const extra = probe.lossless ? 4 : 0;
        return {
          wasmBytes: inputBytes + outPixels * 4 + pixels * extra + MIB,
          jsBytes: outPixels * 4 + inputCopies,
          note: probe.lossless
            ? "a lossless WebP keeps every source pixel (4 bytes each) while it scales"
            : "WebP decoded at the size the largest variant needs",
        };
      }
      return fullFrame("webp", inputBytes, pixels, inputCopies);
    case "avif":
      if (probe.avifPlaneBytes !== undefined) {
        // avif-dav1d.wasm: the items, dav1d's planes and frame state; RGBA is handed out in
        // bands into the JS frame. Measured peaks: 26.8 MiB at 4032x3024 and 50.1 MiB at
        // 6000x4000 (4:2:0, 0.37/0.94 MB sharp-made inputs); this model gives 29.8 and 56.2.
        const padded =
          (probe.width + AVIF_DAV1D_ALIGN) *
          (probe.height + AVIF_DAV1D_ALIGN) *
          probe.avifPlaneBytes;
        return {
          wasmBytes: AVIF_DAV1D_FIXED + inputBytes + padded + pixels * AVIF_DAV1D_STATE_PER_PIXEL,
          jsBytes: outPixels * 4 + inputCopies,
          note: `dav1d holds the YUV planes (~${probe.avifPlaneBytes} bytes a pixel) while the RGBA frame is box-shrunk`,
        };
      }
      return fullFrame("avif", inputBytes, pixels, inputCopies);
    case "png":
      return fullFrame(probe.format, inputBytes, pixels, inputCopies);
    case "heic":
      // Measured (single-image files, the worse case): libheif holds input + ~5.4 bytes a
      // pixel; its Y/Cb/Cr planes (1.5 bytes a pixel) are copied out before the instance is
      // dropped and RGBA (4 more) is built in JS, so the peak is WASM + planes + input copies.
      return {
        wasmBytes: inputBytes + pixels * 5.4 + MIB,
        jsBytes: pixels * 1.5 + inputCopies,
        note: "libheif holds the full frame (~5.4 bytes a pixel in WASM)",
      };
  }
}

/**
 * The WebP encoder's peak (jsquash's libwebp, quality 90) on a whole frame: 13.9 bytes a pixel
 * measured from 2048x1536 to 5000x3750.
 */
const WEBP_ENCODE_BYTES_PER_PIXEL = 14;

/**
 * Memory of the stand-in original of an AVIF whose metadata cannot be blanked in place
 * (transform.ts): the whole frame encoded as WebP, while the frame (and, for a non-1
 * orientation, its upright copy) sits in JS. This caps such files at ~5.8 MP (4.7 MP when
 * rotated), far below what avif-dav1d decodes.
 */
export function estimateReencodeMemory(
  width: number,
  height: number,
  orientation: number,
): DecodeMemory {
  const pixels = width * height;
  return {
    wasmBytes: pixels * WEBP_ENCODE_BYTES_PER_PIXEL + MIB,
    jsBytes: pixels * 4 * (orientation === 1 ? 1 : 2),
    note: `its metadata cannot be blanked in place, so the original is re-encoded whole (~${WEBP_ENCODE_BYTES_PER_PIXEL} bytes a pixel in the WebP encoder)`,
  };
}

/** A decoder that holds the whole frame (PNG, AVIF, animated WebP). */
function fullFrame(
  format: "png" | "webp" | "avif",
  inputBytes: number,
  pixels: number,
  inputCopies: number,
): DecodeMemory {
  const perPixel = WASM_BYTES_PER_PIXEL[format];
  return {
    wasmBytes: inputBytes + pixels * perPixel + MIB,
    jsBytes: pixels * 4 + inputCopies,
    note: `the ${format} decoder holds the full frame (~${perPixel} bytes a pixel in WASM, 4 more in JS)`,
  };
}

function mib(bytes: number): string {
  return (bytes / MIB).toFixed(1);
}

/** Null when the decode fits both budgets, else a human reason for `too_many_pixels`. */
export function decodeMemoryProblem(probe: HeaderProbe, m: DecodeMemory): string | null {
  const total = m.wasmBytes + m.jsBytes;
  if (m.wasmBytes <= WASM_MEMORY_BUDGET && total <= DECODE_PEAK_BUDGET) return null;
  return (
    `${probe.width}x${probe.height} ${probe.format} would need ~${mib(m.wasmBytes)} MiB of WASM ` +
    `and ~${mib(total)} MiB in all to decode (budgets ${mib(WASM_MEMORY_BUDGET)} and ` +
    `${mib(DECODE_PEAK_BUDGET)} MiB): ${m.note}`
  );
}
