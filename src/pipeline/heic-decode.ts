/**
 * HEIC (HEVC-in-HEIF) decoding with libheif 1.23.2 + libde265 1.0.15 from `libheif-js`
 * (LGPL-3.0), driven through libheif's C API rather than the package's embind helpers:
 *
 * - The embind `heif_js_decode_image2` always applies irot/imir/clap. The transform applies
 *   orientation itself from the probe (which turns irot/imir into an EXIF orientation), so we
 *   decode with `ignore_transformations` and get the stored pixels at the `ispe` size.
 * - We ask for the decoder's native planes (YCbCr 4:2:0 for phone photos), copy them out and
 *   convert to RGBA in JS after the instance is dropped. Letting libheif convert to RGBA in WASM
 *   peaks at 100.6 MiB of linear memory for a 12 MP single-item HEIC (over the 96 MiB budget).
 *   Measured peaks with native planes: single item 60.6 MiB at 12 MP (~5.3 B/px), iPhone-style
 *   512 px grid 23.4 MiB at 12 MP and 47.0 MiB at 24 MP (16.25 MiB initial heap + ~1.5 B/px).
 *
 * The emscripten glue has a Node branch that `require`s fs/path: the processor's wrangler config
 * must alias both to ./heic-node-stub.ts. Every call gets a fresh instance (see codec-glue.ts
 * for why), and nothing here throws.
 */
import libheifFactory from "libheif-js/libheif-wasm/libheif.js";
import {
  CodecError,
  type EmscriptenFactory,
  type RgbaImage,
  WasmMemoryMeter,
  withEmscripten,
} from "./codec-glue";
import type { Result, TransformError, TransformErrorCode } from "./types";

/** The part of libheif's C API (as emscripten exports it, `_`-prefixed) that we call. */
interface LibheifModule {
  HEAPU8: Uint8Array;
  HEAP32: Int32Array;
  _malloc(size: number): number;
  _free(ptr: number): void;
  _heif_context_alloc(): number;
  _heif_context_free(ctx: number): void;
  /** Functions returning `struct heif_error` take a pointer to 12 bytes for it first. */
  _heif_context_read_from_memory_without_copy(
    err: number,
    ctx: number,
    data: number,
    size: number,
    options: number,
  ): void;
  _heif_context_get_primary_image_handle(err: number, ctx: number, outHandle: number): void;
  _heif_image_handle_release(handle: number): void;
  _heif_image_handle_get_width(handle: number): number;
  _heif_image_handle_get_height(handle: number): number;
  _heif_image_handle_is_premultiplied_alpha(handle: number): number;
  _heif_decoding_options_alloc(): number;
  _heif_decoding_options_free(options: number): void;
  _heif_decode_image(
    err: number,
    handle: number,
    outImage: number,
    colorspace: number,
    chroma: number,
    options: number,
  ): void;
  _heif_image_release(image: number): void;
  _heif_image_get_colorspace(image: number): number;
  _heif_image_get_chroma_format(image: number): number;
  _heif_image_has_channel(image: number, channel: number): number;
  _heif_image_get_width(image: number, channel: number): number;
  _heif_image_get_height(image: number, channel: number): number;
  _heif_image_get_bits_per_pixel_range(image: number, channel: number): number;
  _heif_image_get_plane_readonly(image: number, channel: number, outStride: number): number;
  _heif_image_get_nclx_color_profile(err: number, image: number, outProfile: number): void;
  _heif_nclx_color_profile_free(profile: number): void;
}

// The package's own .d.ts declares a synchronous factory; the MODULARIZE build returns a Promise.
const libheif = libheifFactory as unknown as EmscriptenFactory<LibheifModule>;

/** heif_colorspace / heif_chroma / heif_channel values (libheif/heif_image.h). */
const COLORSPACE_YCBCR = 0;
const COLORSPACE_RGB = 1;
const COLORSPACE_MONOCHROME = 2;
const COLORSPACE_UNDEFINED = 99;
const CHROMA_MONOCHROME = 0;
const CHROMA_420 = 1;
const CHROMA_422 = 2;
const CHROMA_444 = 3;
const CHROMA_UNDEFINED = 99;
const CH_Y = 0;
const CH_CB = 1;
const CH_CR = 2;
const CH_R = 3;
const CH_G = 4;
const CH_B = 5;
const CH_ALPHA = 6;

