/**
 * HEIC (HEVC-in-HEIF) decoding with libheif 1.23.2 + libde265 1.0.15 from `libheif-js`
 * (LGPL-3.0), driven through libheif's C API rather than the package's embind helpers:
 *
 * - The embind `heif_js_decode_image2` always applies irot/imir/clap. The transform applies
 *   orientation itself from the probe (which turns irot/imir into an EXIF orientation), so we
 *   decode with `ignore_transformations` and get the stored pixels at the `ispe` size.
 * - A single-item image: we ask for the decoder's native planes (YCbCr 4:2:0 for phone photos),
 *   copy them out and convert to RGBA in JS after the instance is dropped, one row at a time
 *   into the (box-shrunk) frame. Letting libheif convert to RGBA in WASM peaks at 100.6 MiB of
 *   linear memory for a 12 MP single-item HEIC (over the 96 MiB budget); native planes peak at
 *   60.6 MiB (~5.3 B/px).
 * - A `grid` (what phones write: 512x512 tiles, 24 or 48 MP): libheif's own decode composes the
 *   whole canvas in WASM (measured 47.0 MiB at 24 MP, ~1.5 B/px, so ~90 MiB at 48 MP) and our
 *   full-size copy comes on top, so we decode tile by tile (heif_image_handle_decode_image_tile)
 *   and shrink band by band: WASM holds the file and one tile (16.25 MiB, the initial heap, for
 *   both sizes; figures in decode-memory.ts).
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
import type { DecodeHint } from "./jpeg-turbo";
import { boxShrinkSize, RowShrinker } from "./row-shrink";
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
  _heif_image_handle_get_item_id(handle: number): number;
  _heif_item_get_item_type(ctx: number, item: number): number;
  _heif_image_handle_get_image_tiling(
    err: number,
    handle: number,
    processTransformations: number,
    outTiling: number,
  ): void;
  _heif_image_handle_decode_image_tile(
    err: number,
    handle: number,
    outImage: number,
    colorspace: number,
    chroma: number,
    options: number,
    tileX: number,
    tileY: number,
  ): void;
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
/** Item type of a grid derived image ("grid" as a big-endian fourcc). */
const FOURCC_GRID = 0x67726964;

/** Options for decodeHeic. */
export interface HeicDecodeOptions {
  /** Tracks the instance's linear memory (the codec set's meter). */
  meter?: WasmMemoryMeter;
  /** Refuse before decoding when the primary image is larger (the probe reads the largest ispe). */
  maxPixels?: number;
  /** The smallest frame the caller needs: the output is box-shrunk while it is decoded. */
  hint?: DecodeHint;
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
  /** struct heif_image_tiling (72 bytes, see TILING_*). */
  tiling: number;
}

const SCRATCH_BYTES = 32 + 72;

function scratchAt(base: number): Scratch {
  return {
    err: base,
    handle: base + 16,
    image: base + 20,
    stride: base + 24,
    profile: base + 28,
    tiling: base + 32,
  };
}

/**
 * The plane of `channel`: copied out of linear memory (`copy`, when the instance is dropped
 * before conversion) or a view into it (a tile, converted before the next call into WASM).
 */
