/**
 * Lossless, container-level metadata stripping for the served `original` variant.
 *
 * What survives: pixels, colour (ICC, sRGB/gAMA/cHRM/cICP, Adobe APP14 for CMYK), animation
 * control, and a minimal EXIF block written back by us: Orientation when it is not 1 (the
 * original keeps its stored pixel orientation), plus Make, Model, Artist and Copyright when
 * `policy.keepCopyrightAndCamera`. Dates are dropped on purpose: a capture time narrows down
 * where someone was as well as GPS does. GPS, MakerNote, serial numbers, XMP, IPTC, comments,
 * embedded thumbnails and every byte after the end of the image never survive.
 *
 * AVIF/HEIC choice: stripping happens IN PLACE, so no offset in the file moves and iloc/iref
 * stay valid without a rewrite. Exif and MIME (XMP) items have their payload bytes zeroed (the
 * Exif item is rewritten as the minimal block when the policy keeps fields and it fits in the
 * old extent), and top-level/movie `uuid`, `udta` and nested `meta` boxes become `free`
 * boxes of the same size. HEIF orientation lives in irot/imir properties, which are kept.
 * When the layout is not one we can blank safely (data by item reference, extents of unknown
 * length, extents outside the file) the result is `unsupported_format` with a detail saying
 * so: probe accepted the file, so the caller should serve a re-encoded original instead.
 */
import { concat, crc32, fail, hasAscii, ok, type Parse, putU32be, putU32le, u32be } from "./bytes";
import { buildMinimalTiff, type ExifFields, readExifFields } from "./exif";
import { walkGif } from "./parse-gif";
import { type Box, type IsoLayout, readBoxes, walkIsobmff } from "./parse-isobmff";
import { walkJpeg } from "./parse-jpeg";
import { PNG_SIGNATURE, walkPng } from "./parse-png";
import { VP8X_ALPHA, VP8X_ANIMATION, VP8X_EXIF, VP8X_ICC, walkWebp } from "./parse-webp";
import { probeHeader } from "./probe";
import { describeUnsupported, ftypBrands, sniffFormat } from "./sniff";
import type { ImageFormat, MetadataPolicy } from "./types";

/** Returns the image with all private metadata removed, without re-encoding a pixel. */
export function stripMetadata(
  bytes: Uint8Array,
  format: ImageFormat,
  policy: MetadataPolicy,
): Parse<Uint8Array> {
  const actual = sniffFormat(bytes);
  if (actual !== format) {
    const seen = actual ?? describeUnsupported(bytes);
    return fail("unsupported_format", `expected ${format}, found ${seen}`);
  }
  switch (format) {
    case "jpeg":
      return stripJpeg(bytes, policy);
    case "png":
      return stripPng(bytes, policy);
    case "gif":
      return stripGif(bytes);
    case "webp":
      return stripWebp(bytes, policy);
    case "avif":
    case "heic":
      return stripIsobmff(bytes, policy);
  }
}

/** EXIF orientation (1..8) as the container states it; 1 when absent or unreadable. */
export function readOrientation(bytes: Uint8Array, format: ImageFormat): number {
  const probe = probeHeader(bytes);
  return probe.ok && probe.value.format === format ? probe.value.orientation : 1;
}

// --- JPEG ------------------------------------------------------------------------------------

const APP0 = 0xe0;
const APP1 = 0xe1;
const APP2 = 0xe2;
const APP14 = 0xee;
const COM = 0xfe;

function marker(code: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + payload.length);
  out[0] = 0xff;
  out[1] = code;
  out[2] = ((payload.length + 2) >> 8) & 0xff;
  out[3] = (payload.length + 2) & 0xff;
  out.set(payload, 4);
  return out;
}