/** heif_error_code values that mean "the file", not "the decoder", is at fault. */
const ERR_INVALID_INPUT = 2;
const ERR_UNSUPPORTED_FILETYPE = 3;
const ERR_UNSUPPORTED_FEATURE = 4;
const ERR_DECODER_PLUGIN = 7;

/** Byte offset of `ignore_transformations` in struct heif_decoding_options (after `version`). */
const OPT_IGNORE_TRANSFORMATIONS = 1;
/** struct heif_color_profile_nclx: uint8 version, then int32 enums; full_range_flag is a uint8. */
const NCLX_MATRIX = 12;
const NCLX_FULL_RANGE = 16;

/** Options for decodeHeic. */
export interface HeicDecodeOptions {
  /** Tracks the instance's linear memory (the codec set's meter). */
  meter?: WasmMemoryMeter;
  /** Refuse before decoding when the primary image is larger (the probe reads the largest ispe). */
  maxPixels?: number;
}

type Outcome = Result<RgbaImage, TransformError>;

function fail<T = RgbaImage>(code: TransformErrorCode, detail: string): Result<T, TransformError> {
  return { ok: false, error: { code, detail } };
}

/** A NUL-terminated C string from linear memory (libheif's static error messages). */
function cString(heap: Uint8Array, ptr: number): string {
  if (ptr <= 0 || ptr >= heap.length) return "";
  let end = ptr;
  while (end < heap.length && end - ptr < 512 && heap[end] !== 0) end++;
  return new TextDecoder().decode(heap.subarray(ptr, end));
}

/** Reads a `struct heif_error` written at `err`; null when it says heif_error_Ok. */
function heifError(
  m: LibheifModule,
  err: number,
  what: string,
): Result<never, TransformError> | null {
  const code = m.HEAP32[err >> 2] ?? 0;
  if (code === 0) return null;
  const sub = m.HEAP32[(err >> 2) + 1] ?? 0;
  const text = cString(m.HEAPU8, m.HEAP32[(err >> 2) + 2] ?? 0);
  const detail = `heic ${what}: ${text || "libheif error"} (${code}.${sub})`;
  if (code === ERR_UNSUPPORTED_FILETYPE || code === ERR_UNSUPPORTED_FEATURE) {
    return fail("unsupported_format", detail);
  }
  if (code === ERR_INVALID_INPUT || code === ERR_DECODER_PLUGIN)
    return fail("corrupt_image", detail);
  return fail("decode_failed", detail);
}

/** One plane as libheif hands it out: samples of `bits` bits, 1 byte (<= 8) or 2 bytes each. */
interface Plane {
  width: number;
  height: number;
  bits: number;
  /** Row r starts at samples[r * stride] (stride in samples, not bytes). */
  stride: number;
  samples: Uint8Array | Uint16Array;
}

/** Where C out-parameters land: one malloc'd block, so cleanup is a single free. */
interface Scratch {
  /** struct heif_error (12 bytes). */
  err: number;
  handle: number;
  image: number;
  stride: number;
  profile: number;
}

const SCRATCH_BYTES = 32;

function scratchAt(base: number): Scratch {
  return { err: base, handle: base + 16, image: base + 20, stride: base + 24, profile: base + 28 };
}

function readPlane(m: LibheifModule, image: number, channel: number, s: Scratch): Plane | null {
  if (!m._heif_image_has_channel(image, channel)) return null;
  const width = m._heif_image_get_width(image, channel);
  const height = m._heif_image_get_height(image, channel);
  const bits = m._heif_image_get_bits_per_pixel_range(image, channel);
  const ptr = m._heif_image_get_plane_readonly(image, channel, s.stride) >>> 0;
  const strideBytes = m.HEAP32[s.stride >> 2] ?? 0;
  if (!ptr || width < 1 || height < 1 || bits < 1 || bits > 16) return null;
  const wide = bits > 8;
  const bytes = strideBytes * (height - 1) + width * (wide ? 2 : 1);
  // Copied out (1.5 B/px for 8-bit 4:2:0) so the RGBA frame (4 B/px) is only allocated after
  // the instance's linear memory (~5.3 B/px at its peak) is unreferenced; converting in place
  // would hold both at once (12 MP: 60.6 + 45.8 MiB, over the 100 MiB decode budget).
  const samples = wide
    ? new Uint16Array(m.HEAPU8.buffer, ptr, bytes >> 1).slice()
    : m.HEAPU8.slice(ptr, ptr + bytes);
  return { width, height, bits, stride: wide ? strideBytes >> 1 : strideBytes, samples };
}

