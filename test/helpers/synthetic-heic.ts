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

/** One coded image of the tile file: its hvcC box and HEVC bitstream. */
interface Coded {
  hvcC: Uint8Array;
  bitstream: Uint8Array;
}

/** The parts of the single-image tile file a grid reuses. */
interface TileSource {
  width: number;
  height: number;
  colour: Coded;
  /** heif-enc's alpha auxiliary image, with its auxC box, when the tile file has one. */
  alpha: (Coded & { auxC: Uint8Array }) | null;
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

/**
 * Pulls the hvcC boxes, ispe size and HEVC data out of a single-image HEIC as heif-enc writes
 * it: the colour image is the first hvc1 item and owns the first hvcC, the alpha image (if
 * any) the second of each, next to one auxC.
 */
function tileSource(tileHeic: Uint8Array): TileSource {
  const layout = walkIsobmff(tileHeic, ftypBrands(tileHeic) ?? []);
  if (!layout.ok) throw new Error(`tile HEIC: ${layout.error.detail}`);
  const { iloc, items, top, width, height } = layout.value;
  const meta = top.find((b) => b.type === "meta");
  const metaKids = meta ? readBoxes(tileHeic, meta.data + 4, meta.end) : null;
  const iprp = metaKids?.ok ? metaKids.value.find((b) => b.type === "iprp") : undefined;
  const iprpKids = iprp ? readBoxes(tileHeic, iprp.data, iprp.end) : null;
  const ipco = iprpKids?.ok ? iprpKids.value.find((b) => b.type === "ipco") : undefined;
  const propsRead = ipco ? readBoxes(tileHeic, ipco.data, ipco.end) : null;
  const props = propsRead?.ok ? propsRead.value : [];
  const slice = (b: { start: number; end: number }) => tileHeic.slice(b.start, b.end);
  const hvcCs = props.filter((b) => b.type === "hvcC");
  const coded = items
    .filter((i) => i.type === "hvc1")
    .map((item, n): Coded | null => {
      const extent = iloc.find((l) => l.id === item.id)?.extents[0];
      const hvcC = hvcCs[n];
      if (!extent || !hvcC) return null;
      const bitstream = tileHeic.slice(extent.offset, extent.offset + extent.length);
      return { hvcC: slice(hvcC), bitstream };
    });
  const colour = coded[0];
  if (!colour) throw new Error("tile HEIC has no hvc1 item with data and hvcC");
  const alphaCoded = coded[1];
  const auxC = props.find((b) => b.type === "auxC");
  const alpha = alphaCoded && auxC ? { ...alphaCoded, auxC: slice(auxC) } : null;
  return { width, height, colour, alpha };
}

/**
 * Builds the `meta` box; the colour bitstream is at `mdatData` in the file, the alpha one
 * right after it.
 */
function metaBox(src: TileSource, o: GridHeicOptions, mdatData: number): Uint8Array {
  const columns = Math.ceil(o.width / src.width);
  const rows = Math.ceil(o.height / src.height);
  if (columns > 256 || rows > 256) throw new Error("ImageGrid counts are 8-bit");
  const cells = rows * columns;
  const refCount = cells + (o.extraTileRefs ?? 0);
  const present = refCount - (o.missingTiles ?? 0);
  const GRID = 1;
  const ALPHA_GRID = 2;
  const tileIds = Array.from({ length: refCount }, (_, i) => 3 + i);
  const existing = tileIds.slice(0, present);
  const alpha = src.alpha;
  // The alpha grid mirrors the colour grid cell for cell (always well-formed).
  const alphaIds = alpha ? Array.from({ length: cells }, (_, i) => 3 + refCount + i) : [];

  const hdlr = fullBox("hdlr", 0, 0, u32(0), fourcc("pict"), u32(0), u32(0), u32(0), [0]);
  const pitm = fullBox("pitm", 0, 0, u16(GRID));
  // Tiles are hidden (flags 1): only the grid is an image a reader should show.
  const infe = (id: number, type: string, flags: number) =>
    fullBox("infe", 2, flags, u16(id), u16(0), fourcc(type), [0]);
  const infes = [
    infe(GRID, "grid", 0),
    ...(alpha ? [infe(ALPHA_GRID, "grid", 1)] : []),
    ...existing.map((id) => infe(id, "hvc1", 1)),
    ...alphaIds.map((id) => infe(id, "hvc1", 1)),
  ];
  const iinf = fullBox("iinf", 0, 0, u16(infes.length), ...infes);
  const ref = (type: string, from: number, to: number[]) =>
    box(type, u16(from), u16(to.length), to.flatMap(u16));
  const iref = fullBox(
    "iref",
    0,
    0,
    ref("dimg", GRID, tileIds),
    ...(alpha ? [ref("dimg", ALPHA_GRID, alphaIds), ref("auxl", ALPHA_GRID, [GRID])] : []),
  );
  // ImageGrid: version 0, flags 0 (16-bit output size), rows-1, columns-1, width, height.
  // Both grids point at this one payload.
  const gridPayload = [0, 0, rows - 1, columns - 1, ...u16(o.width), ...u16(o.height)];
  const idat = box("idat", gridPayload);
  // Property indices (1-based): 1 hvcC, 2 tile ispe, 3 grid ispe, 4 irot, 5 alpha hvcC, 6 auxC.
  const ipco = box(
    "ipco",
    src.colour.hvcC,
    fullBox("ispe", 0, 0, u32(src.width), u32(src.height)),
    fullBox("ispe", 0, 0, u32(o.width), u32(o.height)),
    box("irot", [(o.irot ?? 0) & 3]),
    ...(alpha ? [alpha.hvcC, alpha.auxC] : []),
  );
  const gridProps = o.irot ? [3, 0x84] : [3];
  const assoc = (id: number, props: number[]) => [...u16(id), props.length, ...props];
  const ipmaEntries = [
    assoc(GRID, gridProps),
    ...(alpha ? [assoc(ALPHA_GRID, [3, 0x86])] : []),
    ...existing.map((id) => assoc(id, [0x81, 2])),
    ...alphaIds.map((id) => assoc(id, [0x85, 2])),
  ];
  const ipma = fullBox("ipma", 0, 0, u32(ipmaEntries.length), ...ipmaEntries);
  const iprp = box("iprp", ipco, ipma);
  // iloc v1: 4-byte offsets and lengths, no base offset; the grid payload lives in idat
  // (construction method 1), every tile at the one copy of its bitstream in mdat.
  const ilocEntry = (id: number, method: number, offset: number, length: number) => [
    ...u16(id),
    ...u16(method),
    ...u16(0),
    ...u16(1),
    ...u32(offset),
    ...u32(length),
  ];
  const colourLength = src.colour.bitstream.length;
  const ilocEntries = [
    ilocEntry(GRID, 1, 0, gridPayload.length),
    ...(alpha ? [ilocEntry(ALPHA_GRID, 1, 0, gridPayload.length)] : []),
    ...existing.map((id) => ilocEntry(id, 0, mdatData, colourLength)),
    ...alphaIds.map((id) =>
      ilocEntry(id, 0, mdatData + colourLength, alpha?.bitstream.length ?? 0),
    ),
  ];
  const iloc = fullBox("iloc", 1, 0, [0x44, 0x00], u16(ilocEntries.length), ...ilocEntries);
  return fullBox("meta", 0, 0, hdlr, pitm, iinf, iref, idat, iprp, iloc);
}

/**
 * A grid HEIC of `width` x `height` made of copies of a single-image HEIC (the committed
 * 512x512 tile, or any heif-enc file; one with alpha gets an alpha grid too).
 */
export function syntheticHeicGrid(tileHeic: Uint8Array, options: GridHeicOptions): Uint8Array {
  const src = tileSource(tileHeic);
  const ftyp = box("ftyp", fourcc("heic"), u32(0), fourcc("mif1"), fourcc("heic"));
  // The meta box's size does not depend on the offsets it holds, so build it twice.
  const draft = metaBox(src, options, 0);
  const mdatData = ftyp.length + draft.length + 8;
  const meta = metaBox(src, options, mdatData);
  const mdat = box("mdat", src.colour.bitstream, src.alpha?.bitstream ?? []);
  const pad = options.padBytes ? box("free", new Uint8Array(options.padBytes)) : new Uint8Array();
  const out = new Uint8Array(ftyp.length + meta.length + mdat.length + pad.length);
  out.set(ftyp, 0);
  out.set(meta, ftyp.length);
  out.set(mdat, ftyp.length + meta.length);
  out.set(pad, ftyp.length + meta.length + mdat.length);
  return out;
}
