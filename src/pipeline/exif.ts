import { hasAscii, u16be, u16le, u32be, u32le } from "./bytes";
import type { MetadataPolicy } from "./types";

/** The few IFD0 tags the service ever reads or writes back; strings are raw bytes without NUL. */
export interface ExifFields {
  orientation: number;
  make?: Uint8Array;
  model?: Uint8Array;
  artist?: Uint8Array;
  copyright?: Uint8Array;
}

const TAG_MAKE = 0x010f;
const TAG_MODEL = 0x0110;
const TAG_ORIENTATION = 0x0112;
const TAG_ARTIST = 0x013b;
const TAG_COPYRIGHT = 0x8298;
const TYPE_ASCII = 2;
const TYPE_SHORT = 3;
// A real IFD0 has a few dozen entries; the cap bounds work on a crafted count.
const MAX_ENTRIES = 512;
// Longer "strings" are not a name or a copyright line, and must not smuggle data through.
const MAX_STRING = 256;

/** Returns the TIFF header offset inside an EXIF payload, skipping an optional "Exif\0\0". */
export function tiffOffset(payload: Uint8Array): number {
  return hasAscii(payload, 0, "Exif\0\0") ? 6 : 0;
}

/** Reads Orientation (1..8, else 1) and the copyright/camera strings from IFD0 of a TIFF block. */
export function readExifFields(payload: Uint8Array): ExifFields {
  const fields: ExifFields = { orientation: 1 };
  const tiff = payload.subarray(tiffOffset(payload));
  let le: boolean;
  if (hasAscii(tiff, 0, "II*\0")) le = true;
  else if (hasAscii(tiff, 0, "MM\0*")) le = false;
  else return fields;
  const r16 = (o: number) => (le ? u16le(tiff, o) : u16be(tiff, o));
  const r32 = (o: number) => (le ? u32le(tiff, o) : u32be(tiff, o));
  const ifd = r32(4);
  if (ifd < 8 || ifd + 2 > tiff.length) return fields;
  const count = Math.min(r16(ifd), MAX_ENTRIES);
  for (let i = 0; i < count; i++) {
    const e = ifd + 2 + i * 12;
    if (e + 12 > tiff.length) break;
    const tag = r16(e);
    const type = r16(e + 2);
    const n = r32(e + 4);
    if (tag === TAG_ORIENTATION && type === TYPE_SHORT && n >= 1) {
      const v = r16(e + 8);
      if (v >= 1 && v <= 8) fields.orientation = v;
      continue;
    }
    if (type !== TYPE_ASCII || n === 0) continue;
    const at = n <= 4 ? e + 8 : r32(e + 8);
    if (at >= tiff.length) continue;
    let end = at;
    const limit = Math.min(tiff.length, at + n, at + MAX_STRING);
    while (end < limit && tiff[end] !== 0) end++;
    const text = tiff.slice(at, end);
    if (!hasVisibleText(text)) continue;
    if (tag === TAG_MAKE) fields.make = text;
    else if (tag === TAG_MODEL) fields.model = text;
    else if (tag === TAG_ARTIST) fields.artist = text;
    else if (tag === TAG_COPYRIGHT) fields.copyright = text;
  }
  return fields;
}

function hasVisibleText(text: Uint8Array): boolean {
  return text.some((c) => c > 32);
}

/** Orientation (1..8) from an EXIF payload; 1 when absent or invalid. */
export function readExifOrientation(payload: Uint8Array): number {
  return readExifFields(payload).orientation;
}

/**
 * Builds the minimal big-endian TIFF block the policy allows: Orientation when not 1, plus
 * Make/Model/Artist/Copyright when `keepCopyrightAndCamera`. Null when nothing is left to say.
 */
export function buildMinimalTiff(fields: ExifFields, policy: MetadataPolicy): Uint8Array | null {
  const entries: { tag: number; type: number; value: Uint8Array | number }[] = [];
  const keep = policy.keepCopyrightAndCamera;
  if (keep && fields.make) entries.push({ tag: TAG_MAKE, type: TYPE_ASCII, value: fields.make });
  if (keep && fields.model) entries.push({ tag: TAG_MODEL, type: TYPE_ASCII, value: fields.model });
  if (fields.orientation >= 2 && fields.orientation <= 8) {
    entries.push({ tag: TAG_ORIENTATION, type: TYPE_SHORT, value: fields.orientation });
  }
  if (keep && fields.artist) {
    entries.push({ tag: TAG_ARTIST, type: TYPE_ASCII, value: fields.artist });
  }
  if (keep && fields.copyright) {
    entries.push({ tag: TAG_COPYRIGHT, type: TYPE_ASCII, value: fields.copyright });
  }
  if (entries.length === 0) return null;

  const ifdSize = 2 + entries.length * 12 + 4;
  let dataSize = 0;
  for (const e of entries) {
    if (typeof e.value !== "number" && e.value.length + 1 > 4) {
      dataSize += (e.value.length + 2) & ~1; // NUL-terminated, word-aligned as TIFF asks
    }
  }
  const out = new Uint8Array(8 + ifdSize + dataSize);
  const view = new DataView(out.buffer);
  out.set([0x4d, 0x4d, 0x00, 0x2a]);
  view.setUint32(4, 8);
  view.setUint16(8, entries.length);
  let data = 8 + ifdSize;
  entries.forEach((e, i) => {
    const at = 10 + i * 12;
    view.setUint16(at, e.tag);
    view.setUint16(at + 2, e.type);
    if (typeof e.value === "number") {
      view.setUint32(at + 4, 1);
      view.setUint16(at + 8, e.value);
      return;
    }
    const n = e.value.length + 1;
    view.setUint32(at + 4, n);
    if (n <= 4) {
      out.set(e.value, at + 8);
      return;
    }
    view.setUint32(at + 8, data);
    out.set(e.value, data);
    data += (n + 1) & ~1;
  });
  return out;
}
