import { ascii, crc32, fail, ok, type Parse, u32be } from "./bytes";
import { readExifOrientation } from "./exif";

/** One PNG chunk: `start` is its length field, `data` its payload, `end` just after the CRC. */
export interface PngChunk {
  type: string;
  start: number;
  data: number;
  length: number;
  end: number;
}

/** A walked PNG up to IEND. */
export interface PngLayout {
  chunks: PngChunk[];
  end: number;
  width: number;
  height: number;
  hasAlpha: boolean;
  /** Adam7 interlace (IHDR interlace method 1). */
  interlaced: boolean;
  frames: number;
  orientation: number;
}

/** The 8-byte PNG signature. */
export const PNG_SIGNATURE = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const MAX_CHUNKS = 100_000;
/** Samples a pixel per PNG colour type (gray, RGB, palette, gray + alpha, RGBA). */
export const PNG_CHANNELS: Readonly<Record<number, number>> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const VALID_DEPTHS: Record<number, readonly number[]> = {
  0: [1, 2, 4, 8, 16],
  2: [8, 16],
  3: [1, 2, 4, 8],
  4: [8, 16],
  6: [8, 16],
};

function isChunkType(t: string): boolean {
  return /^[A-Za-z]{4}$/.test(t);
}

/**
 * Walks every chunk of a PNG to IEND. The IHDR CRC is always verified (a header edited
 * without fixing its CRC is a lie); `verifyAllCrcs` extends that to every chunk.
 */
export function walkPng(b: Uint8Array, verifyAllCrcs: boolean): Parse<PngLayout> {
  if (b.length < 8 || !PNG_SIGNATURE.every((v, i) => b[i] === v)) {
    return fail("corrupt_image", "PNG: bad signature");
  }
  const layout: PngLayout = {
    chunks: [],
    end: 0,
    width: 0,
    height: 0,
    hasAlpha: false,
    interlaced: false,
    frames: 1,
    orientation: 1,
  };
  let colorType = -1;
  let sawIdat = false;
  let sawPlte = false;
  let sawActl = false;
  let fctls = 0;
  let off = 8;
  while (layout.chunks.length < MAX_CHUNKS) {
    if (off + 12 > b.length) return fail("corrupt_image", "PNG is truncated (no IEND)");
    const length = u32be(b, off);
    const type = ascii(b, off + 4, 4);
    const end = off + 12 + length;
    if (length > 0x7fffffff || end > b.length) {
      return fail("corrupt_image", `PNG chunk ${JSON.stringify(type)} runs past the end`);
    }
    if (!isChunkType(type)) return fail("corrupt_image", "PNG chunk type is not ASCII letters");
    const chunk: PngChunk = { type, start: off, data: off + 8, length, end };
    if (layout.chunks.length === 0 && type !== "IHDR") {
      return fail("corrupt_image", "PNG does not start with IHDR");
    }
    if ((verifyAllCrcs || type === "IHDR") && crc32(b, off + 4, end - 4) !== u32be(b, end - 4)) {
      return fail("corrupt_image", `PNG chunk ${type} has a bad CRC`);
    }
    const data = b.subarray(chunk.data, chunk.data + length);
    switch (type) {
      case "IHDR": {
        if (layout.chunks.length !== 0 || length !== 13) {
          return fail("corrupt_image", "PNG IHDR is malformed");
        }
        layout.width = u32be(data, 0);
        layout.height = u32be(data, 4);
        const depth = data[8] ?? 0;
        colorType = data[9] ?? 0;
        if (!VALID_DEPTHS[colorType]?.includes(depth)) {
          return fail("corrupt_image", `PNG colour type ${colorType} with depth ${depth}`);
        }
        if (data[10] !== 0 || data[11] !== 0 || (data[12] ?? 2) > 1) {
          return fail("corrupt_image", "PNG IHDR uses an unknown method");
        }
        layout.hasAlpha = colorType === 4 || colorType === 6;
        layout.interlaced = data[12] === 1;
        break;
      }
      case "PLTE":
        sawPlte = true;
        break;
      case "tRNS":
        layout.hasAlpha = true;
        break;
      case "IDAT":
        sawIdat = true;
        break;
      case "acTL":
        if (!sawIdat) sawActl = true;
        break;
      case "fcTL":
        fctls++;
        break;
      case "eXIf":
        layout.orientation = readExifOrientation(data);
        break;
      case "IEND":
        if (!sawIdat) return fail("corrupt_image", "PNG has no image data");
        if (colorType === 3 && !sawPlte) return fail("corrupt_image", "PNG palette is missing");
        layout.chunks.push(chunk);
        layout.end = end;
        // Count the frames actually present: acTL's num_frames is a claim, fcTL chunks are data.
        layout.frames = sawActl ? Math.max(1, fctls) : 1;
        return ok(layout);
      default:
        if (type.charCodeAt(0) < 0x61) {
          return fail("corrupt_image", `PNG has an unknown critical chunk ${type}`);
        }
    }
    layout.chunks.push(chunk);
    off = end;
  }
  return fail("corrupt_image", "PNG has too many chunks");
}
