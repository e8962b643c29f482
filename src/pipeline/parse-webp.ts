import { ascii, fail, ok, type Parse, u16le, u24le, u32le } from "./bytes";
import { readExifOrientation } from "./exif";

/** One RIFF chunk: `start` is its FourCC, `data` its payload; `end` includes the pad byte. */
export interface WebpChunk {
  fourcc: string;
  start: number;
  data: number;
  size: number;
  end: number;
}

/** A walked WebP container. `end` is the end of the RIFF payload. */
export interface WebpLayout {
  chunks: WebpChunk[];
  end: number;
  width: number;
  height: number;
  frames: number;
  hasAlpha: boolean;
  orientation: number;
}

/** VP8X flag bits. */
export const VP8X_ICC = 0x20;
export const VP8X_ALPHA = 0x10;
export const VP8X_EXIF = 0x08;
export const VP8X_XMP = 0x04;
export const VP8X_ANIMATION = 0x02;

const MAX_CHUNKS = 100_000;

/** Width/height/alpha of a bare VP8 or VP8L bitstream chunk. */
export function bitstreamInfo(
  b: Uint8Array,
  chunk: WebpChunk,
): Parse<{ width: number; height: number; alpha: boolean }> {
  const p = chunk.data;
  if (chunk.fourcc === "VP8 ") {
    if (chunk.size < 10 || b[p + 3] !== 0x9d || b[p + 4] !== 0x01 || b[p + 5] !== 0x2a) {
      return fail("corrupt_image", "WebP VP8 frame header is invalid");
    }
    if (((b[p] ?? 1) & 1) !== 0) return fail("corrupt_image", "WebP VP8 frame is not a keyframe");
    const width = u16le(b, p + 6) & 0x3fff;
    const height = u16le(b, p + 8) & 0x3fff;
    return ok({ width, height, alpha: false });
  }
  if (chunk.size < 5 || b[p] !== 0x2f) return fail("corrupt_image", "WebP VP8L header is invalid");
  const bits = u32le(b, p + 1);
  if (bits >>> 29 !== 0) return fail("corrupt_image", "WebP VP8L version is unknown");
  return ok({
    width: (bits & 0x3fff) + 1,
    height: ((bits >>> 14) & 0x3fff) + 1,
    alpha: ((bits >>> 28) & 1) === 1,
  });
}

/** Walks the RIFF chunks of a WebP and reads size, alpha, animation and EXIF orientation. */
export function walkWebp(b: Uint8Array): Parse<WebpLayout> {
  if (b.length < 20) return fail("corrupt_image", "WebP is truncated");
  const riffEnd = 8 + u32le(b, 4);
  if (riffEnd > b.length) return fail("corrupt_image", "WebP is truncated (RIFF size)");
  const layout: WebpLayout = {
    chunks: [],
    end: riffEnd,
    width: 0,
    height: 0,
    frames: 1,
    hasAlpha: false,
    orientation: 1,
  };
  let off = 12;
  while (off + 8 <= riffEnd && layout.chunks.length < MAX_CHUNKS) {
    const size = u32le(b, off + 4);
    const end = off + 8 + size + (size & 1);
    if (off + 8 + size > riffEnd) return fail("corrupt_image", "WebP chunk runs past the end");
    layout.chunks.push({ fourcc: ascii(b, off, 4), start: off, data: off + 8, size, end });
    off = Math.min(end, riffEnd);
  }
  if (off !== riffEnd) return fail("corrupt_image", "WebP chunk list is malformed");
  const first = layout.chunks[0];
  if (!first) return fail("corrupt_image", "WebP has no chunks");
  if (first.fourcc === "VP8 " || first.fourcc === "VP8L") {
    const info = bitstreamInfo(b, first);
    if (!info.ok) return info;
    layout.width = info.value.width;
    layout.height = info.value.height;
    layout.hasAlpha = info.value.alpha;
    return ok(layout);
  }
  if (first.fourcc !== "VP8X" || first.size < 10) {
    return fail(
      "corrupt_image",
      `WebP starts with an unknown chunk ${JSON.stringify(first.fourcc)}`,
    );
  }
  return readExtended(b, layout, first);
}

