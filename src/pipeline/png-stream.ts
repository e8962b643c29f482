import { crc32, u16be, u32be } from "./bytes";
import type { RgbaImage } from "./codec-glue";
import { InflateError, ZlibInflater } from "./inflate";
import type { DecodeHint } from "./jpeg-turbo";
import { PNG_CHANNELS, walkPng } from "./parse-png";
import { boxShrinkSize, RowShrinker } from "./row-shrink";

/**
 * PNG decoded row by row straight to the size the largest variant needs (shrink-on-load).
 *
 * Only the previous and current filtered row exist at any time; each row becomes RGBA8 and
 * goes into a RowShrinker, so memory follows the output frame, not the image (a 10000x10000
 * 1-bit scan needs a 2500x2500 frame, not 400 MB). The zlib stream is inflated by a pull
 * inflater (inflate.ts) that makes at most 128 KiB per step, so a stream that inflates
 * ~1000:1 never piles up, and the decoder stops as soon as the data runs past the last row.
 *
 * Adam7 images are the exception: their passes cover the frame sparsely, so they are
 * assembled in a full-size RGBA frame (4 bytes a pixel) and shrunk afterwards.
 */

/** The PNG's data is malformed (bad CRC, zlib error, too little or too much data, bad index). */
export class PngDecodeError extends Error {}

/** How a pixel whose palette index is past PLTE is reported (png-repair.ts can pad PLTE). */
export const PALETTE_INDEX_ERROR = "PNG palette index";

interface PngHeader {
  width: number;
  height: number;
  depth: number;
  colorType: number;
  interlaced: boolean;
}

/** Adam7 passes: x0, y0, dx, dy. */
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
] as const;

/** The size decodePngScaled returns for this hint (the integer box shrink covering it). */
export function pngScaledSize(
  width: number,
  height: number,
  hint: DecodeHint | undefined,
): { width: number; height: number } {
  const s = boxShrinkSize(width, height, hint);
  return { width: s.width, height: s.height };
}

function fail(why: string): never {
  throw new PngDecodeError(why);
}

/** Checks a chunk's CRC: the decoder relies on IHDR, PLTE, tRNS and IDAT being intact. */
function checkCrc(b: Uint8Array, start: number, end: number, type: string): void {
  if (crc32(b, start + 4, end - 4) !== u32be(b, end - 4)) fail(`PNG chunk ${type} has a bad CRC`);
}

/**
 * Converts one unfiltered row (filter byte at 0, samples from 1) of `width` pixels to RGBA8 at
 * `out[o..]`. Built once per image for its colour type and bit depth.
 */
type RowConverter = (raw: Uint8Array, width: number, out: Uint8Array, o: number) => void;

function paletteConverter(depth: number, plte: Uint8Array, trns: Uint8Array | null): RowConverter {
  const entries = Math.floor(plte.length / 3);
  const lut = new Uint8Array(256 * 4);
  for (let i = 0; i < entries; i++) {
    lut[i * 4] = plte[i * 3] ?? 0;
    lut[i * 4 + 1] = plte[i * 3 + 1] ?? 0;
    lut[i * 4 + 2] = plte[i * 3 + 2] ?? 0;
    lut[i * 4 + 3] = trns && i < trns.length ? (trns[i] ?? 255) : 255;
  }
  const mask = (1 << depth) - 1;
  return (raw, width, out, o) => {
    for (let x = 0; x < width; x++) {
      const bit = x * depth;
      const idx =
        depth === 8
          ? (raw[1 + x] ?? 0)
          : ((raw[1 + (bit >> 3)] ?? 0) >> (8 - depth - (bit & 7))) & mask;
      // Strict, as libpng's default for an index past the palette: the data is wrong.
      if (idx >= entries) fail(`${PALETTE_INDEX_ERROR} ${idx} is past its ${entries} entries`);
      const s = idx * 4;
      const d = o + x * 4;
      out[d] = lut[s] ?? 0;
      out[d + 1] = lut[s + 1] ?? 0;
      out[d + 2] = lut[s + 2] ?? 0;
      out[d + 3] = lut[s + 3] ?? 0;
    }
  };
}

