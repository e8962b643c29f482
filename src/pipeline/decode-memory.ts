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
 * WebP 5.1 (RGBA + YUV planes), AVIF through libavif 23.6-24.7 (jsquash's build decodes with
 * libaom 3.7.0, not dav1d: its per-4x4 mode info alone is ~9.5, then 16-bit frame buffers, the
 * RGBA frame, and emscripten's 20 % over-growth on top); single-item HEIC 5.3 at 12 MP
 * (libde265 frame + planes, heic-decode.ts). JPEG is computed exactly instead (see
 * estimateDecodeMemory). GIF and PNG decode in JS.
 */
const WASM_BYTES_PER_PIXEL = { webp: 5.25, avif: 25, gif: 0, heic: 5.4 } as const;
/**
 * png-stream.ts's fixed state (the inflater's 160 KiB buffer and Huffman tables, under 0.5 MiB)
 * plus the young garbage V8 had not collected yet: `bench/png-stream.ts` saw the JS heap peak
 * 1.5-6 MiB above the live buffers (see pngMemory).
 */
const PNG_FIXED = 6 * MIB;
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
  /** Decoded RGBA frame(s) in the JS heap plus the upload. */
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
  // The upload, held once in JS while decoding (the stripped original is made afterwards).
  const inputCopies = inputBytes;
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
      if (probe.frames === 1) {
        // libwebp scales while decoding (webp-scaled.ts), transparent or not: input + the
        // output frame, plus, for a lossless bitstream, every source pixel at 4 bytes. (The
        // variants' encoders are counted apart, in encode-memory.ts.)
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
    case "png":
      return pngMemory(probe, inputCopies, pixels, outPixels, decoded.width);
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
    case "heic":
      if (probe.tile) return heicGrid(probe, probe.tile, inputBytes, outPixels, inputCopies);
      return heicSingle(probe, inputBytes, pixels, outPixels, inputCopies);
  }
}

/**
 * A single-image HEIC. Measured (8-bit 4:2:0): libheif holds input + ~5.4 bytes a pixel, which
 * scales with the planes for other chroma formats and depths. Its planes (1.5 bytes a pixel at
 * 8-bit 4:2:0, up to 6 at 10-bit 4:4:4, from hvcC) are copied out before the instance is
 * dropped; the (box-shrunk) RGBA frame is built from them after it is gone. So the peak is
 * planes + input + the larger of libheif's memory and that frame.
 */
function heicSingle(
  probe: HeaderProbe,
  inputBytes: number,
  pixels: number,
  outPixels: number,
  inputCopies: number,
): DecodeMemory {
  const planes = probe.heicPlaneBytes ?? 1.5;
  const wasmBytes = inputBytes + pixels * WASM_BYTES_PER_PIXEL.heic * (planes / 1.5) + MIB;
  return {
    wasmBytes,
    // The frame counts only where it outgrows libheif's memory, which is gone by then.
    jsBytes: pixels * planes + inputCopies + Math.max(0, outPixels * 4 - wasmBytes),
    note: `libheif holds the full frame (~${(WASM_BYTES_PER_PIXEL.heic * (planes / 1.5)).toFixed(1)} bytes a pixel in WASM, ${planes} in planes)`,
  };
}

/** libheif's initial linear memory (260 pages): no HEIC decode takes less. */
const LIBHEIF_INITIAL_HEAP = 16.25 * MIB;
/** libheif + libde265 state beyond the file and the tile's pixels (measured ~3.5-4.5 MiB). */
const LIBHEIF_FIXED = 4 * MIB;

/**
 * A HEIC `grid` decoded tile by tile (heic-decode.ts): WASM holds the file and one tile's
 * decoder state, JS one band of RGBA (a row of tiles, full width) and the box-shrunk frame.
 * Measured in workerd (decode only, 512 px tiles, shrunk for a 2048 px variant): 5712x4284
 * (24 MP, 108 tiles) and 8064x6048 (48 MP, 192 tiles) both peak at 16.25 MiB of WASM, the
 * initial heap, for inputs up to 11.5 MiB; a 15.3 MiB input peaks at 19.5 MiB and a 22.9 MiB
 * one at 27.75 MiB (input + ~4.5 MiB, whatever the pixel count). Before tiling, libheif's full
 * canvas peaked at 23.4 MiB at 12 MP and 47.0 MiB at 24 MP, plus our full-size copy in JS.
 */
function heicGrid(
  probe: HeaderProbe,
  tile: { width: number; height: number },
  inputBytes: number,
  outPixels: number,
  inputCopies: number,
): DecodeMemory {
  const tileBytes = tile.width * tile.height * WASM_BYTES_PER_PIXEL.heic;
  const band = probe.width * Math.min(tile.height, probe.height) * 4;
  return {
    wasmBytes: Math.max(LIBHEIF_INITIAL_HEAP, inputBytes + LIBHEIF_FIXED + tileBytes),
    jsBytes: band + outPixels * 4 + inputCopies,
    note: `a HEIC grid is decoded one ${tile.width}x${tile.height} tile at a time into a band of ${mib(band)} MiB`,
  };
}

/**
 * png-stream.ts decodes in JS, no WASM: the input (not copied: IDAT is read in place), the
 * shrunk RGBA frame, two filtered rows (<= 8 bytes a pixel each at 16-bit RGBA) and one RGBA
 * row of the source width, the RowShrinker's sums (40 bytes an output column) and the
 * inflater. An Adam7 PNG also holds the full-size RGBA frame its passes are assembled in
 * (which is the output itself when no shrink applies).
 *
 * Measured in Node with `bench/png-stream.ts` (heapUsed + arrayBuffers above a gc()'d
 * baseline, largest of 3 runs, screenshot-like inputs of 0.2-0.6 MiB) against this estimate
 * without its two input copies, MiB: 3840x2160 RGB/RGBA (not shrunk) 36.5/33.5 vs 37.9;
 * 5120x2880 RGBA (-> 2560x1440) 17.6 vs 20.3; 6016x3384 RGB/RGBA (-> 3008x1692) 25.3/24.8 vs
 * 25.6; 10000x10000 1-bit (-> 2500x2500) 28.7 vs 30.1; 4000x3000 Adam7 RGB 47.6 vs 52.0.
 */
function pngMemory(
  probe: HeaderProbe,
  inputCopies: number,
  pixels: number,
  outPixels: number,
  outWidth: number,
): DecodeMemory {
  const rows = probe.width * 20 + outWidth * 40 + PNG_FIXED;
  const shrunk = outPixels < pixels;
  const frames = probe.interlaced ? pixels * 4 + (shrunk ? outPixels * 4 : 0) : outPixels * 4;
  return {
    wasmBytes: 0,
    jsBytes: frames + rows + inputCopies,
    note: probe.interlaced
      ? "an interlaced (Adam7) PNG is assembled at full size (4 bytes a pixel) before it is shrunk"
      : "PNG decoded row by row at the size the largest variant needs",
  };
}

/** A decoder that holds the whole frame (AVIF, animated WebP). */
function fullFrame(
  format: "webp" | "avif",
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
