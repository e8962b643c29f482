import { ascii, hasAscii, u32be } from "./bytes";
import type { ImageFormat } from "./types";

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const AVIF_BRANDS = new Set(["avif", "avis"]);
// mif1/msf1 are generic HEIF brands: they only mean HEIC when a HEVC brand rides along.
const HEIC_BRANDS = new Set(["heic", "heix", "hevc", "hevx", "heim", "heis", "hevm", "hevs"]);

/** Identifies an accepted image container from its magic bytes only; null for anything else. */
export function sniffFormat(bytes: Uint8Array): ImageFormat | null {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) {
    return "jpeg";
  }
  if (bytes.length >= 8 && PNG_SIGNATURE.every((v, i) => bytes[i] === v)) return "png";
  if (hasAscii(bytes, 0, "GIF87a") || hasAscii(bytes, 0, "GIF89a")) return "gif";
  if (hasAscii(bytes, 0, "RIFF") && hasAscii(bytes, 8, "WEBP")) return "webp";
  return sniffIsobmff(bytes);
}

/** Lists the major and compatible brands of an ISOBMFF `ftyp` box at offset 0. */
export function ftypBrands(bytes: Uint8Array): string[] | null {
  if (!hasAscii(bytes, 4, "ftyp")) return null;
  const size = u32be(bytes, 0);
  if (size < 16 || size > bytes.length || size > 4096) return null;
  const brands = [ascii(bytes, 8, 4)];
  for (let o = 16; o + 4 <= size; o += 4) brands.push(ascii(bytes, o, 4));
  return brands;
}

function sniffIsobmff(bytes: Uint8Array): ImageFormat | null {
  const brands = ftypBrands(bytes);
  if (!brands) return null;
  const major = brands[0] ?? "";
  if (AVIF_BRANDS.has(major)) return "avif";
  if (HEIC_BRANDS.has(major)) return "heic";
  if (brands.some((b) => AVIF_BRANDS.has(b))) return "avif";
  if (brands.some((b) => HEIC_BRANDS.has(b))) return "heic";
  return null;
}

/** Names what an unaccepted upload looks like, for the `unsupported_format` detail. */
export function describeUnsupported(bytes: Uint8Array): string {
  if (bytes.length === 0) return "the file is empty";
  const head = ascii(bytes, 0, 512)
    .replace(/^\uFEFF|^\xEF\xBB\xBF/, "")
    .trimStart()
    .toLowerCase();
  if (head.startsWith("<svg") || (head.startsWith("<?xml") && head.includes("<svg"))) {
    return "SVG/XML is not accepted";
  }
  if (head.startsWith("<!doctype html") || head.startsWith("<html") || head.includes("<script")) {
    return "HTML is not accepted";
  }
  if (head.startsWith("<?xml") || head.startsWith("<")) return "SVG/XML is not accepted";
  if (head.startsWith("%pdf")) return "PDF is not accepted";
  if (head.startsWith("%!ps")) return "PostScript is not accepted";
  if (head.startsWith("push graphic-context") || head.startsWith("viewbox")) {
    return "ImageMagick MVG is not accepted";
  }
  if (head.startsWith("pk\x03\x04")) return "ZIP archives are not accepted";
  if (head.startsWith("bm")) return "BMP is not accepted";
  if (head.startsWith("ii*\0") || head.startsWith("mm\0*")) return "TIFF is not accepted";
  if (hasAscii(bytes, 4, "ftyp")) return `ISOBMFF brand '${ascii(bytes, 8, 4)}' is not an image`;
  if (hasAscii(bytes, 0, "RIFF")) return `RIFF '${ascii(bytes, 8, 4)}' is not WebP`;
  if (isMostlyText(bytes)) return "text is not an image";
  return "unrecognised file signature";
}

function isMostlyText(bytes: Uint8Array): boolean {
  const n = Math.min(bytes.length, 512);
  let printable = 0;
  for (let i = 0; i < n; i++) {
    const c = bytes[i] ?? 0;
    if (c === 9 || c === 10 || c === 13 || (c >= 32 && c < 127) || c >= 128) printable++;
  }
  return printable === n;
}