/** Luma/chroma weights (Kr, Kb) for an ITU-T H.273 matrix_coefficients value; null = identity. */
function matrixWeights(matrix: number): readonly [number, number] | null {
  switch (matrix) {
    case 0:
      return null; // GBR: planes are G, B, R
    case 1:
      return [0.2126, 0.0722]; // BT.709
    case 4:
      return [0.3, 0.11]; // FCC
    case 7:
      return [0.212, 0.087]; // SMPTE 240M
    case 9:
    case 10:
      return [0.2627, 0.0593]; // BT.2020
    default:
      // 5/6 (BT.601) and unspecified: libheif's default when the file has no nclx.
      return [0.299, 0.114];
  }
}

interface Colour {
  matrix: number;
  fullRange: boolean;
}

/** Matrix and range of the decoded image; libheif's defaults (BT.601, full range) without nclx. */
function colourOf(m: LibheifModule, image: number, s: Scratch): Colour {
  m._heif_image_get_nclx_color_profile(s.err, image, s.profile);
  const profile = (m.HEAP32[s.err >> 2] ?? 1) === 0 ? (m.HEAP32[s.profile >> 2] ?? 0) : 0;
  if (!profile) return { matrix: 6, fullRange: true };
  const matrix = m.HEAP32[(profile + NCLX_MATRIX) >> 2] ?? 6;
  const fullRange = (m.HEAPU8[profile + NCLX_FULL_RANGE] ?? 1) !== 0;
  m._heif_nclx_color_profile_free(profile);
  return { matrix, fullRange };
}

/**
 * Converts YCbCr (any subsampling; chroma by nearest sample: every variant is downscaled at
 * least 2x, which hides the filter) or monochrome planes to RGBA8. The clamped view rounds.
 */
function ycbcrToRgba(y: Plane, cb: Plane | null, cr: Plane | null, c: Colour): Uint8Array {
  const data = new Uint8Array(y.width * y.height * 4);
  const out = new Uint8ClampedArray(data.buffer);
  const max = (1 << y.bits) - 1;
  const half = 1 << (y.bits - 1);
  // Scale to 0..255 and undo limited range in one multiply.
  const yScale = c.fullRange ? 255 / max : 255 / (219 << (y.bits - 8));
  const cScale = c.fullRange ? 255 / max : 255 / (224 << (y.bits - 8));
  const yOff = c.fullRange ? 0 : 16 << (y.bits - 8);
  const w = matrixWeights(c.matrix);
  const kr = w ? w[0] : 0;
  const kb = w ? w[1] : 0;
  const kg = 1 - kr - kb;
  const crR = 2 * (1 - kr) * cScale;
  const cbB = 2 * (1 - kb) * cScale;
  const cbG = ((2 * kb * (1 - kb)) / kg) * cScale;
  const crG = ((2 * kr * (1 - kr)) / kg) * cScale;
  const full = 255 / max;
  const sx = cb && cb.width < y.width ? 1 : 0;
  const sy = cb && cb.height < y.height ? 1 : 0;
  const ys = y.samples;
  for (let row = 0; row < y.height; row++) {
    const yRow = row * y.stride;
    const cRow = cb ? Math.min(row >> sy, cb.height - 1) * cb.stride : 0;
    let o = row * y.width * 4;
    for (let col = 0; col < y.width; col++, o += 4) {
      const yv = ((ys[yRow + col] ?? 0) - yOff) * yScale;
      if (!cb || !cr) {
        out[o] = yv;
        out[o + 1] = yv;
        out[o + 2] = yv;
      } else {
        const ci = cRow + Math.min(col >> sx, cb.width - 1);
        const u = (cb.samples[ci] ?? half) - half;
        const v = (cr.samples[ci] ?? half) - half;
        if (w) {
          out[o] = yv + crR * v;
          out[o + 1] = yv - cbG * u - crG * v;
          out[o + 2] = yv + cbB * u;
        } else {
          // Identity matrix: Y carries G, Cb carries B, Cr carries R (full-scale samples).
          out[o] = (v + half) * full;
          out[o + 1] = (ys[yRow + col] ?? 0) * full;
          out[o + 2] = (u + half) * full;
        }
      }
      out[o + 3] = 255;
    }
  }
  return data;
}

