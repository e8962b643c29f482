import { crc32, u32be } from "./bytes";
import { ZlibInflater } from "./inflate";
import { PNG_CHANNELS, type PngChunk, walkPng } from "./parse-png";

/**
 * Strict originals: some PNGs decode in lenient decoders (browsers, ImageMagick) but not in
 * strict ones (libpng's defaults, our png-stream.ts): a wrong zlib Adler-32, or pixels whose
 * palette index is past a short PLTE. Rather than refuse them, or serve an `original` that some
 * clients cannot open, the container is repaired without touching a pixel: the checksum is
 * recomputed, and the palette is padded to 2^depth entries with black (what libpng and browsers
 * show for such an index). The result decodes strictly and looks as the upload did where it
 * decoded at all.
 */

/** What was repaired; reported in the image JSON (`originalRepairs`). */
export type PngRepair = "zlib_checksum" | "palette_size";

/**
 * The repaired file and what changed, or null when nothing here can make it decode. The palette
 * is padded only when the strict decode said an index was past it (`paletteIndexFailed`): a
 * palette shorter than 2^depth is normal.
 */
export function repairPng(
  bytes: Uint8Array,
  paletteIndexFailed: boolean,
): { bytes: Uint8Array; repairs: PngRepair[] } | null {
  const walked = walkPng(bytes, false);
  if (!walked.ok) return null;
  const chunks = walked.value.chunks;
  const ihdr = chunks[0];
  if (ihdr?.type !== "IHDR") return null;
  const depth = bytes[ihdr.data + 8] ?? 0;
  const colorType = bytes[ihdr.data + 9] ?? 0;
  const idats = chunks.filter((c) => c.type === "IDAT");
  const last = idats[idats.length - 1];
  if (!last) return null;

  const repairs: PngRepair[] = [];
  const plte = chunks.find((c) => c.type === "PLTE");
  const entries = 1 << depth;
  const padPalette =
    paletteIndexFailed && colorType === 3 && plte !== undefined && plte.length < entries * 3;
  if (padPalette) repairs.push("palette_size");

  // Read the whole stream without checking its Adler-32, discarding the output.
  const inflater = new ZlibInflater(
    idats.map((c) => bytes.subarray(c.data, c.data + c.length)),
    { verifyChecksum: false },
  );
  // What the image needs, with room for Adam7's per-pass filter bytes: more is not a PNG we
  // repair (and a zip bomb stops here).
  const width = u32be(bytes, ihdr.data);
  const height = u32be(bytes, ihdr.data + 4);
  const channels = PNG_CHANNELS[colorType] ?? 4;
  const limit = 2 * height * (1 + Math.ceil((width * channels * depth) / 8));
  let produced = 0;
  try {
    for (let out = inflater.next(); out !== null; out = inflater.next()) {
      produced += out.length;
      if (produced > limit) return null;
    }
  } catch {
    return null;
  }
  const stored = inflater.storedChecksum;
  const computed = inflater.computedChecksum;
  let checksumAt: number | null = null;
  if (stored !== null && stored !== computed) {
    // The trailer is the last 4 bytes of the last IDAT (no encoder writes bytes after it).
    const at = last.data + last.length - 4;
    if (last.length < 4 || u32be(bytes, at) !== stored) return null;
    // Only the checksum may be wrong: an IDAT whose own CRC fails was damaged in transit, and
    // recomputing its CRC would hide that.
    if (crc32(bytes, last.start + 4, last.end - 4) !== u32be(bytes, last.end - 4)) return null;
    checksumAt = at;
    repairs.push("zlib_checksum");
  }
  if (repairs.length === 0) return null;
  const fixed = rebuild(bytes, padPalette ? plte : undefined, entries);
  if (checksumAt !== null) writeChecksum(fixed.bytes, fixed.offset(checksumAt), computed, last);
  return { bytes: fixed.bytes, repairs };
}

interface Rebuilt {
  bytes: Uint8Array;
  /** Where a byte of the input ended up (only PLTE's growth moves anything). */
  offset(inputOffset: number): number;
}

/** A copy of the file with PLTE (when given) padded to `entries` colours. */
function rebuild(bytes: Uint8Array, plte: PngChunk | undefined, entries: number): Rebuilt {
  if (!plte) {
    const copy = bytes.slice();
    return { bytes: copy, offset: (o) => o };
  }
  const grow = entries * 3 - plte.length;
  const out = new Uint8Array(bytes.length + grow);
  out.set(bytes.subarray(0, plte.start));
  const view = new DataView(out.buffer);
  view.setUint32(plte.start, entries * 3);
  out.set(bytes.subarray(plte.start + 4, plte.data + plte.length), plte.start + 4);
  // The padding stays zero: black.
  const crcAt = plte.data + entries * 3;
  view.setUint32(crcAt, crc32(out, plte.start + 4, crcAt));
  out.set(bytes.subarray(plte.end), crcAt + 4);
  return { bytes: out, offset: (o) => (o >= plte.end ? o + grow : o) };
}

function writeChecksum(out: Uint8Array, at: number, adler: number, chunk: PngChunk): void {
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  view.setUint32(at, adler);
  // The IDAT's own CRC covers the bytes just changed; `at` is inside it, 4 bytes before its CRC.
  const crcAt = at + 4;
  const typeAt = crcAt - chunk.length - 4;
  view.setUint32(crcAt, crc32(out, typeAt, crcAt));
}
