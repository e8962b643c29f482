import { ascii, fail, ok, type Parse, u16le } from "./bytes";

/** A top-level GIF block: an extension, an image (descriptor to last sub-block) or the header. */
export interface GifBlock {
  kind: "header" | "extension" | "image";
  /** Extension label (0xF9 GCE, 0xFE comment, 0xFF application, 0x01 plain text); 0 otherwise. */
  label: number;
  /** Application identifier + auth code ("NETSCAPE2.0") for application extensions. */
  app: string;
  start: number;
  end: number;
}

/** A walked GIF. `end` is just after the trailer, or after the last block when it is missing. */
export interface GifLayout {
  blocks: GifBlock[];
  end: number;
  hasTrailer: boolean;
  width: number;
  height: number;
  frames: number;
  hasAlpha: boolean;
}

// Bounds the walk on a crafted file; 100k blocks is far beyond any real animation.
const MAX_BLOCKS = 100_000;

/** Returns the offset just after a chain of data sub-blocks, or -1 when it runs off the end. */
function skipSubBlocks(b: Uint8Array, from: number): number {
  let p = from;
  while (p < b.length) {
    const n = b[p] ?? 0;
    if (n === 0) return p + 1;
    p += n + 1;
  }
  return -1;
}

/** Walks a GIF block by block, skipping sub-blocks properly, to the trailer (0x3B). */
export function walkGif(b: Uint8Array): Parse<GifLayout> {
  if (b.length < 13) return fail("corrupt_image", "GIF is truncated");
  const packed = b[10] ?? 0;
  let off = 13 + (packed & 0x80 ? 3 * (1 << ((packed & 7) + 1)) : 0);
  if (off > b.length) return fail("corrupt_image", "GIF colour table is truncated");
  const layout: GifLayout = {
    blocks: [{ kind: "header", label: 0, app: "", start: 0, end: off }],
    end: 0,
    hasTrailer: false,
    width: u16le(b, 6),
    height: u16le(b, 8),
    frames: 0,
    hasAlpha: false,
  };
  let firstRight = 0;
  let firstBottom = 0;
  while (layout.blocks.length < MAX_BLOCKS) {
    const intro = b[off];
    if (intro === 0x3b) {
      layout.hasTrailer = true;
      layout.end = off + 1;
      break;
    }
    if (intro === 0x21) {
      const label = b[off + 1] ?? 0;
      const app = label === 0xff && b[off + 2] === 11 ? ascii(b, off + 3, 11) : "";
      if (label === 0xf9 && b[off + 2] === 4 && ((b[off + 3] ?? 0) & 1) === 1) {
        layout.hasAlpha = true;
      }
      const end = skipSubBlocks(b, off + 2);
      if (end < 0) return fail("corrupt_image", "GIF extension is truncated");
      layout.blocks.push({ kind: "extension", label, app, start: off, end });
      off = end;
      continue;
    }
    if (intro === 0x2c) {
      if (off + 11 > b.length) return fail("corrupt_image", "GIF image descriptor is truncated");
      const right = u16le(b, off + 1) + u16le(b, off + 5);
      const bottom = u16le(b, off + 3) + u16le(b, off + 7);
      const local = b[off + 9] ?? 0;
      const dataAt = off + 10 + (local & 0x80 ? 3 * (1 << ((local & 7) + 1)) : 0);
      const end = skipSubBlocks(b, dataAt + 1);
      if (dataAt >= b.length || end < 0) return fail("corrupt_image", "GIF image is truncated");
      if (layout.frames === 0) {
        firstRight = right;
        firstBottom = bottom;
      }
      layout.frames++;
      layout.blocks.push({ kind: "image", label: 0, app: "", start: off, end });
      off = end;
      continue;
    }
    // Browsers stop at the first unknown byte or at EOF once a frame is complete: treat that
    // as the end of the image (the strip drops whatever follows and writes a real trailer).
    if (layout.frames === 0) {
      return fail(
        "corrupt_image",
        intro === undefined ? "GIF is truncated" : "GIF block is garbage",
      );
    }
    layout.end = off;
    break;
  }
  if (layout.end === 0) return fail("corrupt_image", "GIF has too many blocks");
  if (layout.frames === 0) return fail("corrupt_image", "GIF has no image");
  // The size we report is the size decodeGifFirstFrame allocates, so the pixel limit and the
  // memory estimate cover what is really decoded: the logical screen grown to hold the first
  // frame (Chromium does the same; a zero screen from old encoders becomes the frame's size).
  // Sizing from the screen alone let a 16x16 screen carry a 30000x30000 first frame.
  const canvas = gifCanvas(layout.width, layout.height, firstRight, firstBottom);
  layout.width = canvas.width;
  layout.height = canvas.height;
  return ok(layout);
}

/**
 * The canvas a GIF's first frame is composited onto: the logical screen, grown to reach the
 * first frame's right and bottom edges. Shared by the probe and the decoder so they agree.
 */
export function gifCanvas(
  screenWidth: number,
  screenHeight: number,
  firstRight: number,
  firstBottom: number,
): { width: number; height: number } {
  return { width: Math.max(screenWidth, firstRight), height: Math.max(screenHeight, firstBottom) };
}