function planarRgbToRgba(r: Plane, g: Plane, b: Plane): Uint8Array {
  const data = new Uint8Array(r.width * r.height * 4);
  const out = new Uint8ClampedArray(data.buffer);
  const scale = 255 / ((1 << r.bits) - 1);
  for (let row = 0; row < r.height; row++) {
    let o = row * r.width * 4;
    for (let col = 0; col < r.width; col++, o += 4) {
      out[o] = (r.samples[row * r.stride + col] ?? 0) * scale;
      out[o + 1] = (g.samples[row * g.stride + col] ?? 0) * scale;
      out[o + 2] = (b.samples[row * b.stride + col] ?? 0) * scale;
      out[o + 3] = 255;
    }
  }
  return data;
}

/** Copies the alpha plane in, undoing premultiplication when the file says it is premultiplied. */
function applyAlpha(alpha: Plane, premultiplied: boolean, data: Uint8Array): void {
  const out = new Uint8ClampedArray(data.buffer, data.byteOffset, data.byteLength);
  const scale = 255 / ((1 << alpha.bits) - 1);
  for (let row = 0; row < alpha.height; row++) {
    let o = row * alpha.width * 4;
    for (let col = 0; col < alpha.width; col++, o += 4) {
      const a = (alpha.samples[row * alpha.stride + col] ?? 0) * scale;
      out[o + 3] = a;
      if (premultiplied) {
        const k = a > 0 ? 255 / a : 0;
        out[o] = (out[o] ?? 0) * k;
        out[o + 1] = (out[o + 1] ?? 0) * k;
        out[o + 2] = (out[o + 2] ?? 0) * k;
      }
    }
  }
}

/** The decoded image's planes, copied out of linear memory so the instance can go first. */
type Planes = (
  | { kind: "ycbcr"; y: Plane; cb: Plane | null; cr: Plane | null; colour: Colour }
  | { kind: "rgb"; r: Plane; g: Plane; b: Plane }
) & { alpha: Plane | null; premultiplied: boolean };

type PlanesOutcome = Result<Planes, TransformError>;

/** Copies the planes of the decoded heif_image out of the instance, or says why not. */
function copyPlanes(
  m: LibheifModule,
  image: number,
  premultiplied: boolean,
  s: Scratch,
): PlanesOutcome {
  const colorspace = m._heif_image_get_colorspace(image);
  const chroma = m._heif_image_get_chroma_format(image);
  // Before reading planes: this calls into WASM, which could grow memory and detach views.
  const colour = colourOf(m, image, s);
  const alpha = readPlane(m, image, CH_ALPHA, s);
  if (colorspace === COLORSPACE_RGB && chroma === CHROMA_444) {
    const r = readPlane(m, image, CH_R, s);
    const g = readPlane(m, image, CH_G, s);
    const b = readPlane(m, image, CH_B, s);
    if (!r || !g || !b) return fail("decode_failed", "heic: incomplete RGB planes");
    return { ok: true, value: { kind: "rgb", r, g, b, alpha, premultiplied } };
  }
  const mono = colorspace === COLORSPACE_MONOCHROME || chroma === CHROMA_MONOCHROME;
  const subsampled = chroma === CHROMA_420 || chroma === CHROMA_422 || chroma === CHROMA_444;
  if (!(colorspace === COLORSPACE_YCBCR || mono) || !(mono || subsampled)) {
    return fail("decode_failed", `heic: decoder returned colorspace ${colorspace}/${chroma}`);
  }
  const y = readPlane(m, image, CH_Y, s);
  if (!y) return fail("decode_failed", "heic: decoder returned no luma plane");
  const cb = mono ? null : readPlane(m, image, CH_CB, s);
  const cr = mono ? null : readPlane(m, image, CH_CR, s);
  if (!mono && (!cb || !cr || cb.bits !== y.bits)) {
    return fail("decode_failed", "heic: inconsistent chroma planes");
  }
  return { ok: true, value: { kind: "ycbcr", y, cb, cr, colour, alpha, premultiplied } };
}

