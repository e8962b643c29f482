import { ascii, fail, ok, type Parse, u16be, u32be } from "./bytes";
import { type Box, type IlocItem, type IsoLayout, readBoxes } from "./parse-isobmff";

/** What av1C says about the coded picture (AV1 codec configuration, AVIF section 2.2.1). */
export interface Av1Config {
  bitDepth: 8 | 10 | 12;
  monochrome: boolean;
  subsamplingX: boolean;
  subsamplingY: boolean;
}

/** CICP from an nclx `colr` property (ISO/IEC 23091-4 code points). */
export interface Nclx {
  matrix: number;
  fullRange: boolean;
}

/**
 * The bitstreams of a still AVIF that avif-dav1d.wasm can decode: the primary item's AV1 OBUs
 * and, when the image has one, its alpha auxiliary item's. Offsets index the file.
 */
export interface AvifItems {
  color: Uint8Array;
  alpha: Uint8Array | null;
  /** The alpha item's sample depth (its planes take 2 bytes a sample above 8 bits). */
  alphaBitDepth: number;
  /** From the primary item's nclx `colr`; null leaves matrix and range to the AV1 header. */
  nclx: Nclx | null;
  config: Av1Config;
}

const ALPHA_URNS = ["urn:mpeg:mpegB:cicp:systems:auxiliary:alpha", "urn:mpeg:hevc:2015:auxid:1"];
/** CICP matrix_coefficients the shim converts (see make_converter in wasm/avif-dav1d/shim.c). */
const MATRICES: ReadonlySet<number> = new Set([0, 1, 2, 4, 5, 6, 7, 9]);

interface Reference {
  type: string;
  from: number;
  to: number[];
}

/** The meta box's pieces this module needs beyond what walkIsobmff keeps. */
interface MetaIndex {
  primary: number;
  props: Box[];
  /** Item id -> 1-based property indices. */
  assoc: Map<number, number[]>;
  refs: Reference[];
}

function readMeta(b: Uint8Array, layout: IsoLayout): MetaIndex | null {
  const meta = layout.top.find((x) => x.type === "meta");
  if (!meta) return null;
  const kids = readBoxes(b, meta.data + 4, meta.end);
  if (!kids.ok) return null;
  const index: MetaIndex = { primary: -1, props: [], assoc: new Map(), refs: [] };
  for (const k of kids.value) {
    if (k.type === "pitm") {
      index.primary = b[k.data] === 0 ? u16be(b, k.data + 4) : u32be(b, k.data + 4);
    } else if (k.type === "iref") {
      index.refs = readIref(b, k);
    } else if (k.type === "iprp") {
      const parts = readBoxes(b, k.data, k.end);
      if (!parts.ok) return null;
      for (const p of parts.value) {
        if (p.type === "ipco") {
          const props = readBoxes(b, p.data, p.end);
          if (!props.ok) return null;
          index.props = props.value;
        } else if (p.type === "ipma") {
          readIpma(b, p, index.assoc);
        }
      }
    }
  }
  return index;
}

function readIref(b: Uint8Array, box: Box): Reference[] {
  const wide = (b[box.data] ?? 0) !== 0;
  const refs = readBoxes(b, box.data + 4, box.end);
  if (!refs.ok) return [];
  const idSize = wide ? 4 : 2;
  const read = (o: number): number => (wide ? u32be(b, o) : u16be(b, o));
  return refs.value.map((r) => {
    const from = read(r.data);
    const count = u16be(b, r.data + idSize);
    const to: number[] = [];
    for (let i = 0; i < count && r.data + idSize + 2 + (i + 1) * idSize <= r.end; i++) {
      to.push(read(r.data + idSize + 2 + i * idSize));
    }
    return { type: r.type, from, to };
  });
}

function readIpma(b: Uint8Array, box: Box, out: Map<number, number[]>): void {
  const v = b[box.data] ?? 0;
  const wide = ((b[box.data + 3] ?? 0) & 1) === 1;
  let p = box.data + 4;
  const count = u32be(b, p);
  p += 4;
  for (let i = 0; i < count && p < box.end; i++) {
    const id = v < 1 ? u16be(b, p) : u32be(b, p);
    p += v < 1 ? 2 : 4;
    const n = b[p] ?? 0;
    p += 1;
    const indices: number[] = [];
    for (let j = 0; j < n && p < box.end; j++) {
      indices.push(wide ? u16be(b, p) & 0x7fff : (b[p] ?? 0) & 0x7f);
      p += wide ? 2 : 1;
    }
    out.set(id, indices);
  }
}

function propsOf(index: MetaIndex, id: number): Box[] {
  const out: Box[] = [];
  for (const i of index.assoc.get(id) ?? []) {
    const prop = index.props[i - 1];
    if (prop) out.push(prop);
  }
  return out;
}

function readAv1C(b: Uint8Array, box: Box): Av1Config | null {
  if (box.end - box.data < 4 || ((b[box.data] ?? 0) & 0x7f) !== 1) return null;
  const flags = b[box.data + 2] ?? 0;
  const high = (flags & 0x40) !== 0;
  const twelve = (flags & 0x20) !== 0;
  return {
    bitDepth: high ? (twelve ? 12 : 10) : 8,
    monochrome: (flags & 0x10) !== 0,
    subsamplingX: (flags & 0x08) !== 0,
    subsamplingY: (flags & 0x04) !== 0,
  };
}