function stripJpeg(b: Uint8Array, policy: MetadataPolicy): Parse<Uint8Array> {
  const walked = walkJpeg(b);
  if (!walked.ok) return walked;
  const fields: ExifFields = { orientation: walked.value.orientation };
  const exifSeg = walked.value.segments.find(
    (s) => s.marker === APP1 && hasAscii(b, s.payload, "Exif\0\0"),
  );
  const kept = exifSeg ? readExifFields(b.subarray(exifSeg.payload, exifSeg.end)) : fields;
  const tiff = buildMinimalTiff(kept, policy);
  const exif = tiff ? marker(APP1, concat([new TextEncoder().encode("Exif\0\0"), tiff])) : null;
  const parts: Uint8Array[] = [b.subarray(0, 2)];
  let exifWritten = exif === null;
  for (const seg of walked.value.segments) {
    const m = seg.marker;
    if (m === APP0) {
      // JFIF stays first (it may precede Exif); its thumbnail, a copy of the uncropped
      // picture, does not.
      if (hasAscii(b, seg.payload, "JFIF\0") && seg.end - seg.payload >= 14) {
        const jfif = b.slice(seg.payload, seg.payload + 14);
        jfif[12] = 0;
        jfif[13] = 0;
        parts.push(marker(APP0, jfif));
      }
      continue;
    }
    if (!exifWritten && exif) {
      parts.push(exif);
      exifWritten = true;
    }
    const isIcc = m === APP2 && hasAscii(b, seg.payload, "ICC_PROFILE\0");
    const isAdobe = m === APP14 && hasAscii(b, seg.payload, "Adobe");
    const isApp = m >= 0xe0 && m <= 0xef;
    // F0-FD are JPEG extensions (JPEG-LS, JPEG-XT boxes) no browser needs.
    if ((isApp && !isIcc && !isAdobe) || m === COM || (m >= 0xf0 && m <= 0xfd)) continue;
    parts.push(b.subarray(seg.start, seg.end));
  }
  parts.push(new Uint8Array([0xff, 0xd9]));
  return ok(concat(parts));
}

// --- PNG -------------------------------------------------------------------------------------

// Critical chunks, colour, animation and pixel density. Everything else goes, including iDOT
// (Apple's IDAT offsets would point at the wrong bytes once earlier chunks are dropped).
const PNG_KEEP = new Set([
  "IHDR",
  "PLTE",
  "IDAT",
  "IEND",
  "iCCP",
  "sRGB",
  "gAMA",
  "cHRM",
  "cICP",
  "mDCV",
  "mDCv",
  "cLLI",
  "cLLi",
  "pHYs",
  "tRNS",
  "bKGD",
  "sBIT",
  "acTL",
  "fcTL",
  "fdAT",
]);

function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  putU32be(out, 0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  putU32be(out, 8 + data.length, crc32(out, 4, 8 + data.length));
  return out;
}

function stripPng(b: Uint8Array, policy: MetadataPolicy): Parse<Uint8Array> {
  const walked = walkPng(b, true);
  if (!walked.ok) return walked;
  const exifChunk = walked.value.chunks.find((c) => c.type === "eXIf");
  const fields: ExifFields = exifChunk
    ? readExifFields(b.subarray(exifChunk.data, exifChunk.data + exifChunk.length))
    : { orientation: 1 };
  const tiff = buildMinimalTiff(fields, policy);
  const parts: Uint8Array[] = [PNG_SIGNATURE];
  for (const c of walked.value.chunks) {
    if (!PNG_KEEP.has(c.type)) continue;
    parts.push(b.subarray(c.start, c.end));
    // eXIf must precede IDAT; right after IHDR always does.
    if (c.type === "IHDR" && tiff) parts.push(pngChunk("eXIf", tiff));
  }
  return ok(concat(parts));
}

// --- GIF -------------------------------------------------------------------------------------

const GIF_KEEP_APPS = new Set(["NETSCAPE2.0", "ANIMEXTS1.0"]);

function stripGif(b: Uint8Array): Parse<Uint8Array> {
  const walked = walkGif(b);
  if (!walked.ok) return walked;
  const parts: Uint8Array[] = [];
  for (const block of walked.value.blocks) {
    if (block.kind === "extension" && block.label === 0xfe) continue;
    if (block.kind === "extension" && block.label === 0xff && !GIF_KEEP_APPS.has(block.app)) {
      continue;
    }
    parts.push(b.subarray(block.start, block.end));
  }
  parts.push(new Uint8Array([0x3b]));
  return ok(concat(parts));
}

// --- WebP ------------------------------------------------------------------------------------

const WEBP_KEEP = new Set(["VP8X", "ICCP", "ANIM", "ANMF", "ALPH", "VP8 ", "VP8L"]);

function riffChunk(fourcc: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + data.length + (data.length & 1));
  for (let i = 0; i < 4; i++) out[i] = fourcc.charCodeAt(i);
  putU32le(out, 4, data.length);
  out.set(data, 8);
  return out;
}

