import type { RgbaImage } from "./codec-glue";
import { gifCanvas } from "./parse-gif";
import type { Result, TransformError } from "./types";

/**
 * First-frame GIF decoder in plain TypeScript. None of the shipped WASM codecs read GIF, and a
 * GIF frame is small, palette-based LZW, so JS is fast enough and cannot trap an instance.
 * The frame is composited onto a transparent canvas of the logical screen size, grown to hold
 * the frame when it reaches past the screen: exactly the size probeHeader reports, so the pixel
 * limit checked before decoding bounds every buffer allocated here.
 */

function corrupt(detail: string): Result<RgbaImage, TransformError> {
  return { ok: false, error: { code: "corrupt_image", detail: `gif: ${detail}` } };
}

/** Decodes the first image of a GIF87a/89a stream to RGBA (transparent index -> alpha 0). */
export function decodeGifFirstFrame(bytes: Uint8Array): Result<RgbaImage, TransformError> {
  if (bytes.length < 13) return corrupt("truncated header");
  const sig = String.fromCharCode(...bytes.subarray(0, 6));
  if (sig !== "GIF87a" && sig !== "GIF89a") return corrupt("bad signature");
  const u16 = (o: number): number => (bytes[o] ?? 0) | ((bytes[o + 1] ?? 0) << 8);
  const screenWidth = u16(6);
  const screenHeight = u16(8);
  const flags = bytes[10] ?? 0;
  let pos = 13;
  let globalTable: Uint8Array | null = null;
  if (flags & 0x80) {
    const size = 3 * (1 << ((flags & 7) + 1));
    globalTable = bytes.subarray(pos, pos + size);
    pos += size;
  }
  let transparent = -1;
  while (pos < bytes.length) {
    const block = bytes[pos++];
    if (block === 0x21) {
      const label = bytes[pos++];
      if (label === 0xf9 && (bytes[pos] ?? 0) >= 4) {
        const gce = bytes[pos + 1] ?? 0;
        transparent = gce & 1 ? (bytes[pos + 4] ?? 0) : -1;
      }
      // Skip the extension's sub-blocks.
      while (pos < bytes.length) {
        const len = bytes[pos++] ?? 0;
        if (len === 0) break;
        pos += len;
      }
    } else if (block === 0x2c) {
      const fx = u16(pos);
      const fy = u16(pos + 2);
      const fw = u16(pos + 4);
      const fh = u16(pos + 6);
      const fflags = bytes[pos + 8] ?? 0;
      pos += 9;
      let table = globalTable;
      if (fflags & 0x80) {
        const size = 3 * (1 << ((fflags & 7) + 1));
        table = bytes.subarray(pos, pos + size);
        pos += size;
      }
      if (!table) return corrupt("no colour table");
      const minCodeSize = bytes[pos++] ?? 0;
      if (minCodeSize < 2 || minCodeSize > 11) return corrupt("bad LZW code size");
      const chunks: Uint8Array[] = [];
      let total = 0;
      while (pos < bytes.length) {
        const len = bytes[pos++] ?? 0;
        if (len === 0) break;
        chunks.push(bytes.subarray(pos, pos + len));
        total += len;
        pos += len;
      }
      const data = new Uint8Array(total);
      let off = 0;
      for (const c of chunks) {
        data.set(c, off);
        off += c.length;
      }
      const { width, height } = gifCanvas(screenWidth, screenHeight, fx + fw, fy + fh);
      if (width === 0 || height === 0) return corrupt("empty canvas");
      const indices = lzwDecode(data, minCodeSize, fw * fh);
      const out = new Uint8Array(width * height * 4);
      const interlaced = (fflags & 0x40) !== 0;
      const rows = interlaced ? interlaceOrder(fh) : null;
      for (let i = 0; i < fh; i++) {
        const y = fy + (rows ? (rows[i] ?? 0) : i);
        if (y >= height) continue;
        for (let x = 0; x < fw; x++) {
          const px = fx + x;
          if (px >= width) continue;
          const idx = indices[i * fw + x] ?? 0;
          if (idx === transparent) continue;
          const o = (y * width + px) * 4;
          out[o] = table[idx * 3] ?? 0;
          out[o + 1] = table[idx * 3 + 1] ?? 0;
          out[o + 2] = table[idx * 3 + 2] ?? 0;
          out[o + 3] = 255;
        }
      }
      return { ok: true, value: { width, height, data: out } };
    } else if (block === 0x3b) {
      break;
    } else {
      return corrupt("unknown block");
    }
  }
  return corrupt("no image data");
}

/** Row order of an interlaced frame: stored row i is displayed at rows[i]. */
function interlaceOrder(h: number): Uint32Array {
  const rows = new Uint32Array(h);
  let i = 0;
  for (const [start, step] of [
    [0, 8],
    [4, 8],
    [2, 4],
    [1, 2],
  ] as const) {
    for (let y = start; y < h; y += step) rows[i++] = y;
  }
  return rows;
}

/** GIF-flavoured LZW; tolerant of truncated streams (missing pixels stay index 0). */
function lzwDecode(data: Uint8Array, minCodeSize: number, pixelCount: number): Uint8Array {
  const out = new Uint8Array(pixelCount);
  const clear = 1 << minCodeSize;
  const eoi = clear + 1;
  const prefix = new Int16Array(4096);
  const suffix = new Uint8Array(4096);
  const first = new Uint8Array(4096);
  const lengths = new Uint16Array(4096);
  for (let i = 0; i < clear; i++) {
    prefix[i] = -1;
    suffix[i] = i;
    first[i] = i;
    lengths[i] = 1;
  }
  let codeSize = minCodeSize + 1;
  let next = eoi + 1;
  let prev = -1;
  let bitBuf = 0;
  let bitCount = 0;
  let outPos = 0;
  for (let p = 0; p < data.length && outPos < pixelCount; ) {
    while (bitCount < codeSize && p < data.length) {
      bitBuf |= (data[p++] ?? 0) << bitCount;
      bitCount += 8;
    }
    if (bitCount < codeSize) break;
    const code = bitBuf & ((1 << codeSize) - 1);
    bitBuf >>>= codeSize;
    bitCount -= codeSize;
    if (code === clear) {
      codeSize = minCodeSize + 1;
      next = eoi + 1;
      prev = -1;
      continue;
    }
    if (code === eoi) break;
    // code === next is the KwKwK case: the entry about to be added is prev + first(prev).
    if (code >= next && (prev < 0 || code > next)) break;
    if (prev >= 0 && next < 4096) {
      prefix[next] = prev;
      suffix[next] = code >= next ? (first[prev] ?? 0) : (first[code] ?? 0);
      first[next] = first[prev] ?? 0;
      lengths[next] = (lengths[prev] ?? 0) + 1;
      next++;
      if (next === 1 << codeSize && codeSize < 12) codeSize++;
    }
    const len = lengths[code] ?? 0;
    let w = outPos + len - 1;
    for (let c = code; c >= 0 && w >= outPos; c = prefix[c] ?? -1) {
      if (w < pixelCount) out[w] = suffix[c] ?? 0;
      w--;
    }
    outPos += len;
    prev = code;
  }
  return out;
}
