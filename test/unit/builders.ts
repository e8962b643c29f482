import { crc32 } from "../../src/pipeline/bytes";

/** Builds a PNG chunk with a correct CRC. */
export function pngChunk(type: string, data: Uint8Array = new Uint8Array()): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out, 4, 8 + data.length));
  return out;
}

/** IHDR payload for an 8-bit image of the given colour type. */
export function ihdr(width: number, height: number, colorType = 2): Uint8Array {
  const d = new Uint8Array(13);
  const view = new DataView(d.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  d[8] = 8;
  d[9] = colorType;
  return d;
}

/** Joins byte arrays. */
export function join(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The PNG signature. */
export const PNG_SIG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** A structurally valid PNG (the IDAT payload is not real zlib: headers only matter here). */
export function png(width: number, height: number, ...extra: Uint8Array[]): Uint8Array {
  return join(
    PNG_SIG,
    pngChunk("IHDR", ihdr(width, height)),
    ...extra,
    pngChunk("IDAT", new Uint8Array([0x78, 0x9c, 0x03, 0x00])),
    pngChunk("IEND"),
  );
}
