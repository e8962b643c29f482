import { ascii, fail, ok, type Parse, u16be, u32be } from "./bytes";

/** An ISOBMFF box: `data` is the first byte after the header (before any FullBox version). */
export interface Box {
  type: string;
  start: number;
  data: number;
  end: number;
}

/** One extent of an item, with where its length field lives (for in-place rewriting). */
export interface IlocExtent {
  offset: number;
  length: number;
  lengthFieldAt: number;
}

/** One `iloc` entry. Offsets are absolute for construction method 0 and idat-relative for 1. */
export interface IlocItem {
  id: number;
  method: number;
  extents: IlocExtent[];
}

/** One `infe` item: its type ("av01", "hvc1", "grid", "Exif", "mime"...) and MIME content type. */
export interface ItemInfo {
  id: number;
  type: string;
  contentType: string;
}

/**
 * A `grid` primary item (ISO/IEC 23008-12 ImageGrid): `columns` x `rows` coded tiles of one
 * size, pasted left to right and top to bottom, the last column and row cropped to the output.
 */
export interface IsoGrid {
  rows: number;
  columns: number;
  /** Tile size from the first tile's `ispe` (every tile must have it). */
  tileWidth: number;
  tileHeight: number;
}

/** What the HEIF/AVIF `meta` box and the top-level box list say. */
export interface IsoLayout {
  top: Box[];
  end: number;
  brands: string[];
  width: number;
  height: number;
  orientation: number;
  hasAlpha: boolean;
  frames: number;
  items: ItemInfo[];
  iloc: IlocItem[];
  /** Width in bytes of iloc extent_length fields (0 = absent: "to the end"). */
  ilocLengthSize: number;
  /** Absolute offset of the `idat` payload, or -1. */
  idat: number;
  /** `colr` properties of the primary item (an ICC one, an nclx one, or both), in order. */
  colr: Box[];
  /**
   * Bytes a pixel of the primary item's decoded HEVC planes, from its `hvcC` (chroma format and
   * bit depth): 1.5 for 8-bit 4:2:0 up to 6 for 10-bit 4:4:4. 0 when there is no hvcC.
   */
  hevcPlaneBytes: number;
  /** Item type of the primary item ("hvc1", "av01", "grid"...); "" when it has no infe. */
  primaryType: string;
  /** Set when the primary item is a grid of tiles. */
  grid: IsoGrid | null;
}

const MAX_BOXES = 10_000;
// Caps for iloc: a still image has a few items (image, alpha, EXIF, thumbnails), a grid one per
// tile, and each item one extent or a few; 4096 of either is far beyond any real file.
const MAX_ILOC_ITEMS = 4096;
const MAX_ILOC_EXTENTS = 4096;
const ALPHA_URNS = ["urn:mpeg:mpegB:cicp:systems:auxiliary:alpha", "urn:mpeg:hevc:2015:auxid:1"];