function readNclx(b: Uint8Array, box: Box): Nclx | null {
  if (box.end - box.data < 11 || ascii(b, box.data, 4) !== "nclx") return null;
  return { matrix: u16be(b, box.data + 8), fullRange: ((b[box.data + 10] ?? 0) & 0x80) !== 0 };
}

/** The item's bytes: its extents concatenated (in the file, or in `idat` for method 1). */
function itemData(b: Uint8Array, layout: IsoLayout, loc: IlocItem): Uint8Array | null {
  if (loc.method > 1 || (loc.method === 1 && layout.idat < 0)) return null;
  const base = loc.method === 1 ? layout.idat : 0;
  const parts: Uint8Array[] = [];
  let total = 0;
  for (const e of loc.extents) {
    const start = base + e.offset;
    const end = e.length === 0 && loc.method === 0 ? b.length : start + e.length;
    if (start < 0 || end > b.length || end <= start) return null;
    parts.push(b.subarray(start, end));
    total += end - start;
  }
  if (parts.length === 1) return parts[0] ?? null;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Finds the bitstreams the project's dav1d build handles: a still whose primary item is one
 * AV1 image (8, 10 or 12-bit; no grid, no layers, no premultiplied alpha), with a CICP matrix
 * the shim knows. Any other AVIF (grids, sequences, ...) is `unsupported_format` here and goes
 * to the libavif decoder instead; a broken one is `corrupt_image`.
 */
export function findAvifItems(b: Uint8Array, layout: IsoLayout): Parse<AvifItems> {
  const unsupported = (why: string): Parse<AvifItems> => fail("unsupported_format", why);
  if (layout.frames > 1) return unsupported("AVIF image sequence");
  const index = readMeta(b, layout);
  if (!index || index.primary < 0) return unsupported("AVIF without a primary item");
  const type = layout.items.find((i) => i.id === index.primary)?.type;
  if (type !== "av01") return unsupported(`AVIF primary item is ${type ?? "missing"}`);
  const props = propsOf(index, index.primary);
  // Layered (progressive) items and operating-point selection: dav1d would hand out the first
  // layer, libavif picks the right one.
  const layered = props.find((p) => p.type === "a1lx" || p.type === "lsel" || p.type === "a1op");
  if (layered) return unsupported(`AVIF with ${layered.type} (layered image)`);
  const av1C = props.find((p) => p.type === "av1C");
  const config = av1C ? readAv1C(b, av1C) : null;
  if (!config) return unsupported("AVIF primary item has no av1C");
  let nclx: Nclx | null = null;
  for (const p of props) if (p.type === "colr") nclx = readNclx(b, p) ?? nclx;
  if (nclx && !MATRICES.has(nclx.matrix)) return unsupported(`AVIF matrix ${nclx.matrix}`);
  const loc = layout.iloc.find((l) => l.id === index.primary);
  const color = loc ? itemData(b, layout, loc) : null;
  if (!color) return fail("corrupt_image", "AVIF primary item data is missing or truncated");

  let alpha: Uint8Array | null = null;
  let alphaBitDepth = 8;
  for (const ref of index.refs) {
    if (ref.type !== "auxl" || !ref.to.includes(index.primary)) continue;
    const aux = propsOf(index, ref.from).find((p) => p.type === "auxC");
    const urn = aux ? ascii(b, aux.data + 4, Math.min(64, aux.end - aux.data - 4)) : "";
    if (!ALPHA_URNS.includes(urn.split("\0")[0] ?? "")) continue;
    const alphaType = layout.items.find((i) => i.id === ref.from)?.type;
    if (alphaType !== "av01") return unsupported(`AVIF alpha item is ${alphaType ?? "missing"}`);
    const alphaLoc = layout.iloc.find((l) => l.id === ref.from);
    alpha = alphaLoc ? itemData(b, layout, alphaLoc) : null;
    if (!alpha) return fail("corrupt_image", "AVIF alpha item data is missing or truncated");
    const alphaAv1C = propsOf(index, ref.from).find((p) => p.type === "av1C");
    alphaBitDepth = (alphaAv1C && readAv1C(b, alphaAv1C)?.bitDepth) || config.bitDepth;
    if (index.refs.some((r) => r.type === "prem" && r.from === index.primary)) {
      return unsupported("AVIF with premultiplied alpha");
    }
    break;
  }
  return ok({ color, alpha, alphaBitDepth, nclx, config });
}

/** Bytes a pixel dav1d's planes take for these items (see HeaderProbe.avifPlaneBytes). */
export function avifPlaneBytes(items: AvifItems): number {
  const c = items.config;
  const chroma = c.monochrome ? 0 : 2 / ((c.subsamplingX ? 2 : 1) * (c.subsamplingY ? 2 : 1));
  const sampleBytes = (depth: number): number => (depth > 8 ? 2 : 1);
  return (
    (1 + chroma) * sampleBytes(c.bitDepth) + (items.alpha ? sampleBytes(items.alphaBitDepth) : 0)
  );
}
