import { fail, hasAscii, ok, type Parse, u16be } from "./bytes";
import { readExifOrientation } from "./exif";

/** One marker segment; for SOS, `end` also covers the entropy-coded data that follows. */
export interface JpegSegment {
  marker: number;
  /** Offset of the 0xFF that starts the marker. */
  start: number;
  /** Offset of the first payload byte (after the length field). */
  payload: number;
  end: number;
}

/** A walked JPEG: its segments and where the image ends (just after EOI). */
export interface JpegLayout {
  segments: JpegSegment[];
  end: number;
  width: number;
  height: number;
  components: number;
  orientation: number;
  progressive: boolean;
  /** Number of scans (SOS segments); baseline files usually have one. */
  scans: number;
  /**
   * Bytes of DCT coefficients for the whole image (2 bytes each, per component padded to its
   * sampling factors, as libjpeg's jdcoefct.c allocates them). libjpeg keeps them all when the
   * file has several scans (every progressive file); a single-scan file streams instead.
   */
  coefficientBytes: number;
}

const SOI = 0xd8;
const EOI = 0xd9;
const SOS = 0xda;
// Far above any real file (a progressive JPEG has ~10-20 scans); bounds a crafted marker flood.
const MAX_SEGMENTS = 10_000;

/** True for SOF0..SOF15 frame headers; C4 (DHT), C8 (JPG) and CC (DAC) share the range. */
export function isSof(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

function isStandalone(marker: number): boolean {
  return marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7);
}

/** Walks every marker segment and scan of a JPEG, bounds-checked, up to and including EOI. */
export function walkJpeg(b: Uint8Array): Parse<JpegLayout> {
  if (b.length < 4 || b[0] !== 0xff || b[1] !== SOI) return fail("corrupt_image", "JPEG: no SOI");
  const layout: JpegLayout = {
    segments: [],
    end: 0,
    width: 0,
    height: 0,
    components: 0,
    orientation: 1,
    progressive: false,
    scans: 0,
    coefficientBytes: 0,
  };
  let sawExif = false;
  let sawScan = false;
  let off = 2;
  while (layout.segments.length < MAX_SEGMENTS) {
    // libjpeg skips stray bytes between segments with a warning; the strip drops them too.
    while (off < b.length && b[off] !== 0xff) off++;
    while (off + 1 < b.length && b[off + 1] === 0xff) off++;
    if (off + 1 >= b.length) return fail("corrupt_image", "JPEG is truncated (no EOI)");
    const marker = b[off + 1] ?? 0;
    if (marker === 0x00) {
      off += 2;
      continue;
    }
    if (marker === EOI) {
      if (!sawScan) return fail("corrupt_image", "JPEG has no image data before EOI");
      layout.end = off + 2;
      return ok(layout);
    }
    if (marker === SOI) return fail("corrupt_image", "JPEG has a nested SOI");
    if (isStandalone(marker)) {
      layout.segments.push({ marker, start: off, payload: off + 2, end: off + 2 });
      off += 2;
      continue;
    }
    const len = u16be(b, off + 2);
    const end = off + 2 + len;
    if (len < 2 || end > b.length) return fail("corrupt_image", "JPEG segment runs past the end");
    const seg: JpegSegment = { marker, start: off, payload: off + 4, end };
    if (isSof(marker)) {
      const frame = readSof(b, seg, layout);
      if (!frame.ok) return frame;
    } else if (marker === 0xe1 && !sawExif && hasAscii(b, seg.payload, "Exif\0\0")) {
      sawExif = true;
      layout.orientation = readExifOrientation(b.subarray(seg.payload, end));
    } else if (marker === SOS) {
      if (layout.width === 0) return fail("corrupt_image", "JPEG scan before the frame header");
      sawScan = true;
      layout.scans++;
      seg.end = scanEntropy(b, end);
      if (seg.end >= b.length) return fail("corrupt_image", "JPEG is truncated (no EOI)");
    }
    layout.segments.push(seg);
    off = seg.end;
  }
  return fail("corrupt_image", "JPEG has too many segments");
}

function readSof(b: Uint8Array, seg: JpegSegment, layout: JpegLayout): Parse<true> {
  if (layout.width !== 0) return fail("corrupt_image", "JPEG has more than one frame header");
  const p = seg.payload;
  const precision = b[p] ?? 0;
  const height = u16be(b, p + 1);
  const width = u16be(b, p + 3);
  const components = b[p + 5] ?? 0;
  if (seg.end - p !== 6 + 3 * components || components < 1 || components > 4) {
    return fail("corrupt_image", "JPEG frame header is inconsistent");
  }
  if (precision !== 8 && precision !== 12 && precision !== 16) {
    return fail("corrupt_image", `JPEG sample precision ${precision} is invalid`);
  }
  if (width === 0 || height === 0) {
    return fail("corrupt_image", "JPEG declares a zero dimension");
  }
  layout.width = width;
  layout.height = height;
  layout.components = components;
  layout.progressive = seg.marker === 0xc2 || seg.marker === 0xc6 || seg.marker === 0xca;
  let hMax = 1;
  let vMax = 1;
  for (let i = 0; i < components; i++) {
    const f = b[p + 7 + 3 * i] ?? 0x11;
    hMax = Math.max(hMax, f >> 4);
    vMax = Math.max(vMax, f & 15);
  }
  let blocks = 0;
  for (let i = 0; i < components; i++) {
    const f = b[p + 7 + 3 * i] ?? 0x11;
    const h = Math.max(1, f >> 4);
    const v = Math.max(1, f & 15);
    const wBlocks = Math.ceil((width * h) / (8 * hMax));
    const hBlocks = Math.ceil((height * v) / (8 * vMax));
    blocks += Math.ceil(wBlocks / h) * h * Math.ceil(hBlocks / v) * v;
  }
  layout.coefficientBytes = blocks * 64 * 2;
  return ok(true);
}

/** Returns the offset of the first marker after entropy data (not byte stuffing, not RSTn). */
function scanEntropy(b: Uint8Array, from: number): number {
  let p = from;
  const last = b.length - 1;
  while (p < last) {
    // indexOf runs natively: a 12 MP scan is megabytes of entropy data.
    p = b.indexOf(0xff, p);
    if (p < 0 || p >= last) break;
    const n = b[p + 1] ?? 0;
    if (n === 0x00 || (n >= 0xd0 && n <= 0xd7)) p += 2;
    else if (n === 0xff) p++;
    else return p;
  }
  return b.length;
}