function isFourcc(b: Uint8Array, o: number): boolean {
  for (let i = o; i < o + 4; i++) {
    const c = b[i] ?? 0;
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

/** Reads an unsigned big-endian integer of 0, 4 or 8 bytes (safe up to 2^53). */
function uint(b: Uint8Array, o: number, size: number): number {
  if (size === 4) return u32be(b, o);
  if (size === 8) return u32be(b, o) * 0x100000000 + u32be(b, o + 4);
  return 0;
}

/**
 * Lists the boxes in b[start, end). With `lenient`, a box whose header is not a box (junk
 * after the last box) ends the list instead of failing; a real box type that runs past the
 * end is still a truncated file.
 */
export function readBoxes(
  b: Uint8Array,
  start: number,
  end: number,
  lenient = false,
): Parse<Box[]> {
  const out: Box[] = [];
  let off = start;
  while (off + 8 <= end && out.length < MAX_BOXES) {
    let size = u32be(b, off);
    let header = 8;
    if (size === 1) {
      size = uint(b, off + 8, 8);
      header = 16;
    } else if (size === 0) {
      size = end - off;
    }
    const real = isFourcc(b, off + 4);
    if (!real || size < header || off + size > end) {
      if (lenient && out.length > 0 && !real) break;
      return fail(
        "corrupt_image",
        `ISOBMFF box ${JSON.stringify(ascii(b, off + 4, 4))} is truncated`,
      );
    }
    out.push({ type: ascii(b, off + 4, 4), start: off, data: off + header, end: off + size });
    off += size;
  }
  if (out.length >= MAX_BOXES) return fail("corrupt_image", "ISOBMFF has too many boxes");
  return ok(out);
}

function child(b: Uint8Array, box: Box, type: string, skip = 0): Box | undefined {
  const kids = readBoxes(b, box.data + skip, box.end);
  return kids.ok ? kids.value.find((k) => k.type === type) : undefined;
}

/** Parses the top level and the primary `meta` box of a HEIF/AVIF file, headers only. */
export function walkIsobmff(b: Uint8Array, brands: string[]): Parse<IsoLayout> {
  const top = readBoxes(b, 0, b.length, true);
  if (!top.ok) return top;
  const last = top.value[top.value.length - 1];
  const layout: IsoLayout = {
    top: top.value,
    end: last ? last.end : 0,
    brands,
    width: 0,
    height: 0,
    orientation: 1,
    hasAlpha: false,
    frames: 1,
    items: [],
    iloc: [],
    ilocLengthSize: 0,
    idat: -1,
    colr: [],
    hevcPlaneBytes: 0,
    primaryType: "",
    grid: null,
  };
  const meta = top.value.find((x) => x.type === "meta");
  if (!meta) return fail("corrupt_image", "HEIF has no meta box");
  const kids = readBoxes(b, meta.data + 4, meta.end);
  if (!kids.ok) return kids;
  let primary = -1;
  let iref: Box | undefined;
  for (const k of kids.value) {
    if (k.type === "pitm") primary = b[k.data] === 0 ? u16be(b, k.data + 4) : u32be(b, k.data + 4);
    else if (k.type === "iinf") layout.items = readIinf(b, k);
    else if (k.type === "idat") layout.idat = k.data;
    else if (k.type === "iref") iref = k;
    else if (k.type === "iloc") {
      const iloc = readIloc(b, k);
      if (!iloc.ok) return iloc;
      layout.iloc = iloc.value.items;
      layout.ilocLengthSize = iloc.value.lengthSize;
    }
  }
  const iprp = kids.value.find((k) => k.type === "iprp");
  if (iprp) readProperties(b, iprp, primary, layout);
  if (layout.width === 0 || layout.height === 0) {
    return fail("corrupt_image", "HEIF has no image size (ispe)");
  }
  layout.primaryType = layout.items.find((i) => i.id === primary)?.type ?? "";
  if (layout.primaryType === "grid") {
    const grid = readGrid(b, layout, primary, iref, iprp);
    if (!grid.ok) return grid;
    layout.grid = grid.value;
  }
  if (brands.includes("avis") || brands.includes("msf1"))
    layout.frames = countSamples(b, top.value);
  return ok(layout);
}

function readIinf(b: Uint8Array, box: Box): ItemInfo[] {
  const version = b[box.data] ?? 0;
  const kids = readBoxes(b, box.data + (version === 0 ? 6 : 8), box.end);
  if (!kids.ok) return [];
  const items: ItemInfo[] = [];
  for (const k of kids.value) {
    const v = b[k.data] ?? 0;
    if (k.type !== "infe" || v < 2) continue;
    let p = k.data + 4;
    const id = v === 2 ? u16be(b, p) : u32be(b, p);
    p += (v === 2 ? 2 : 4) + 2;
    const type = ascii(b, p, 4);
    let contentType = "";
    if (type === "mime") {
      let q = p + 4;
      while (q < k.end && b[q] !== 0) q++; // item_name
      const ct = q + 1;
      let e = ct;
      while (e < k.end && b[e] !== 0) e++;
      contentType = ascii(b, ct, e - ct);
    }
    items.push({ id, type, contentType });
  }
  return items;
}

function readIloc(b: Uint8Array, box: Box): Parse<{ items: IlocItem[]; lengthSize: number }> {
  const v = b[box.data] ?? 0;
  let p = box.data + 4;
  const offsetSize = (b[p] ?? 0) >> 4;
  const lengthSize = (b[p] ?? 0) & 15;
  const baseSize = (b[p + 1] ?? 0) >> 4;
  const indexSize = v >= 1 ? (b[p + 1] ?? 0) & 15 : 0;
  const sizes = [offsetSize, lengthSize, baseSize, indexSize];
  if (v > 2 || sizes.some((s) => s !== 0 && s !== 4 && s !== 8)) {
    return fail("corrupt_image", "HEIF iloc is malformed");
  }
  p += 2;
  if (p + (v < 2 ? 2 : 4) > box.end) return fail("corrupt_image", "HEIF iloc is truncated");
  const count = v < 2 ? u16be(b, p) : u32be(b, p);
  p += v < 2 ? 2 : 4;
  // Zero-width fields are legal, so a byte bound alone does not stop a crafted iloc: one item
  // header is at least 6 bytes but an extent can be 0 bytes, which let 65,535 extents per item
  // cost nothing in the file and everything in memory. Real files carry a handful of items
  // (grids stay well under a few hundred tiles), so both counts are capped outright.
  if (count > MAX_ILOC_ITEMS) return fail("corrupt_image", "HEIF iloc has too many items");
  const itemHeader = (v < 2 ? 2 : 4) + (v >= 1 ? 2 : 0) + 2 + baseSize + 2;
  const extentBytes = indexSize + offsetSize + lengthSize;
  if (count * itemHeader > box.end - p) return fail("corrupt_image", "HEIF iloc is truncated");
  const items: IlocItem[] = [];
  let totalExtents = 0;
  for (let i = 0; i < count; i++) {
    if (p + itemHeader > box.end) return fail("corrupt_image", "HEIF iloc is truncated");
    const id = v < 2 ? u16be(b, p) : u32be(b, p);
    p += v < 2 ? 2 : 4;
    const method = v >= 1 ? u16be(b, p) & 15 : 0;
    if (v >= 1) p += 2;
    p += 2; // data_reference_index
    const base = uint(b, p, baseSize);
    p += baseSize;
    const extentCount = u16be(b, p);
    p += 2;
    totalExtents += extentCount;
    if (totalExtents > MAX_ILOC_EXTENTS) {
      return fail("corrupt_image", "HEIF iloc has too many extents");
    }
    // With no offset, length or index an extent means "the whole source": more than one of
    // those in an item says nothing new and is only a way to make the loop below free.
    if (extentBytes === 0 && extentCount > 1) {
      return fail("corrupt_image", "HEIF iloc repeats an empty extent");
    }
    if (extentCount * extentBytes > box.end - p) {
      return fail("corrupt_image", "HEIF iloc is truncated");
    }
    const extents: IlocExtent[] = [];
    for (let e = 0; e < extentCount; e++) {
      p += indexSize;
      const offset = base + uint(b, p, offsetSize);
      p += offsetSize;
      extents.push({ offset, length: uint(b, p, lengthSize), lengthFieldAt: p });
      p += lengthSize;
    }
    items.push({ id, method, extents });
  }
  return ok({ items, lengthSize });
}

// Table from HEIF irot (anticlockwise quarter turns) and imir (none, axis 0, axis 1) to the
// EXIF orientation that displays the same way: irot is applied first, then imir.
// Columns: no mirror, left-right mirror, top-bottom mirror.
const IROT_IMIR_TO_EXIF = [
  [1, 2, 4],
  [8, 7, 5],
  [3, 4, 2],
  [6, 5, 7],
];

function readProperties(b: Uint8Array, iprp: Box, primary: number, layout: IsoLayout): void {
  const ipco = child(b, iprp, "ipco");
  const ipma = child(b, iprp, "ipma");
  if (!ipco) return;
  const propsRead = readBoxes(b, ipco.data, ipco.end);
  const props = propsRead.ok ? propsRead.value : [];
  for (const prop of props) {
    if (prop.type !== "auxC") continue;
    const urn = ascii(b, prop.data + 4, Math.min(64, prop.end - prop.data - 4)).split("\0")[0];
    if (ALPHA_URNS.includes(urn ?? "")) layout.hasAlpha = true;
  }
  const assoc = ipma ? itemProperties(b, ipma, primary) : [];
  let rot = 0;
  let mirror = 0;
  for (const index of assoc) {
    const prop = props[index - 1];
    if (prop?.type === "ispe") {
      layout.width = u32be(b, prop.data + 4);
      layout.height = u32be(b, prop.data + 8);
    } else if (prop?.type === "irot") rot = (b[prop.data] ?? 0) & 3;
    // imir axis 0 exchanges top and bottom (EXIF 4), axis 1 left and right (EXIF 2).
    else if (prop?.type === "imir") mirror = ((b[prop.data] ?? 0) & 1) === 0 ? 2 : 1;
    else if (prop?.type === "colr") layout.colr.push(prop);
    else if (prop?.type === "hvcC" && prop.end - prop.data >= 18) {
      // hvcC: chromaFormat in the low 2 bits of byte 16, bitDepthLumaMinus8 in the low 3 of 17.
      const samples = [1, 1.5, 2, 3][(b[prop.data + 16] ?? 1) & 3] ?? 1.5;
      const depth = ((b[prop.data + 17] ?? 0) & 7) + 8;
      layout.hevcPlaneBytes = samples * (depth > 8 ? 2 : 1);
    }
  }
  layout.orientation = IROT_IMIR_TO_EXIF[rot]?.[mirror] ?? 1;
  if (layout.width > 0) return;
  // No association we understand: the largest ispe is the main image (thumbnails are smaller).
  for (const prop of props) {
    if (prop.type !== "ispe") continue;
    const w = u32be(b, prop.data + 4);
    const h = u32be(b, prop.data + 8);
    if (w * h > layout.width * layout.height) {
      layout.width = w;
      layout.height = h;
    }
  }
}

/** Reads `count` item IDs of `size` bytes each. */
function itemIds(b: Uint8Array, at: number, count: number, size: 2 | 4): number[] {
  const ids: number[] = [];
  for (let i = 0; i < count; i++)
    ids.push(size === 2 ? u16be(b, at + i * 2) : u32be(b, at + i * 4));
  return ids;
}

/** The `dimg` references of `from` (the grid's tiles, in raster order); null without any. */
function derivedFrom(b: Uint8Array, iref: Box, from: number): number[] | null {
  const size = (b[iref.data] ?? 0) === 0 ? 2 : 4;
  const refs = readBoxes(b, iref.data + 4, iref.end);
  if (!refs.ok) return null;
  for (const r of refs.value) {
    if (r.type !== "dimg" || r.data + size + 2 > r.end) continue;
    const id = size === 2 ? u16be(b, r.data) : u32be(b, r.data);
    if (id !== from) continue;
    const count = u16be(b, r.data + size);
    const first = r.data + size + 2;
    if (first + count * size > r.end) return null;
    return itemIds(b, first, count, size);
  }
  return null;
}

/** The bytes of a single-extent item stored in the file or in idat; null when out of range. */
function itemPayload(b: Uint8Array, layout: IsoLayout, id: number): Uint8Array | null {
  const loc = layout.iloc.find((l) => l.id === id);
  const extent = loc?.extents[0];
  if (!loc || !extent || loc.extents.length !== 1 || loc.method > 1) return null;
  if (loc.method === 1 && layout.idat < 0) return null;
  const start = (loc.method === 1 ? layout.idat : 0) + extent.offset;
  const end = start + extent.length;
  if (extent.length === 0 || end > b.length) return null;
  return b.subarray(start, end);
}

/**
 * Checks a grid primary item against what a tile-by-tile decoder relies on: an ImageGrid
 * payload that matches the grid's `ispe`, one existing tile item per cell, and tiles (sized by
 * the first one's `ispe`) that cover the output. Decoders reject the same files, but later and
 * with less to say.
 */
function readGrid(
  b: Uint8Array,
  layout: IsoLayout,
  primary: number,
  iref: Box | undefined,
  iprp: Box | undefined,
): Parse<IsoGrid> {
  const payload = itemPayload(b, layout, primary);
  if (!payload || payload.length < 8 || payload[0] !== 0) {
    return fail("corrupt_image", "HEIF grid item has no ImageGrid data");
  }
  const wide = ((payload[1] ?? 0) & 1) === 1;
  if (wide && payload.length < 12) return fail("corrupt_image", "HEIF ImageGrid is truncated");
  const rows = (payload[2] ?? 0) + 1;
  const columns = (payload[3] ?? 0) + 1;
  const width = wide ? u32be(payload, 4) : u16be(payload, 4);
  const height = wide ? u32be(payload, 8) : u16be(payload, 6);
  if (width !== layout.width || height !== layout.height) {
    return fail(
      "corrupt_image",
      `HEIF grid is ${width}x${height} but its ispe says ${layout.width}x${layout.height}`,
    );
  }
  const tiles = iref ? derivedFrom(b, iref, primary) : null;
  if (!tiles || tiles.length !== rows * columns) {
    return fail(
      "corrupt_image",
      `HEIF grid has ${rows}x${columns} cells but ${tiles?.length ?? 0} tile references`,
    );
  }
  const known = new Set(layout.items.map((i) => i.id));
  const located = new Set(layout.iloc.map((l) => l.id));
  if (!tiles.every((id) => known.has(id) && located.has(id))) {
    return fail("corrupt_image", "HEIF grid references a tile that is not in the file");
  }
  const first = tiles[0] ?? 0;
  const ipco = iprp && child(b, iprp, "ipco");
  const ipma = iprp && child(b, iprp, "ipma");
  const props = ipco ? readBoxes(b, ipco.data, ipco.end) : null;
  const ispe = (ipma ? itemProperties(b, ipma, first) : [])
    .map((index) => (props?.ok ? props.value[index - 1] : undefined))
    .find((p) => p?.type === "ispe");
  const tileWidth = ispe ? u32be(b, ispe.data + 4) : 0;
  const tileHeight = ispe ? u32be(b, ispe.data + 8) : 0;
  if (tileWidth === 0 || tileHeight === 0) {
    return fail("corrupt_image", "HEIF grid tile has no image size (ispe)");
  }
  // Every cell must show pixels: too few tiles leave a hole, one whole column or row too many
  // is a grid that lies about its size.
  const coversW = columns * tileWidth >= width && (columns - 1) * tileWidth < width;
  const coversH = rows * tileHeight >= height && (rows - 1) * tileHeight < height;
  if (!coversW || !coversH) {
    return fail(
      "corrupt_image",
      `HEIF grid of ${columns}x${rows} tiles of ${tileWidth}x${tileHeight} does not tile ${width}x${height}`,
    );
  }
  return ok({ rows, columns, tileWidth, tileHeight });
}

function itemProperties(b: Uint8Array, ipma: Box, item: number): number[] {
  const v = b[ipma.data] ?? 0;
  const wide = ((b[ipma.data + 3] ?? 0) & 1) === 1;
  let p = ipma.data + 4;
  const count = u32be(b, p);
  p += 4;
  for (let i = 0; i < count && p < ipma.end; i++) {
    const id = v < 1 ? u16be(b, p) : u32be(b, p);
    p += v < 1 ? 2 : 4;
    const n = b[p] ?? 0;
    p += 1;
    const indices: number[] = [];
    for (let j = 0; j < n; j++) {
      indices.push(wide ? u16be(b, p) & 0x7fff : (b[p] ?? 0) & 0x7f);
      p += wide ? 2 : 1;
    }
    if (id === item) return indices;
  }
  return [];
}

function countSamples(b: Uint8Array, top: Box[]): number {
  let frames = 1;
  const moov = top.find((x) => x.type === "moov");
  if (!moov) return frames;
  const traks = readBoxes(b, moov.data, moov.end);
  if (!traks.ok) return frames;
  for (const trak of traks.value) {
    if (trak.type !== "trak") continue;
    let box: Box | undefined = trak;
    for (const t of ["mdia", "minf", "stbl", "stsz"]) box = box && child(b, box, t);
    if (box) frames = Math.max(frames, u32be(b, box.data + 8));
  }
  return frames;
}