function readPlane(
  m: LibheifModule,
  image: number,
  channel: number,
  s: Scratch,
  copy: boolean,
): Plane | null {
  if (!m._heif_image_has_channel(image, channel)) return null;
  const width = m._heif_image_get_width(image, channel);
  const height = m._heif_image_get_height(image, channel);
  const bits = m._heif_image_get_bits_per_pixel_range(image, channel);
  const ptr = m._heif_image_get_plane_readonly(image, channel, s.stride) >>> 0;
  const strideBytes = m.HEAP32[s.stride >> 2] ?? 0;
  if (!ptr || width < 1 || height < 1 || bits < 1 || bits > 16) return null;
  const wide = bits > 8;
  const bytes = strideBytes * (height - 1) + width * (wide ? 2 : 1);
  if (ptr + bytes > m.HEAPU8.length) return null;
  // A whole image is copied out (1.5 B/px for 8-bit 4:2:0) so the frame is only built after the
  // instance's linear memory (~5.3 B/px at its peak) is unreferenced; converting in place
  // would hold both at once.
  const samples = wide
    ? new Uint16Array(m.HEAPU8.buffer, ptr, bytes >> 1)
    : m.HEAPU8.subarray(ptr, ptr + bytes);
  return {
    width,
    height,
    bits,
    stride: wide ? strideBytes >> 1 : strideBytes,
    samples: copy ? samples.slice() : samples,
  };
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
 * A block of source rows to convert: rows [row, row + rows) and columns [0, width) of the
 * planes go to `out`, row i at byte `offset + i * stride`.
 */
interface Block {
  row: number;
  rows: number;
  width: number;
  out: Uint8Array;
  offset: number;
  stride: number;
}

/**
 * Converts YCbCr (any subsampling; chroma by nearest sample: every variant is downscaled at
 * least 2x, which hides the filter) or monochrome planes to RGBA8. The clamped view rounds.
 */
function ycbcrToRgba(y: Plane, cb: Plane | null, cr: Plane | null, c: Colour, k: Block): void {
  const out = new Uint8ClampedArray(k.out.buffer, k.out.byteOffset, k.out.byteLength);
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
  for (let i = 0; i < k.rows; i++) {
    const row = k.row + i;
    const yRow = row * y.stride;
    const cRow = cb ? Math.min(row >> sy, cb.height - 1) * cb.stride : 0;
    let o = k.offset + i * k.stride;
    for (let col = 0; col < k.width; col++, o += 4) {
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
}

function planarRgbToRgba(r: Plane, g: Plane, b: Plane, k: Block): void {
  const out = new Uint8ClampedArray(k.out.buffer, k.out.byteOffset, k.out.byteLength);
  const scale = 255 / ((1 << r.bits) - 1);
  for (let i = 0; i < k.rows; i++) {
    const row = k.row + i;
    let o = k.offset + i * k.stride;
    for (let col = 0; col < k.width; col++, o += 4) {
      out[o] = (r.samples[row * r.stride + col] ?? 0) * scale;
      out[o + 1] = (g.samples[row * g.stride + col] ?? 0) * scale;
      out[o + 2] = (b.samples[row * b.stride + col] ?? 0) * scale;
      out[o + 3] = 255;
    }
  }
}

/** Copies the alpha plane in, undoing premultiplication when the file says it is premultiplied. */
function applyAlpha(alpha: Plane, premultiplied: boolean, k: Block): void {
  const out = new Uint8ClampedArray(k.out.buffer, k.out.byteOffset, k.out.byteLength);
  const scale = 255 / ((1 << alpha.bits) - 1);
  for (let i = 0; i < k.rows; i++) {
    const row = k.row + i;
    let o = k.offset + i * k.stride;
    for (let col = 0; col < k.width; col++, o += 4) {
      const a = (alpha.samples[row * alpha.stride + col] ?? 0) * scale;
      out[o + 3] = a;
      if (premultiplied) {
        const f = a > 0 ? 255 / a : 0;
        out[o] = (out[o] ?? 0) * f;
        out[o + 1] = (out[o + 1] ?? 0) * f;
        out[o + 2] = (out[o + 2] ?? 0) * f;
      }
    }
  }
}

/** A decoded image's planes (copied out of linear memory, or views for one tile). */
type Planes = (
  | { kind: "ycbcr"; y: Plane; cb: Plane | null; cr: Plane | null; colour: Colour }
  | { kind: "rgb"; r: Plane; g: Plane; b: Plane }
) & { alpha: Plane | null; premultiplied: boolean };

type PlanesOutcome = Result<Planes, TransformError>;

/** The planes of the decoded heif_image, or why not. */
function readPlanes(
  m: LibheifModule,
  image: number,
  premultiplied: boolean,
  s: Scratch,
  copy: boolean,
): PlanesOutcome {
  const colorspace = m._heif_image_get_colorspace(image);
  const chroma = m._heif_image_get_chroma_format(image);
  // Before reading planes: this calls into WASM, which could grow memory and detach views.
  const colour = colourOf(m, image, s);
  const alpha = readPlane(m, image, CH_ALPHA, s, copy);
  if (colorspace === COLORSPACE_RGB && chroma === CHROMA_444) {
    const r = readPlane(m, image, CH_R, s, copy);
    const g = readPlane(m, image, CH_G, s, copy);
    const b = readPlane(m, image, CH_B, s, copy);
    if (!r || !g || !b) return fail("decode_failed", "heic: incomplete RGB planes");
    if (g.width < r.width || g.height < r.height || b.width < r.width || b.height < r.height) {
      return fail("decode_failed", "heic: RGB planes of different sizes");
    }
    return { ok: true, value: { kind: "rgb", r, g, b, alpha, premultiplied } };
  }
  const mono = colorspace === COLORSPACE_MONOCHROME || chroma === CHROMA_MONOCHROME;
  const subsampled = chroma === CHROMA_420 || chroma === CHROMA_422 || chroma === CHROMA_444;
  if (!(colorspace === COLORSPACE_YCBCR || mono) || !(mono || subsampled)) {
    return fail("decode_failed", `heic: decoder returned colorspace ${colorspace}/${chroma}`);
  }
  const y = readPlane(m, image, CH_Y, s, copy);
  if (!y) return fail("decode_failed", "heic: decoder returned no luma plane");
  const cb = mono ? null : readPlane(m, image, CH_CB, s, copy);
  const cr = mono ? null : readPlane(m, image, CH_CR, s, copy);
  if (!mono && (!cb || !cr || cb.bits !== y.bits)) {
    return fail("decode_failed", "heic: inconsistent chroma planes");
  }
  return { ok: true, value: { kind: "ycbcr", y, cb, cr, colour, alpha, premultiplied } };
}

/** The plane that sets the image size. */
function mainPlane(p: Planes): Plane {
  return p.kind === "rgb" ? p.r : p.y;
}

/** Checks the alpha plane fits the image; null when it does. */
function alphaProblem(p: Planes): Result<never, TransformError> | null {
  const main = mainPlane(p);
  if (p.alpha && (p.alpha.width !== main.width || p.alpha.height !== main.height)) {
    return fail("corrupt_image", "heic alpha plane does not match the image size");
  }
  return null;
}

/** Converts a block of the planes to RGBA8 (alpha included); the caller checked the bounds. */
function convertBlock(p: Planes, k: Block): void {
  if (p.kind === "rgb") planarRgbToRgba(p.r, p.g, p.b, k);
  else ycbcrToRgba(p.y, p.cb, p.cr, p.colour, k);
  if (p.alpha) applyAlpha(p.alpha, p.premultiplied, k);
}

/**
 * Collects RGBA rows in order into the output frame: box-shrunk by `factor` (RowShrinker), or
 * copied as they are at factor 1 (where averaging would only zero transparent pixels' colour).
 */
class FrameBuilder {
  private readonly shrinker: RowShrinker | null;
  private readonly frame: Uint8Array | null;
  private row = 0;

  constructor(
    private readonly width: number,
    private readonly height: number,
    factor: number,
  ) {
    this.shrinker = factor > 1 ? new RowShrinker(width, height, factor) : null;
    this.frame = factor > 1 ? null : new Uint8Array(width * height * 4);
  }

  /** Adds the next source row: `width` RGBA pixels at `offset` in `data`. */
  push(data: Uint8Array, offset: number): void {
    if (this.shrinker) this.shrinker.push(data, offset);
    else this.frame?.set(data.subarray(offset, offset + this.width * 4), this.row * this.width * 4);
    this.row++;
  }

  finish(): RgbaImage {
    if (this.shrinker) return this.shrinker.finish();
    if (!this.frame || this.row !== this.height) throw new RangeError("FrameBuilder: rows missing");
    return { width: this.width, height: this.height, data: this.frame };
  }
}

/**
 * The frame from copied-out planes, converted one row at a time into the builder, so the JS
 * peak is planes + the (shrunk) frame rather than planes + a full-size RGBA copy.
 */
function framePlanes(p: Planes, hint: DecodeHint | undefined): Outcome {
  const bad = alphaProblem(p);
  if (bad) return bad;
  const { width, height } = mainPlane(p);
  const frame = new FrameBuilder(width, height, boxShrinkSize(width, height, hint).factor);
  const row = new Uint8Array(width * 4);
  for (let r = 0; r < height; r++) {
    convertBlock(p, { row: r, rows: 1, width, out: row, offset: 0, stride: width * 4 });
    frame.push(row, 0);
  }
  return { ok: true, value: frame.finish() };
}

/** struct heif_image_tiling (libheif/heif_tiling.h, 1.23): int version, then uint32 fields. */
interface Tiling {
  columns: number;
  rows: number;
  tileWidth: number;
  tileHeight: number;
  width: number;
  height: number;
}

function readTiling(m: LibheifModule, at: number): Tiling {
  const u32 = (field: number): number => (m.HEAP32[(at >> 2) + field] ?? 0) >>> 0;
  // version, num_columns, num_rows, tile_width, tile_height, image_width, image_height, ...
  return {
    columns: u32(1),
    rows: u32(2),
    tileWidth: u32(3),
    tileHeight: u32(4),
    width: u32(5),
    height: u32(6),
  };
}

/**
 * Decodes a `grid` primary image one tile at a time: each tile is converted straight into a
 * band (one row of tiles, full width) and freed; the band's rows then go to the frame builder.
 * WASM holds the file and one tile's decoder state, JS one band and the shrunk frame, instead
 * of libheif's full-size canvas and our copy of it.
 */
function decodeTiles(
  m: LibheifModule,
  handle: number,
  options: number,
  s: Scratch,
  hint: DecodeHint | undefined,
  maxPixels: number,
): Outcome {
  m.HEAPU8.fill(0, s.tiling, s.tiling + 72);
  m._heif_image_handle_get_image_tiling(s.err, handle, 0, s.tiling);
  const tilingErr = heifError(m, s.err, "tiling");
  if (tilingErr) return tilingErr;
  const t = readTiling(m, s.tiling);
  if (
    t.columns < 1 ||
    t.rows < 1 ||
    t.tileWidth < 1 ||
    t.tileHeight < 1 ||
    t.width < 1 ||
    t.height < 1
  ) {
    return fail("corrupt_image", "heic grid has no tiles, no tile size or no size");
  }
  if (t.width * t.height > maxPixels) {
    return fail(
      "too_many_pixels",
      `heic grid is ${t.width}x${t.height}; the limit is ${maxPixels}`,
    );
  }
  if (t.columns * t.tileWidth < t.width || t.rows * t.tileHeight < t.height) {
    return fail("corrupt_image", `heic grid tiles do not cover ${t.width}x${t.height}`);
  }
  const premultiplied = m._heif_image_handle_is_premultiplied_alpha(handle) !== 0;
  const frame = new FrameBuilder(t.width, t.height, boxShrinkSize(t.width, t.height, hint).factor);
  const stride = t.width * 4;
  const band = new Uint8Array(stride * Math.min(t.tileHeight, t.height));
  for (let ty = 0; ty < t.rows && ty * t.tileHeight < t.height; ty++) {
    const bandRows = Math.min(t.tileHeight, t.height - ty * t.tileHeight);
    for (let tx = 0; tx < t.columns && tx * t.tileWidth < t.width; tx++) {
      const x0 = tx * t.tileWidth;
      const cols = Math.min(t.tileWidth, t.width - x0);
      m._heif_image_handle_decode_image_tile(
        s.err,
        handle,
        s.image,
        COLORSPACE_UNDEFINED,
        CHROMA_UNDEFINED,
        options,
        tx,
        ty,
      );
      const tileErr = heifError(m, s.err, `tile ${tx},${ty}`);
      if (tileErr) return tileErr;
      const image = m.HEAP32[s.image >> 2] ?? 0;
      if (!image) return fail("decode_failed", `heic decoder returned no tile ${tx},${ty}`);
      try {
        const planes = readPlanes(m, image, premultiplied, s, false);
        if (!planes.ok) return planes;
        const bad = alphaProblem(planes.value);
        if (bad) return bad;
        const main = mainPlane(planes.value);
        if (main.width < cols || main.height < bandRows) {
          return fail("corrupt_image", `heic tile ${tx},${ty} is ${main.width}x${main.height}`);
        }
        convertBlock(planes.value, {
          row: 0,
          rows: bandRows,
          width: cols,
          out: band,
          offset: x0 * 4,
          stride,
        });
      } finally {
        m._heif_image_release(image);
      }
    }
    for (let r = 0; r < bandRows; r++) frame.push(band, r * stride);
  }
  return { ok: true, value: frame.finish() };
}

/** What decodeIn hands out: a grid's finished frame, or planes to convert after the instance. */
type Decoded = { kind: "frame"; frame: RgbaImage } | { kind: "planes"; planes: Planes };

/** Runs libheif on one file inside `m`; frees what it allocated so a reused heap stays sane. */
function decodeIn(
  m: LibheifModule,
  bytes: Uint8Array,
  maxPixels: number,
  hint: DecodeHint | undefined,
): Result<Decoded, TransformError> {
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
    // The same test as the probe's (the primary item's type), so the memory estimate made from
    // the header describes the path taken here.
    const type = m._heif_item_get_item_type(ctx, m._heif_image_handle_get_item_id(handle)) >>> 0;
    if (type === FOURCC_GRID) {
      const frame = decodeTiles(m, handle, options, s, hint, maxPixels);
      return frame.ok ? { ok: true, value: { kind: "frame", frame: frame.value } } : frame;
    }
    m._heif_decode_image(s.err, handle, s.image, COLORSPACE_UNDEFINED, CHROMA_UNDEFINED, options);
    const decodeErr = heifError(m, s.err, "decode");
    if (decodeErr) return decodeErr;
    image = m.HEAP32[s.image >> 2] ?? 0;
    if (!image) return fail("decode_failed", "heic decoder returned no image");
    const premultiplied = m._heif_image_handle_is_premultiplied_alpha(handle) !== 0;
    const planes = readPlanes(m, image, premultiplied, s, true);
    return planes.ok ? { ok: true, value: { kind: "planes", planes: planes.value } } : planes;
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
 * with a fresh libheif instance, box-shrunk by the largest integer factor that still covers
 * `hint` (boxShrinkSize; full size without one). Never throws: a WASM trap/abort comes back
 * as decode_failed.
 */
export async function decodeHeic(
  module: WebAssembly.Module,
  bytes: Uint8Array,
  options: HeicDecodeOptions = {},
): Promise<Result<RgbaImage, TransformError>> {
  const meter = options.meter ?? new WasmMemoryMeter();
  const maxPixels = options.maxPixels ?? Number.POSITIVE_INFINITY;
  try {
    const decoded = await withEmscripten(libheif, module, meter, (m) =>
      decodeIn(m, bytes, maxPixels, options.hint),
    );
    if (!decoded.ok) return decoded;
    if (decoded.value.kind === "frame") return { ok: true, value: decoded.value.frame };
    return framePlanes(decoded.value.planes, options.hint);
  } catch (e) {
    // libheif's own errors come back as Results above, so anything thrown is a trap/abort (the
    // instance is dead and already dropped) or a bug here: neither says the file is bad.
    const trapped = e instanceof WebAssembly.RuntimeError || (e instanceof CodecError && e.trapped);
    const detail = e instanceof Error ? e.message : String(e);
    return fail("decode_failed", `heic decode failed${trapped ? " (WASM trap)" : ""}: ${detail}`);
  }
}
