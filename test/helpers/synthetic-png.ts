/**
 * A small PNG writer for tests, so 4K-6K screenshots and 100 MP scans can be made at test
 * time instead of shipped. Runs in workerd and Node (CompressionStream('deflate')). Rows are
 * given unfiltered and packed at the PNG's bit depth; each row gets one of the five filters
 * (by default they cycle, so every filter is exercised), and IDAT is split like real encoders
 * do.
 */
import { concat, crc32 } from "../../src/pipeline/bytes";
import { PNG_SIGNATURE } from "../../src/pipeline/parse-png";

function u32(v: number): number[] {
  return [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
}

/** One chunk: length, type, data, CRC (`badCrc` flips the CRC's last bit). */
export function pngChunk(type: string, data: Uint8Array, badCrc = false): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  out.set(u32(data.length), 0);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  const crc = crc32(out.subarray(4, 8 + data.length)) ^ (badCrc ? 1 : 0);
  out.set(u32(crc >>> 0), 8 + data.length);
  return out;
}

/** The signature followed by `chunks`. */
export function pngFile(chunks: readonly Uint8Array[]): Uint8Array {
  return concat([PNG_SIGNATURE, ...chunks]);
}

/** IHDR payload. */
export function ihdr(
  width: number,
  height: number,
  depth: number,
  colorType: number,
  interlace = 0,
): Uint8Array {
  return new Uint8Array([...u32(width), ...u32(height), depth, colorType, 0, 0, interlace]);
}

/** zlib-compresses a sequence of byte arrays (fed one by one, output collected as it comes). */
export async function zlibCompress(parts: Iterable<Uint8Array>): Promise<Uint8Array> {
  const cs = new CompressionStream("deflate");
  const writer = cs.writable.getWriter();
  const reader = cs.readable.getReader();
  const out: Uint8Array[] = [];
  const reading = (async () => {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      out.push(value);
    }
  })();
  for (const p of parts) await writer.write(p);
  await writer.close();
  await reading;
  return concat(out);
}

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/** What to write: the header fields, raw rows, and optional palette / transparency. */
export interface SyntheticPngSpec {
  width: number;
  height: number;
  colorType: 0 | 2 | 3 | 4 | 6;
  depth: 1 | 2 | 4 | 8 | 16;
  /** Writes row `y`, unfiltered and packed at `depth`, into `out` (zeroed beforehand). */
  row: (y: number, out: Uint8Array) => void;
  /** Filter type for row `y` (0-4); default `y % 5`. */
  filter?: (y: number) => number;
  palette?: Uint8Array;
  trns?: Uint8Array;
  /** IDAT chunk size (default 64 KiB). */
  idatSize?: number;
}

/** Applies PNG filter `type` to `raw` (with `prev` the raw row above) into out[1..]. */
export function filterRow(
  type: number,
  raw: Uint8Array,
  prev: Uint8Array,
  bpp: number,
  out: Uint8Array,
): void {
  out[0] = type;
  for (let i = 0; i < raw.length; i++) {
    const x = raw[i] ?? 0;
    const a = i >= bpp ? (raw[i - bpp] ?? 0) : 0;
    const b = prev[i] ?? 0;
    const c = i >= bpp ? (prev[i - bpp] ?? 0) : 0;
    let pred = 0;
    if (type === 1) pred = a;
    else if (type === 2) pred = b;
    else if (type === 3) pred = (a + b) >> 1;
    else if (type === 4) {
      const p = a + b - c;
      const pa = Math.abs(p - a);
      const pb = Math.abs(p - b);
      const pc = Math.abs(p - c);
      pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }
    out[i + 1] = (x - pred) & 255;
  }
}

/** Filtered scanlines of a non-interlaced image, batched into ~64 KiB pieces. */
function* scanlines(spec: SyntheticPngSpec): Generator<Uint8Array> {
  const bitsPerPixel = (CHANNELS[spec.colorType] ?? 1) * spec.depth;
  const stride = Math.ceil((spec.width * bitsPerPixel) / 8);
  const bpp = Math.max(1, bitsPerPixel >> 3);
  let raw = new Uint8Array(stride);
  let prev = new Uint8Array(stride);
  const rowsPerBatch = Math.max(1, Math.floor(65536 / (stride + 1)));
  let batch = new Uint8Array(rowsPerBatch * (stride + 1));
  let n = 0;
  for (let y = 0; y < spec.height; y++) {
    raw.fill(0);
    spec.row(y, raw);
    const type = spec.filter ? spec.filter(y) : y % 5;
    filterRow(type, raw, prev, bpp, batch.subarray(n * (stride + 1), (n + 1) * (stride + 1)));
    [raw, prev] = [prev, raw];
    if (++n === rowsPerBatch) {
      yield batch;
      batch = new Uint8Array(rowsPerBatch * (stride + 1));
      n = 0;
    }
  }
  if (n > 0) yield batch.subarray(0, n * (stride + 1));
}