function readExtended(b: Uint8Array, layout: WebpLayout, vp8x: WebpChunk): Parse<WebpLayout> {
  const flags = b[vp8x.data] ?? 0;
  layout.width = u24le(b, vp8x.data + 4) + 1;
  layout.height = u24le(b, vp8x.data + 7) + 1;
  layout.hasAlpha = (flags & VP8X_ALPHA) !== 0;
  const animated = (flags & VP8X_ANIMATION) !== 0;
  let frames = 0;
  let image: WebpChunk | undefined;
  for (const c of layout.chunks) {
    if (c.fourcc === "ANMF") frames++;
    else if (c.fourcc === "ALPH") layout.hasAlpha = true;
    else if (c.fourcc === "EXIF") {
      layout.orientation = readExifOrientation(b.subarray(c.data, c.data + c.size));
    } else if ((c.fourcc === "VP8 " || c.fourcc === "VP8L") && !image) image = c;
  }
  if (animated) {
    if (frames === 0) return fail("corrupt_image", "animated WebP has no frames");
    // The pixel limit is checked against the canvas, but the decoder is handed a frame's own
    // bitstream (webp-frame.ts), which allocates by that bitstream's header: each frame must
    // fit inside the canvas or a tiny canvas could carry a 16383x16383 frame. libwebp's demuxer
    // rejects such files too, so checking every frame costs no real file.
    for (const c of layout.chunks) {
      if (c.fourcc !== "ANMF") continue;
      const fits = frameFitsCanvas(b, c, layout.width, layout.height);
      if (!fits.ok) return fits;
    }
    layout.frames = frames;
    return ok(layout);
  }
  if (!image) return fail("corrupt_image", "WebP has no image data");
  const info = bitstreamInfo(b, image);
  if (!info.ok) return info;
  // The canvas and the only frame must agree; a mismatch is a header that lies.
  if (info.value.width !== layout.width || info.value.height !== layout.height) {
    return fail("corrupt_image", "WebP canvas size disagrees with its bitstream");
  }
  layout.hasAlpha ||= info.value.alpha;
  return ok(layout);
}

/** Checks that an ANMF frame, and every bitstream inside it, lies within the canvas. */
function frameFitsCanvas(
  b: Uint8Array,
  anmf: WebpChunk,
  canvasWidth: number,
  canvasHeight: number,
): Parse<true> {
  // 16-byte frame header, then at least one sub-chunk header.
  if (anmf.size < 16 + 8) return fail("corrupt_image", "WebP ANMF frame is truncated");
  const x = u24le(b, anmf.data) * 2;
  const y = u24le(b, anmf.data + 3) * 2;
  const inside = (w: number, h: number): boolean => x + w <= canvasWidth && y + h <= canvasHeight;
  if (!inside(u24le(b, anmf.data + 6) + 1, u24le(b, anmf.data + 9) + 1)) {
    return fail("corrupt_image", "WebP animation frame lies outside the canvas");
  }
  const end = anmf.data + anmf.size;
  let images = 0;
  for (let p = anmf.data + 16; p + 8 <= end; ) {
    const size = u32le(b, p + 4);
    if (p + 8 + size > end) return fail("corrupt_image", "WebP ANMF sub-chunk runs past the end");
    const sub: WebpChunk = { fourcc: ascii(b, p, 4), start: p, data: p + 8, size, end };
    if (sub.fourcc === "VP8 " || sub.fourcc === "VP8L") {
      const info = bitstreamInfo(b, sub);
      if (!info.ok) return info;
      if (!inside(info.value.width, info.value.height)) {
        return fail("corrupt_image", "WebP animation frame bitstream is larger than the canvas");
      }
      images++;
    }
    p += 8 + size + (size & 1);
  }
  if (images === 0) return fail("corrupt_image", "WebP animation frame has no image data");
  return ok(true);
}
