/**
 * Where each container keeps its colour description: JPEG APP2 `ICC_PROFILE` segments, PNG
 * `iCCP`, WebP `ICCP`, AVIF/HEIC `colr` (ICC or nclx). Pure and never throwing: a container or
 * profile that does not parse yields null, and the image is treated as sRGB, as before.
 */

import { ascii, concat, hasAscii, u16be } from "./bytes";
import { type ColourDecision, decideForIcc, decideForNclx, MAX_ICC_BYTES, type Nclx } from "./icc";
import { ZlibInflater } from "./inflate";
import { type Box, type IsoLayout, readBoxes, walkIsobmff } from "./parse-isobmff";
import { type JpegLayout, walkJpeg } from "./parse-jpeg";
import { type PngLayout, walkPng } from "./parse-png";
import { type WebpLayout, walkWebp } from "./parse-webp";
import { ftypBrands } from "./sniff";
import type { ImageFormat } from "./types";

/** A container's colour description, before any interpretation. */
export type ColourSource = { kind: "icc"; bytes: Uint8Array } | { kind: "nclx"; nclx: Nclx };

const ICC_MARK = "ICC_PROFILE\0";

/**
 * The ICC profile spread over JPEG APP2 segments (each: mark, 1-based sequence number, count),
 * joined in sequence order. Null unless every chunk 1..count is there exactly once, as
 * libjpeg's jpeg_read_icc_profile also requires.
 */
export function jpegIccProfile(b: Uint8Array, layout: JpegLayout): Uint8Array | null {
  const chunks = new Map<number, Uint8Array>();
  let count = 0;
  for (const seg of layout.segments) {
    if (seg.marker !== 0xe2 || !hasAscii(b, seg.payload, ICC_MARK)) continue;
    const at = seg.payload + ICC_MARK.length;
    if (at + 2 > seg.end) return null;
    const seq = b[at] ?? 0;
    const n = b[at + 1] ?? 0;
    if (n === 0 || seq === 0 || seq > n || (count !== 0 && n !== count) || chunks.has(seq)) {
      return null;
    }
    count = n;
    chunks.set(seq, b.subarray(at + 2, seg.end));
  }
  if (count === 0 || chunks.size !== count) return null;
  let total = 0;
  for (const c of chunks.values()) total += c.length;
  if (total > MAX_ICC_BYTES) return null;
  const out = new Uint8Array(total);
  let off = 0;
  for (let seq = 1; seq <= count; seq++) {
    const c = chunks.get(seq);
    if (!c) return null;
    out.set(c, off);
    off += c.length;
  }
  return out;
}

/**
 * The zlib stream inflated, or null when it is broken or inflates past `limit` bytes. Pulled a
 * step at a time (inflate.ts): the runtimes' DecompressionStream inflates each written piece
 * whole before the limit could be checked, so an iCCP bomb would fill memory first.
 */
function inflate(data: Uint8Array, limit: number): Uint8Array | null {
  const inflater = new ZlibInflater([data]);
  const parts: Uint8Array[] = [];
  let total = 0;
  try {
    for (let out = inflater.next(); out !== null; out = inflater.next()) {
      total += out.length;
      if (total > limit) return null;
      parts.push(out.slice());
    }
  } catch {
    return null;
  }
  return concat(parts);
}

/** The PNG `iCCP` profile (keyword, NUL, method 0, zlib data), inflated; null if absent. */
export async function pngIccProfile(b: Uint8Array, layout: PngLayout): Promise<Uint8Array | null> {
  const chunk = layout.chunks.find((c) => c.type === "iCCP");
  if (!chunk) return null;
  const data = b.subarray(chunk.data, chunk.data + chunk.length);
  // The keyword is 1-79 bytes; the NUL after it must be within the first 80.
  const nul = data.subarray(0, 81).indexOf(0);
  if (nul < 1 || data[nul + 1] !== 0) return null;
  return inflate(data.subarray(nul + 2), MAX_ICC_BYTES);
}