/** Splits a zlib stream into IDAT chunks. */
export function idatChunks(z: Uint8Array, size = 65536): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let o = 0; o < z.length; o += size) out.push(pngChunk("IDAT", z.subarray(o, o + size)));
  return out;
}

/** Writes a complete non-interlaced PNG. */
export async function syntheticPng(spec: SyntheticPngSpec): Promise<Uint8Array> {
  const z = await zlibCompress(scanlines(spec));
  const chunks = [pngChunk("IHDR", ihdr(spec.width, spec.height, spec.depth, spec.colorType))];
  if (spec.palette) chunks.push(pngChunk("PLTE", spec.palette));
  if (spec.trns) chunks.push(pngChunk("tRNS", spec.trns));
  chunks.push(...idatChunks(z, spec.idatSize), pngChunk("IEND", new Uint8Array(0)));
  return pngFile(chunks);
}

/** The zlib stream of a non-interlaced image's scanlines (for tests that tamper with it). */
export async function syntheticScanlines(spec: SyntheticPngSpec): Promise<Uint8Array> {
  return zlibCompress(scanlines(spec));
}

/** Quadrant colours of the screenshot card, upright: red TL, green TR, blue BL, white BR. */
export const SCREENSHOT_COLORS = {
  topLeft: [230, 20, 20],
  topRight: [20, 200, 20],
  bottomLeft: [20, 20, 230],
  bottomRight: [245, 245, 245],
} as const;

/**
 * A screenshot-like RGB(A) image: four flat-ish quadrants with a gentle gradient, columns of
 * dark "text" lines (x in 25-40 % and 60-75 % of the width, so the quadrant colours at 10-15 %
 * and 90 % stay clean) and, with alpha, a fully transparent strip at x < 5 % and a
 * half-transparent one at 5-8 %.
 */
export function screenshotSpec(width: number, height: number, alpha: boolean): SyntheticPngSpec {
  const c = SCREENSHOT_COLORS;
  const channels = alpha ? 4 : 3;
  const textCols = [
    [Math.floor(width * 0.25), Math.floor(width * 0.4)],
    [Math.floor(width * 0.6), Math.floor(width * 0.75)],
  ] as const;
  return {
    width,
    height,
    colorType: alpha ? 6 : 2,
    depth: 8,
    row: (y, out) => {
      const bottom = y >= height / 2;
      const line = y % 24;
      const textRow = line >= 6 && line < 17;
      const shade = Math.floor((y * 24) / height) - 12;
      for (let x = 0; x < width; x++) {
        const right = x >= width / 2;
        const base = bottom
          ? right
            ? c.bottomRight
            : c.bottomLeft
          : right
            ? c.topRight
            : c.topLeft;
        const o = x * channels;
        let dark = false;
        if (textRow) {
          for (const [a, b] of textCols) {
            // Words of 5-12 glyph columns with gaps, a different rhythm on every line.
            if (x >= a && x < b)
              dark = ((x - a + (y >> 4) * 7) % 53) % 9 < 5 && (x * 31 + y) % 7 < 4;
          }
        }
        const g = Math.floor((x * 16) / width) - 8 + shade;
        out[o] = dark ? 30 : Math.max(0, Math.min(255, base[0] + g));
        out[o + 1] = dark ? 30 : Math.max(0, Math.min(255, base[1] + g));
        out[o + 2] = dark ? 40 : Math.max(0, Math.min(255, base[2] + g));
        if (alpha) out[o + 3] = x < width * 0.05 ? 0 : x < width * 0.08 ? 128 : 255;
      }
    },
  };
}

/**
 * A scanned-document-like 1-bit grayscale page: white with 8 % margins and lines of black
 * "text" (glyph rows 14-40 of every 60), the kind of file that inflates ~100-1000:1.
 */
export function scanSpec(width: number, height: number): SyntheticPngSpec {
  const left = Math.floor(width * 0.08);
  const right = width - left;
  const top = Math.floor(height * 0.08);
  const bottom = height - top;
  return {
    width,
    height,
    colorType: 0,
    depth: 1,
    filter: (y) => (y % 2 === 0 ? 0 : 2),
    row: (y, out) => {
      // 1 = white; black glyph pixels are cleared.
      out.fill(0xff);
      const line = y % 60;
      if (y < top || y >= bottom || line < 14 || line >= 40) return;
      const lineNo = Math.floor(y / 60);
      for (let x = left; x < right; x++) {
        const inWord = (x + lineNo * 37) % 90 < 70;
        const ink = inWord && ((x * 7 + line * 3 + lineNo) % 13 < 4 || line === 30);
        if (ink) out[x >> 3] = (out[x >> 3] ?? 0) & ~(0x80 >> (x & 7));
      }
      // Padding bits past the width stay 1; they are ignored.
    },
  };
}
