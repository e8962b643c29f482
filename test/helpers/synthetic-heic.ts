/**
 * Grid HEICs of any size built from one small committed HEIC (test/fixtures/heic/
 * grid-tile-512.heic), the way phones store photos: a `grid` primary item deriving (`dimg`) from
 * N x M hidden `hvc1` tile items. Every tile's `iloc` points at the same single copy of the
 * tile's HEVC bitstream and every tile shares the same `hvcC` and `ispe` properties, so a 48 MP
 * grid is still ~5 KB and is made in microseconds. No HEVC encoder is needed at test time.
 */
import { readBoxes, walkIsobmff } from "../../src/pipeline/parse-isobmff";
import { ftypBrands } from "../../src/pipeline/sniff";

/** What to build; defaults make a well-formed grid. */
export interface GridHeicOptions {
  /** Output (grid `ispe`) size in stored orientation; tiles cover it, the last ones cropped. */
  width: number;
  height: number;
  /** HEIF `irot`: anticlockwise quarter turns applied to the grid for display. */
  irot?: 0 | 1 | 2 | 3;
  /** Adds (or, negative, removes) `dimg` references so they no longer match rows x columns. */
  extraTileRefs?: number;
  /** This many of the last referenced tiles get no `infe`/`iloc`: references to nothing. */
  missingTiles?: number;
  /**
   * Bytes of a trailing `free` box, so the file is as large as a real photo's (3-10 MB: the
   * decoder holds the whole file) without real tile data.
   */
  padBytes?: number;
}

/** The parts of the single-image tile file a grid reuses. */
interface TileSource {
  hvcC: Uint8Array;
  width: number;
  height: number;
  bitstream: Uint8Array;
}

function u16(v: number): number[] {
  return [(v >> 8) & 255, v & 255];
}

function u32(v: number): number[] {
  return [(v >>> 24) & 255, (v >> 16) & 255, (v >> 8) & 255, v & 255];
}

function fourcc(s: string): number[] {
  return [...s].map((c) => c.charCodeAt(0));
}

