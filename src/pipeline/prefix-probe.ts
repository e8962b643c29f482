import { ascii, hasAscii, u16be, u16le, u24le, u32be } from "./bytes";
import { MAX_SIDE } from "./probe";
import { describeUnsupported, sniffFormat } from "./sniff";
import type { ImageFormat } from "./types";

/**
 * An early look at the first bytes of an upload that is still arriving (resumable uploads):
 * the format from the magic bytes, and the declared size as soon as the header that holds it
 * has arrived. The processor's full probe (probe.ts) still decides; this only refuses what
 * can never be processed before the rest is sent.
 */
export type PrefixVerdict =
  | { kind: "need_more" }
  | { kind: "accepted"; format: ImageFormat; width: number | null; height: number | null }
  | { kind: "refused"; code: "unsupported_format" | "too_many_pixels"; detail: string };

/** Bytes after which the probe stops waiting for a header (a JPEG's APP segments can be long). */
export const PREFIX_PROBE_LIMIT = 256 * 1024;

/** Enough bytes for every magic number, ISOBMFF's `ftyp` included. */
const SNIFF_BYTES = 64;

type Dims = { width: number; height: number } | "need_more" | "unknown";

/**
 * Judges the first `head.length` bytes of an upload; `complete` when they are all of it.
 * `maxPixels` is the processor's ceiling (MAX_PIXELS).
 */
export function probePrefix(head: Uint8Array, complete: boolean, maxPixels: number): PrefixVerdict {
  if (head.length < SNIFF_BYTES && !complete) return { kind: "need_more" };
  const format = sniffFormat(head);
  if (!format) {
    if (!complete && truncatedFtyp(head)) return { kind: "need_more" };
    return { kind: "refused", code: "unsupported_format", detail: describeUnsupported(head) };
  }
  let dims = readDims(head, format);
  if (dims === "need_more" && (complete || head.length >= PREFIX_PROBE_LIMIT)) dims = "unknown";
  if (dims === "need_more") return { kind: "need_more" };
  if (dims === "unknown") return { kind: "accepted", format, width: null, height: null };
  const { width, height } = dims;
  if (width > MAX_SIDE || height > MAX_SIDE || width * height > maxPixels) {
    return {
      kind: "refused",
      code: "too_many_pixels",
      detail: `${format} declares ${width}x${height}; the limit is ${maxPixels} pixels and ${MAX_SIDE} a side.`,
    };
  }
  return { kind: "accepted", format, width, height };
}

function truncatedFtyp(b: Uint8Array): boolean {
  return hasAscii(b, 4, "ftyp") && u32be(b, 0) > b.length && u32be(b, 0) <= 4096;
}

function readDims(b: Uint8Array, format: ImageFormat): Dims {
  switch (format) {
    case "png":
      // IHDR is the first chunk: width and height at 16 and 20.
      return b.length < 24 ? "need_more" : { width: u32be(b, 16), height: u32be(b, 20) };
    case "gif":
      return b.length < 10 ? "need_more" : { width: u16le(b, 6), height: u16le(b, 8) };
    case "webp":
      return webpDims(b);
    case "jpeg":
      return jpegDims(b);
    case "avif":
    case "heic":
      return isobmffDims(b);
  }
}

function webpDims(b: Uint8Array): Dims {
  if (b.length < 30) return "need_more";
  const chunk = ascii(b, 12, 4);
  if (chunk === "VP8X") return { width: u24le(b, 24) + 1, height: u24le(b, 27) + 1 };
  if (chunk === "VP8L") {
    const bits = (b[21] ?? 0) | ((b[22] ?? 0) << 8) | ((b[23] ?? 0) << 16) | ((b[24] ?? 0) << 24);
    return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  }
  if (chunk === "VP8 ") return { width: u16le(b, 26) & 0x3fff, height: u16le(b, 28) & 0x3fff };
  return "unknown";
}

const SOF = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);

/** Walks the JPEG segments before the first frame header (SOFn). */
function jpegDims(b: Uint8Array): Dims {
  let o = 2;
  for (;;) {
    if (o + 4 > b.length) return "need_more";
    if (b[o] !== 0xff) return "unknown";
    const marker = b[o + 1] ?? 0;
    if (marker === 0xff) {
      o++; // fill byte
      continue;
    }
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      o += 2;
      continue;
    }
    const length = u16be(b, o + 2);
    if (length < 2) return "unknown";
    if (SOF.has(marker)) {
      if (o + 9 > b.length) return "need_more";
      return { width: u16be(b, o + 7), height: u16be(b, o + 5) };
    }
    if (marker === 0xda || marker === 0xd9) return "unknown";
    o += 2 + length;
  }
}

/**
 * HEIC and AVIF: the largest `ispe` (image spatial extent) in the top-level `meta` box, which
 * phones and encoders write before the media data. A grid's own `ispe` is its full size.
 */
function isobmffDims(b: Uint8Array): Dims {
  let o = 0;
  while (o + 8 <= b.length) {
    const size = u32be(b, o);
    const type = ascii(b, o + 4, 4);
    if (size < 8) return "unknown"; // 0 (to the end) or 1 (64-bit): not a meta box we can bound
    if (type === "meta") {
      if (o + size > b.length) return "need_more";
      return largestIspe(b, o + 8, o + size);
    }
    if (type === "mdat") return "unknown";
    o += size;
  }
  return "need_more";
}

function largestIspe(b: Uint8Array, start: number, end: number): Dims {
  let best: { width: number; height: number } | null = null;
  for (let o = start; o + 20 <= end; o++) {
    if (b[o + 4] !== 0x69 || !hasAscii(b, o + 4, "ispe") || u32be(b, o) !== 20) continue;
    const width = u32be(b, o + 12);
    const height = u32be(b, o + 16);
    if (!best || width * height > best.width * best.height) best = { width, height };
  }
  return best ?? "unknown";
}
