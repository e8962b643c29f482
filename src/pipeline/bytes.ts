import type { Result, TransformError, TransformErrorCode } from "./types";

/** Successful Result. */
export function ok<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}

/** Failed Result with a stable transform error code. */
export function fail(
  code: TransformErrorCode,
  detail: string,
): { ok: false; error: TransformError } {
  return { ok: false, error: { code, detail } };
}

/** Shorthand for the Result every parser here returns. */
export type Parse<T> = Result<T, TransformError>;

// Readers return 0 past the end: every caller bounds-checks the offset first, and a
// silent 0 can never turn into an out-of-range index or an infinite loop.

/** Big-endian unsigned 16-bit read. */
export function u16be(b: Uint8Array, o: number): number {
  return ((b[o] ?? 0) << 8) | (b[o + 1] ?? 0);
}

/** Big-endian unsigned 32-bit read. */
export function u32be(b: Uint8Array, o: number): number {
  return (
    (((b[o] ?? 0) << 24) >>> 0) +
    (((b[o + 1] ?? 0) << 16) | ((b[o + 2] ?? 0) << 8) | (b[o + 3] ?? 0))
  );
}

/** Little-endian unsigned 16-bit read. */
export function u16le(b: Uint8Array, o: number): number {
  return (b[o] ?? 0) | ((b[o + 1] ?? 0) << 8);
}

/** Little-endian unsigned 24-bit read. */
export function u24le(b: Uint8Array, o: number): number {
  return (b[o] ?? 0) | ((b[o + 1] ?? 0) << 8) | ((b[o + 2] ?? 0) << 16);
}

/** Little-endian unsigned 32-bit read. */
export function u32le(b: Uint8Array, o: number): number {
  return u24le(b, o) + (b[o + 3] ?? 0) * 0x1000000;
}

/** Latin-1 string of `len` bytes at `o` (clamped to the buffer). */
export function ascii(b: Uint8Array, o: number, len: number): string {
  let s = "";
  const end = Math.min(b.length, o + len);
  for (let i = o; i < end; i++) s += String.fromCharCode(b[i] ?? 0);
  return s;
}

/** True when `b` holds the Latin-1 text `text` at offset `o`. */
export function hasAscii(b: Uint8Array, o: number, text: string): boolean {
  if (o < 0 || o + text.length > b.length) return false;
  for (let i = 0; i < text.length; i++) if (b[o + i] !== text.charCodeAt(i)) return false;
  return true;
}

/** Concatenates byte arrays into one new array. */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Writes a big-endian u32 into `b` at `o`. */
export function putU32be(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 24) & 0xff;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}

/** Writes a little-endian u32 into `b` at `o`. */
export function putU32le(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 0xff;
  b[o + 1] = (v >>> 8) & 0xff;
  b[o + 2] = (v >>> 16) & 0xff;
  b[o + 3] = (v >>> 24) & 0xff;
}

let crcTable: Uint32Array | undefined;

function table(): Uint32Array {
  if (crcTable) return crcTable;
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  crcTable = t;
  return t;
}

/** CRC-32 (PNG/zlib polynomial) of b[start, end). */
export function crc32(b: Uint8Array, start = 0, end = b.length): number {
  const t = table();
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = (t[(c ^ (b[i] ?? 0)) & 0xff] ?? 0) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