/** RGBA8 from the copied planes (runs after the instance and its memory are released). */
function toRgba(p: Planes): Outcome {
  const main = p.kind === "rgb" ? p.r : p.y;
  const data =
    p.kind === "rgb" ? planarRgbToRgba(p.r, p.g, p.b) : ycbcrToRgba(p.y, p.cb, p.cr, p.colour);
  if (p.alpha) {
    if (p.alpha.width !== main.width || p.alpha.height !== main.height) {
      return fail("corrupt_image", "heic alpha plane does not match the image size");
    }
    applyAlpha(p.alpha, p.premultiplied, data);
  }
  return { ok: true, value: { width: main.width, height: main.height, data } };
}

/** Runs libheif on one file inside `m`; frees what it allocated so a reused heap stays sane. */
function decodeIn(m: LibheifModule, bytes: Uint8Array, maxPixels: number): PlanesOutcome {
  const base = m._malloc(SCRATCH_BYTES);
  const s = scratchAt(base);
  const input = m._malloc(bytes.length);
  const ctx = m._heif_context_alloc();
  const options = m._heif_decoding_options_alloc();
  let handle = 0;
  let image = 0;
  try {
    if (!base || !input || !ctx || !options) {
      return fail("decode_failed", "heic: out of WASM memory before decoding");
    }
    m.HEAPU8.set(bytes, input);
    // Without copy: libheif reads our buffer in place, saving one copy of the file in the heap.
    m._heif_context_read_from_memory_without_copy(s.err, ctx, input, bytes.length, 0);
    const readErr = heifError(m, s.err, "read");
    if (readErr) return readErr;
    m._heif_context_get_primary_image_handle(s.err, ctx, s.handle);
    const handleErr = heifError(m, s.err, "primary image");
    if (handleErr) return handleErr;
    handle = m.HEAP32[s.handle >> 2] ?? 0;
    const w = m._heif_image_handle_get_width(handle);
    const h = m._heif_image_handle_get_height(handle);
    if (w * h > maxPixels) {
      return fail("too_many_pixels", `heic primary image is ${w}x${h}; the limit is ${maxPixels}`);
    }
    m.HEAPU8[options + OPT_IGNORE_TRANSFORMATIONS] = 1;
    m._heif_decode_image(s.err, handle, s.image, COLORSPACE_UNDEFINED, CHROMA_UNDEFINED, options);
    const decodeErr = heifError(m, s.err, "decode");
    if (decodeErr) return decodeErr;
    image = m.HEAP32[s.image >> 2] ?? 0;
    if (!image) return fail("decode_failed", "heic decoder returned no image");
    const premultiplied = m._heif_image_handle_is_premultiplied_alpha(handle) !== 0;
    return copyPlanes(m, image, premultiplied, s);
  } finally {
    if (image) m._heif_image_release(image);
    if (handle) m._heif_image_handle_release(handle);
    if (options) m._heif_decoding_options_free(options);
    if (ctx) m._heif_context_free(ctx);
    if (input) m._free(input);
    if (base) m._free(base);
  }
}

/**
 * Decodes the primary image of a HEIC to RGBA8 in stored orientation (irot/imir not applied)
 * with a fresh libheif instance. Never throws: a WASM trap/abort comes back as decode_failed.
 */
export async function decodeHeic(
  module: WebAssembly.Module,
  bytes: Uint8Array,
  options: HeicDecodeOptions = {},
): Promise<Result<RgbaImage, TransformError>> {
  const meter = options.meter ?? new WasmMemoryMeter();
  const maxPixels = options.maxPixels ?? Number.POSITIVE_INFINITY;
  try {
    const planes = await withEmscripten(libheif, module, meter, (m) =>
      decodeIn(m, bytes, maxPixels),
    );
    if (!planes.ok) return planes;
    return toRgba(planes.value);
  } catch (e) {
    // libheif's own errors come back as Results above, so anything thrown is a trap/abort (the
    // instance is dead and already dropped) or a bug here: neither says the file is bad.
    const trapped = e instanceof WebAssembly.RuntimeError || (e instanceof CodecError && e.trapped);
    const detail = e instanceof Error ? e.message : String(e);
    return fail("decode_failed", `heic decode failed${trapped ? " (WASM trap)" : ""}: ${detail}`);
  }
}