/** The WebP `ICCP` chunk's payload (extended format only); null if absent. */
export function webpIccProfile(b: Uint8Array, layout: WebpLayout): Uint8Array | null {
  if (layout.chunks[0]?.fourcc !== "VP8X") return null;
  const chunk = layout.chunks.find((c) => c.fourcc === "ICCP");
  return chunk ? b.subarray(chunk.data, chunk.data + chunk.size) : null;
}

function ipcoColr(b: Uint8Array, layout: IsoLayout): Box[] {
  const meta = layout.top.find((x) => x.type === "meta");
  if (!meta) return [];
  const find = (parent: Box, type: string, skip = 0): Box | undefined => {
    const kids = readBoxes(b, parent.data + skip, parent.end);
    return kids.ok ? kids.value.find((k) => k.type === type) : undefined;
  };
  const iprp = find(meta, "iprp", 4);
  const ipco = iprp && find(iprp, "ipco");
  const props = ipco ? readBoxes(b, ipco.data, ipco.end) : null;
  return props?.ok ? props.value.filter((p) => p.type === "colr") : [];
}

/**
 * The primary item's `colr`: an ICC profile (`prof`/`rICC`) wins over nclx, as in the AVIF
 * spec, where nclx then only names the YUV matrix the decoder already used. When the primary
 * item has none (some writers attach it to the tiles of a grid only), the file's first one.
 */
export function isobmffColour(b: Uint8Array, layout: IsoLayout): ColourSource | null {
  const boxes = layout.colr.length > 0 ? layout.colr : ipcoColr(b, layout);
  let nclx: Nclx | null = null;
  for (const box of boxes) {
    const type = ascii(b, box.data, 4);
    if (type === "prof" || type === "rICC") {
      return { kind: "icc", bytes: b.subarray(box.data + 4, box.end) };
    }
    if (type === "nclx" && !nclx && box.data + 11 <= box.end) {
      nclx = {
        primaries: u16be(b, box.data + 4),
        transfer: u16be(b, box.data + 6),
        matrix: u16be(b, box.data + 8),
        fullRange: ((b[box.data + 10] ?? 0) & 0x80) !== 0,
      };
    }
  }
  return nclx ? { kind: "nclx", nclx } : null;
}

/** The colour description a file carries, if any (the container is walked again here). */
export async function readColourSource(
  b: Uint8Array,
  format: ImageFormat,
): Promise<ColourSource | null> {
  const icc = (bytes: Uint8Array | null): ColourSource | null =>
    bytes && bytes.length > 0 ? { kind: "icc", bytes } : null;
  switch (format) {
    case "jpeg": {
      const r = walkJpeg(b);
      return r.ok ? icc(jpegIccProfile(b, r.value)) : null;
    }
    case "png": {
      const r = walkPng(b, false);
      return r.ok ? icc(await pngIccProfile(b, r.value)) : null;
    }
    case "webp": {
      const r = walkWebp(b);
      return r.ok ? icc(webpIccProfile(b, r.value)) : null;
    }
    case "avif":
    case "heic": {
      const r = walkIsobmff(b, ftypBrands(b) ?? []);
      return r.ok ? isobmffColour(b, r.value) : null;
    }
    case "gif":
      return null;
  }
}

/** What to do with a source's colours: nothing for sRGB or no profile, else a transform. */
export function decideColour(source: ColourSource | null): ColourDecision {
  if (!source) return { kind: "srgb" };
  return source.kind === "icc" ? decideForIcc(source.bytes) : decideForNclx(source.nclx);
}

/** A short summary of a decision, for TransformOutput.colour. */
export function describeColour(d: ColourDecision): string {
  if (d.kind === "srgb") return "srgb";
  if (d.kind === "unmanaged") return `unmanaged:${d.why}`;
  return `converted:${d.transform.description}`;
}