function stripWebp(b: Uint8Array, policy: MetadataPolicy): Parse<Uint8Array> {
  const walked = walkWebp(b);
  if (!walked.ok) return walked;
  const { chunks } = walked.value;
  // Browsers read EXIF only in the extended format, so a simple file keeps none.
  const exifChunk =
    chunks[0]?.fourcc === "VP8X" ? chunks.find((c) => c.fourcc === "EXIF") : undefined;
  const fields: ExifFields = exifChunk
    ? readExifFields(b.subarray(exifChunk.data, exifChunk.data + exifChunk.size))
    : { orientation: 1 };
  const tiff = buildMinimalTiff(fields, policy);
  const hasIcc = chunks.some((c) => c.fourcc === "ICCP");
  const body: Uint8Array[] = [];
  for (const c of chunks) {
    if (!WEBP_KEEP.has(c.fourcc)) continue;
    const data = b.slice(c.data, c.data + c.size);
    if (c.fourcc === "VP8X") {
      const keep = VP8X_ALPHA | VP8X_ANIMATION | (hasIcc ? VP8X_ICC : 0);
      data[0] = ((data[0] ?? 0) & keep) | (tiff ? VP8X_EXIF : 0);
    }
    body.push(riffChunk(c.fourcc, data));
  }
  if (tiff) body.push(riffChunk("EXIF", tiff));
  const payload = concat([new TextEncoder().encode("WEBP"), ...body]);
  return ok(riffChunk("RIFF", payload));
}

// --- AVIF / HEIC -----------------------------------------------------------------------------

const BLANKED_BOXES = new Set(["uuid", "udta", "meta", "XMP_"]);

function cannotStrip(why: string): ReturnType<typeof fail> {
  return fail(
    "unsupported_format",
    `cannot strip this HEIF/AVIF losslessly (${why}); serve a re-encoded original`,
  );
}

function blankBox(out: Uint8Array, box: Box): void {
  out.set([0x66, 0x72, 0x65, 0x65], box.start + 4); // "free"
  out.fill(0, box.data, box.end);
}

function stripIsobmff(b: Uint8Array, policy: MetadataPolicy): Parse<Uint8Array> {
  const walked = walkIsobmff(b, ftypBrands(b) ?? []);
  if (!walked.ok) return walked;
  const layout = walked.value;
  const out = b.slice(0, layout.end);
  const primaryMeta = layout.top.find((x) => x.type === "meta");
  for (const box of layout.top) {
    if (box !== primaryMeta && BLANKED_BOXES.has(box.type)) blankBox(out, box);
    if (box.type === "moov") blankNested(out, box, 0);
  }
  const blanked = blankItems(out, layout, policy);
  if (!blanked.ok) return blanked;
  return ok(out);
}

/** Turns udta/meta/uuid boxes inside moov and its tracks into `free` boxes. */
function blankNested(out: Uint8Array, parent: Box, depth: number): void {
  const kids = readBoxes(out, parent.data, parent.end);
  if (!kids.ok || depth > 4) return;
  for (const k of kids.value) {
    if (BLANKED_BOXES.has(k.type)) blankBox(out, k);
    else if (k.type === "trak" || k.type === "mdia") blankNested(out, k, depth + 1);
  }
}

function blankItems(out: Uint8Array, layout: IsoLayout, policy: MetadataPolicy): Parse<true> {
  const targets = layout.items.filter((i) => i.type === "Exif" || i.type === "mime");
  let exifRewritten = false;
  for (const item of targets) {
    const loc = layout.iloc.find((l) => l.id === item.id);
    if (!loc) continue;
    if (loc.method > 1) return cannotStrip("item data by reference");
    if (loc.method === 1 && layout.idat < 0) return cannotStrip("idat item without idat");
    if (layout.ilocLengthSize === 0) return cannotStrip("extents without a length");
    const base = loc.method === 1 ? layout.idat : 0;
    for (const e of loc.extents) {
      const start = base + e.offset;
      if (e.length === 0 || start + e.length > out.length) {
        return cannotStrip("item extent outside the file");
      }
    }
    const first = loc.extents[0];
    if (item.type === "Exif" && !exifRewritten && first && loc.extents.length === 1) {
      exifRewritten = true;
      const start = base + first.offset;
      const payload = out.subarray(start, start + first.length);
      // HEIF Exif payload: u32 offset to the TIFF header, then the Exif block.
      const tiffAt = 4 + u32be(payload, 0);
      // HEIF readers take orientation from irot/imir only, so the block never repeats it.
      const fields = { ...readExifFields(payload.subarray(tiffAt)), orientation: 1 };
      const tiff = buildMinimalTiff(fields, policy);
      out.fill(0, start, start + first.length);
      if (tiff && tiff.length + 4 <= first.length) {
        out.set(tiff, start + 4);
        if (layout.ilocLengthSize === 4) putU32be(out, first.lengthFieldAt, tiff.length + 4);
      }
      continue;
    }
    for (const e of loc.extents) out.fill(0, base + e.offset, base + e.offset + e.length);
  }
  return ok(true);
}