/** 16-bit sample to 8-bit, rounded: round(v * 255 / 65535). */
function to8(v: number): number {
  return ((v * 255 + 32767) / 65535) | 0;
}

function grayConverter(depth: number, trns: Uint8Array | null): RowConverter {
  // The tRNS gray value is compared with the sample at the image's own bit depth.
  const key = trns && trns.length >= 2 ? u16be(trns, 0) : -1;
  if (depth === 16) {
    return (raw, width, out, o) => {
      for (let x = 0; x < width; x++) {
        const v = ((raw[1 + x * 2] ?? 0) << 8) | (raw[2 + x * 2] ?? 0);
        const g = to8(v);
        const d = o + x * 4;
        out[d] = g;
        out[d + 1] = g;
        out[d + 2] = g;
        out[d + 3] = v === key ? 0 : 255;
      }
    };
  }
  const mask = (1 << depth) - 1;
  const scale = 255 / mask;
  return (raw, width, out, o) => {
    for (let x = 0; x < width; x++) {
      const bit = x * depth;
      const v =
        depth === 8
          ? (raw[1 + x] ?? 0)
          : ((raw[1 + (bit >> 3)] ?? 0) >> (8 - depth - (bit & 7))) & mask;
      const g = v * scale;
      const d = o + x * 4;
      out[d] = g;
      out[d + 1] = g;
      out[d + 2] = g;
      out[d + 3] = v === key ? 0 : 255;
    }
  };
}

function rgbConverter(depth: number, trns: Uint8Array | null): RowConverter {
  const keyed = trns !== null && trns.length >= 6;
  const kr = keyed ? u16be(trns, 0) : -1;
  const kg = keyed ? u16be(trns, 2) : -1;
  const kb = keyed ? u16be(trns, 4) : -1;
  if (depth === 16) {
    return (raw, width, out, o) => {
      for (let x = 0; x < width; x++) {
        const s = 1 + x * 6;
        const r = ((raw[s] ?? 0) << 8) | (raw[s + 1] ?? 0);
        const g = ((raw[s + 2] ?? 0) << 8) | (raw[s + 3] ?? 0);
        const b = ((raw[s + 4] ?? 0) << 8) | (raw[s + 5] ?? 0);
        const d = o + x * 4;
        out[d] = to8(r);
        out[d + 1] = to8(g);
        out[d + 2] = to8(b);
        out[d + 3] = r === kr && g === kg && b === kb ? 0 : 255;
      }
    };
  }
  return (raw, width, out, o) => {
    for (let x = 0; x < width; x++) {
      const s = 1 + x * 3;
      const r = raw[s] ?? 0;
      const g = raw[s + 1] ?? 0;
      const b = raw[s + 2] ?? 0;
      const d = o + x * 4;
      out[d] = r;
      out[d + 1] = g;
      out[d + 2] = b;
      out[d + 3] = r === kr && g === kg && b === kb ? 0 : 255;
    }
  };
}

function grayAlphaConverter(depth: number): RowConverter {
  if (depth === 16) {
    return (raw, width, out, o) => {
      for (let x = 0; x < width; x++) {
        const s = 1 + x * 4;
        const g = to8(((raw[s] ?? 0) << 8) | (raw[s + 1] ?? 0));
        const d = o + x * 4;
        out[d] = g;
        out[d + 1] = g;
        out[d + 2] = g;
        out[d + 3] = to8(((raw[s + 2] ?? 0) << 8) | (raw[s + 3] ?? 0));
      }
    };
  }
  return (raw, width, out, o) => {
    for (let x = 0; x < width; x++) {
      const g = raw[1 + x * 2] ?? 0;
      const d = o + x * 4;
      out[d] = g;
      out[d + 1] = g;
      out[d + 2] = g;
      out[d + 3] = raw[2 + x * 2] ?? 0;
    }
  };
}

function rgbaConverter(depth: number): RowConverter {
  if (depth === 16) {
    return (raw, width, out, o) => {
      for (let i = 0; i < width * 4; i++) {
        out[o + i] = to8(((raw[1 + i * 2] ?? 0) << 8) | (raw[2 + i * 2] ?? 0));
      }
    };
  }
  return (raw, width, out, o) => {
    out.set(raw.subarray(1, 1 + width * 4), o);
  };
}