function box(type: string, ...parts: (number[] | Uint8Array)[]): Uint8Array {
  const size = 8 + parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(size);
  out.set([...u32(size), ...fourcc(type)]);
  let at = 8;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function fullBox(
  type: string,
  version: number,
  flags: number,
  ...parts: (number[] | Uint8Array)[]
): Uint8Array {
  return box(type, [version, (flags >> 16) & 255, (flags >> 8) & 255, flags & 255], ...parts);
}

/** Pulls the hvcC box, ispe size and HEVC data out of a single-image HEIC. */
function tileSource(tileHeic: Uint8Array): TileSource {
  const layout = walkIsobmff(tileHeic, ftypBrands(tileHeic) ?? []);
  if (!layout.ok) throw new Error(`tile HEIC: ${layout.error.detail}`);
  const { iloc, items, top, width, height } = layout.value;
  const image = items.find((i) => i.type === "hvc1");
  const extent = iloc.find((l) => l.id === image?.id)?.extents[0];
  if (!image || !extent) throw new Error("tile HEIC has no hvc1 item data");
  const meta = top.find((b) => b.type === "meta");
  const metaKids = meta ? readBoxes(tileHeic, meta.data + 4, meta.end) : null;
  const iprp = metaKids?.ok ? metaKids.value.find((b) => b.type === "iprp") : undefined;
  const iprpKids = iprp ? readBoxes(tileHeic, iprp.data, iprp.end) : null;
  const ipco = iprpKids?.ok ? iprpKids.value.find((b) => b.type === "ipco") : undefined;
  const props = ipco ? readBoxes(tileHeic, ipco.data, ipco.end) : null;
  const hvcC = props?.ok ? props.value.find((b) => b.type === "hvcC") : undefined;
  if (!hvcC) throw new Error("tile HEIC has no hvcC");
  return {
    hvcC: tileHeic.slice(hvcC.start, hvcC.end),
    width,
    height,
    bitstream: tileHeic.slice(extent.offset, extent.offset + extent.length),
  };
}

/** The grid's cell counts for a size: enough tiles to cover it. */
export function gridCells(
  width: number,
  height: number,
  tile = 512,
): { columns: number; rows: number } {
  return { columns: Math.ceil(width / tile), rows: Math.ceil(height / tile) };
}

/** Builds the `meta` box; `mdatData` is the absolute offset of the tile bitstream. */
function metaBox(src: TileSource, o: GridHeicOptions, mdatData: number): Uint8Array {
  const columns = Math.ceil(o.width / src.width);
  const rows = Math.ceil(o.height / src.height);
  if (columns > 256 || rows > 256) throw new Error("ImageGrid counts are 8-bit");
  const refCount = rows * columns + (o.extraTileRefs ?? 0);
  const present = refCount - (o.missingTiles ?? 0);
  const GRID = 1;
  const tileIds = Array.from({ length: refCount }, (_, i) => GRID + 1 + i);
  const existing = tileIds.slice(0, present);

  const hdlr = fullBox("hdlr", 0, 0, u32(0), fourcc("pict"), u32(0), u32(0), u32(0), [0]);
  const pitm = fullBox("pitm", 0, 0, u16(GRID));
  // Tiles are hidden (flags 1): only the grid is an image a reader should show.
  const infe = (id: number, type: string, flags: number) =>
    fullBox("infe", 2, flags, u16(id), u16(0), fourcc(type), [0]);
  const iinf = fullBox(
    "iinf",
    0,
    0,
    u16(1 + existing.length),
    infe(GRID, "grid", 0),
    ...existing.map((id) => infe(id, "hvc1", 1)),
  );
  const iref = fullBox(
    "iref",
    0,
    0,
    box("dimg", u16(GRID), u16(tileIds.length), tileIds.flatMap(u16)),
  );
  // ImageGrid: version 0, flags 0 (16-bit output size), rows-1, columns-1, width, height.
  const gridPayload = [0, 0, rows - 1, columns - 1, ...u16(o.width), ...u16(o.height)];
  const idat = box("idat", gridPayload);
  // Property indices (1-based): 1 hvcC, 2 tile ispe, 3 grid ispe, 4 irot.
  const ipco = box(
    "ipco",
    src.hvcC,
    fullBox("ispe", 0, 0, u32(src.width), u32(src.height)),
    fullBox("ispe", 0, 0, u32(o.width), u32(o.height)),
    box("irot", [(o.irot ?? 0) & 3]),
  );
  const gridProps = o.irot ? [3, 0x84] : [3];
  const ipma = fullBox(
    "ipma",
    0,
    0,
    u32(1 + existing.length),
    [...u16(GRID), gridProps.length, ...gridProps],
    ...existing.map((id) => [...u16(id), 2, 0x81, 2]),
  );
  const iprp = box("iprp", ipco, ipma);
  // iloc v1: 4-byte offsets and lengths, no base offset; the grid payload lives in idat
  // (construction method 1), every tile at the one copy of the bitstream in mdat.
  const ilocEntry = (id: number, method: number, offset: number, length: number) => [
    ...u16(id),
    ...u16(method),
    ...u16(0),
    ...u16(1),
    ...u32(offset),
    ...u32(length),
  ];
  const iloc = fullBox(
    "iloc",
    1,
    0,
    [0x44, 0x00],
    u16(1 + existing.length),
    ilocEntry(GRID, 1, 0, gridPayload.length),
    ...existing.map((id) => ilocEntry(id, 0, mdatData, src.bitstream.length)),
  );
  return fullBox("meta", 0, 0, hdlr, pitm, iinf, iref, idat, iprp, iloc);
}

/** A grid HEIC of `width` x `height` made of copies of the committed 512x512 tile. */
export function syntheticHeicGrid(tileHeic: Uint8Array, options: GridHeicOptions): Uint8Array {
  const src = tileSource(tileHeic);
  const ftyp = box("ftyp", fourcc("heic"), u32(0), fourcc("mif1"), fourcc("heic"));
  // The meta box's size does not depend on the offsets it holds, so build it twice.
  const draft = metaBox(src, options, 0);
  const mdatData = ftyp.length + draft.length + 8;
  const meta = metaBox(src, options, mdatData);
  const mdat = box("mdat", src.bitstream);
  const pad = options.padBytes ? box("free", new Uint8Array(options.padBytes)) : new Uint8Array();
  const out = new Uint8Array(ftyp.length + meta.length + mdat.length + pad.length);
  out.set(ftyp, 0);
  out.set(meta, ftyp.length);
  out.set(mdat, ftyp.length + meta.length);
  out.set(pad, ftyp.length + meta.length + mdat.length);
  return out;
}