function converter(h: PngHeader, plte: Uint8Array | null, trns: Uint8Array | null): RowConverter {
  switch (h.colorType) {
    case 0:
      return grayConverter(h.depth, trns);
    case 2:
      return rgbConverter(h.depth, trns);
    case 3:
      if (!plte) return fail("PNG palette is missing");
      return paletteConverter(h.depth, plte, trns);
    case 4:
      return grayAlphaConverter(h.depth);
    default:
      return rgbaConverter(h.depth);
  }
}

/** Undoes the row's filter in place (`cur[0]` is the filter type; `prev` is the row above). */
export function unfilterRow(cur: Uint8Array, prev: Uint8Array, bpp: number, len: number): void {
  const type = cur[0];
  switch (type) {
    case 0:
      return;
    case 1:
      for (let i = 1 + bpp; i < len; i++) cur[i] = ((cur[i] ?? 0) + (cur[i - bpp] ?? 0)) & 255;
      return;
    case 2:
      for (let i = 1; i < len; i++) cur[i] = ((cur[i] ?? 0) + (prev[i] ?? 0)) & 255;
      return;
    case 3:
      for (let i = 1; i < len; i++) {
        const left = i > bpp ? (cur[i - bpp] ?? 0) : 0;
        cur[i] = ((cur[i] ?? 0) + ((left + (prev[i] ?? 0)) >> 1)) & 255;
      }
      return;
    case 4:
      for (let i = 1; i < len; i++) {
        const a = i > bpp ? (cur[i - bpp] ?? 0) : 0;
        const b = prev[i] ?? 0;
        const c = i > bpp ? (prev[i - bpp] ?? 0) : 0;
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        const pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
        cur[i] = ((cur[i] ?? 0) + pred) & 255;
      }
      return;
    default:
      fail(`PNG row has unknown filter type ${type}`);
  }
}

/** One run of rows sharing a width: the whole image, or one Adam7 pass. */
interface Pass {
  width: number;
  rows: number;
  /** Takes the unfiltered row `row` (filter byte first) and converts it where it belongs. */
  emit: (raw: Uint8Array, row: number) => void;
}

function readHeader(b: Uint8Array, start: number): PngHeader {
  return {
    width: u32be(b, start),
    height: u32be(b, start + 4),
    depth: b[start + 8] ?? 0,
    colorType: b[start + 9] ?? 0,
    interlaced: b[start + 12] === 1,
  };
}

/**
 * Decodes a PNG's IDAT image to 8-bit RGBA, box-shrunk by the largest integer factor that
 * still covers `hint` (see pngScaledSize); without a hint, at full size. Throws
 * PngDecodeError for malformed data.
 */
export function decodePngScaled(bytes: Uint8Array, hint?: DecodeHint): RgbaImage {
  const layout = walkPng(bytes, false);
  if (!layout.ok) fail(layout.error.detail);
  const chunks = layout.value.chunks;
  const ihdr = chunks[0];
  if (!ihdr) return fail("PNG has no IHDR");
  const h = readHeader(bytes, ihdr.data);
  let plte: Uint8Array | null = null;
  let trns: Uint8Array | null = null;
  const idat: Uint8Array[] = [];
  for (const c of chunks) {
    if (c.type !== "PLTE" && c.type !== "tRNS" && c.type !== "IDAT") continue;
    checkCrc(bytes, c.start, c.end, c.type);
    const data = bytes.subarray(c.data, c.data + c.length);
    if (c.type === "IDAT") idat.push(data);
    else if (c.type === "PLTE") plte = data;
    else trns = data;
  }
  const channels = PNG_CHANNELS[h.colorType] ?? 0;
  const bitsPerPixel = channels * h.depth;
  // Filters work on whole bytes: the distance to "the same byte of the pixel to the left".
  const bpp = Math.max(1, bitsPerPixel >> 3);
  const convert = converter(h, plte, trns);
  const { factor } = boxShrinkSize(h.width, h.height, hint);
  const shrinker = factor > 1 ? new RowShrinker(h.width, h.height, factor) : null;

  // One RGBA row of the widest pass, reused for every row.
  const rgba = new Uint8Array(h.width * 4);
  const passes: Pass[] = [];
  let frame: Uint8Array | null = null;
  if (!h.interlaced && shrinker) {
    passes.push({
      width: h.width,
      rows: h.height,
      emit: (raw) => {
        convert(raw, h.width, rgba, 0);
        shrinker.push(rgba);
      },
    });
  } else if (!h.interlaced) {
    // At factor 1 rows are converted straight into the output frame.
    const direct = new Uint8Array(h.width * h.height * 4);
    frame = direct;
    passes.push({
      width: h.width,
      rows: h.height,
      emit: (raw, row) => convert(raw, h.width, direct, row * h.width * 4),
    });
  } else {
    const full = new Uint8Array(h.width * h.height * 4);
    frame = full;
    for (const [x0, y0, dx, dy] of ADAM7) {
      const width = Math.ceil(Math.max(0, h.width - x0) / dx);
      const rows = Math.ceil(Math.max(0, h.height - y0) / dy);
      // An empty pass has no rows at all, not even filter bytes.
      if (width === 0 || rows === 0) continue;
      passes.push({
        width,
        rows,
        emit: (raw, row) => {
          convert(raw, width, rgba, 0);
          const base = (y0 + row * dy) * h.width;
          for (let i = 0; i < width; i++) {
            const s = i * 4;
            const d = (base + x0 + i * dx) * 4;
            full[d] = rgba[s] ?? 0;
            full[d + 1] = rgba[s + 1] ?? 0;
            full[d + 2] = rgba[s + 2] ?? 0;
            full[d + 3] = rgba[s + 3] ?? 0;
          }
        },
      });
    }
  }

  runPasses(idat, passes, bpp, bitsPerPixel, h.width);

  if (h.interlaced && shrinker && frame) {
    const rowBytes = h.width * 4;
    for (let y = 0; y < h.height; y++) shrinker.push(frame, y * rowBytes);
    frame = null;
  }
  if (shrinker) return shrinker.finish();
  if (!frame) return fail("PNG decoder produced no frame");
  return { width: h.width, height: h.height, data: frame };
}

/**
 * Inflates the IDAT stream and feeds it, row by row, through unfilter and conversion to each
 * pass in turn. Exactly the bytes the passes need must come out of the stream.
 */
function runPasses(
  idat: readonly Uint8Array[],
  passes: readonly Pass[],
  bpp: number,
  bitsPerPixel: number,
  maxWidth: number,
): void {
  const maxLen = 1 + Math.ceil((maxWidth * bitsPerPixel) / 8);
  let cur = new Uint8Array(maxLen);
  let prev = new Uint8Array(maxLen);
  const inflater = new ZlibInflater(idat);
  let p = 0;
  let pass = passes[0];
  let rowLen = pass ? 1 + Math.ceil((pass.width * bitsPerPixel) / 8) : 0;
  let row = 0;
  let fill = 0;
  try {
    for (let chunk = inflater.next(); chunk; chunk = inflater.next()) {
      let i = 0;
      while (i < chunk.length) {
        if (!pass) fail("PNG has more image data than its header describes");
        // A byte loop, not set(subarray): a view per row is garbage the GC may keep for a while.
        const n = Math.min(rowLen - fill, chunk.length - i);
        for (let k = 0; k < n; k++) cur[fill + k] = chunk[i + k] ?? 0;
        fill += n;
        i += n;
        if (fill < rowLen) break;
        unfilterRow(cur, prev, bpp, rowLen);
        pass.emit(cur, row);
        const t = prev;
        prev = cur;
        cur = t;
        fill = 0;
        if (++row === pass.rows) {
          // Each pass starts with no row above it.
          prev.fill(0);
          row = 0;
          pass = passes[++p];
          rowLen = pass ? 1 + Math.ceil((pass.width * bitsPerPixel) / 8) : 0;
        }
      }
    }
  } catch (e) {
    if (e instanceof InflateError) fail(`PNG image data: ${e.message}`);
    throw e;
  }
  if (pass) fail("PNG image data ends before the last row");
}
