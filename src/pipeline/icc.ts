/**
 * Colour management for variants: an embedded ICC profile (RGB matrix/TRC) or a CICP/nclx
 * description (P3, BT.2020 primaries with an SDR transfer) becomes a transform to sRGB, which
 * is what a browser assumes for the variants (they carry no profile). Pure and hostile-safe: a
 * malformed profile parses to null and the pixels stay as decoded, it never throws.
 *
 * Left as decoded ("unmanaged"): LUT-only profiles (A2B0 without colorants and TRCs), CMYK and
 * gray profiles, Lab-PCS profiles, and nclx with HDR transfers (PQ, HLG) or other primaries.
 */
import type { RgbaImage } from "./codec-glue";

/** Row-major 3x3 matrix. */
export type Mat3 = readonly [
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
];

/** A decoded 8-bit code value (index) to linear light, per channel. */
type DecodeLut = Float32Array;

/** What an ICC profile says, as far as variants need it. */
export interface IccProfile {
  /** Major version (2 or 4). */
  version: number;
  deviceClass: string;
  colourSpace: string;
  pcs: string;
  /** The `desc` tag's text (first mluc record), at most 64 printable characters; "" if none. */
  description: string;
  /**
   * RGB matrix/TRC: colorants (linear RGB -> PCS XYZ D50, colorants as columns) and each
   * channel's TRC sampled at the 256 8-bit code values. Null for every other kind of profile.
   */
  matrixShaper: { toXyzD50: Mat3; trc: readonly [DecodeLut, DecodeLut, DecodeLut] } | null;
}

/** The nclx (CICP) colour description of an AVIF/HEIC item. */
export interface Nclx {
  primaries: number;
  transfer: number;
  matrix: number;
  fullRange: boolean;
}

/** Source linear RGB -> sRGB: per-channel decode, a 3x3 matrix, clamp, sRGB encode. */
export interface ColourTransform {
  /** Human name of the source space, e.g. the profile's description or "nclx P3". */
  description: string;
  decode: readonly [DecodeLut, DecodeLut, DecodeLut];
  /** Source linear RGB -> linear sRGB (row-major). */
  matrix: Mat3;
}

/** ICC profiles larger than this are not matrix/TRC profiles (those are a few KB at most). */
export const MAX_ICC_BYTES = 4 * 2 ** 20;
// A matrix/TRC profile has ~10-20 tags; a thousand is beyond any real profile.
const MAX_TAGS = 1024;
const HEADER = 128;

function u16(b: Uint8Array, o: number): number {
  return ((b[o] ?? 0) << 8) | (b[o + 1] ?? 0);
}

function u32(b: Uint8Array, o: number): number {
  return (
    ((b[o] ?? 0) * 0x1000000 +
      (((b[o + 1] ?? 0) << 16) | ((b[o + 2] ?? 0) << 8) | (b[o + 3] ?? 0))) >>>
    0
  );
}

function s15f16(b: Uint8Array, o: number): number {
  return (u32(b, o) | 0) / 65536;
}

function sig(b: Uint8Array, o: number): string {
  let s = "";
  for (let i = o; i < o + 4; i++) s += String.fromCharCode(b[i] ?? 0);
  return s;
}

interface Tag {
  offset: number;
  size: number;
}

/** Parses an ICC profile's header and tag table; null when anything is out of bounds. */
export function parseIcc(bytes: Uint8Array): IccProfile | null {
  if (bytes.length < HEADER + 4) return null;
  const size = u32(bytes, 0);
  if (size < HEADER + 4 || size > bytes.length || size > MAX_ICC_BYTES) return null;
  const b = bytes.subarray(0, size);
  if (sig(b, 36) !== "acsp") return null;
  const count = u32(b, HEADER);
  if (count > MAX_TAGS || HEADER + 4 + count * 12 > size) return null;
  const tags = new Map<string, Tag>();
  for (let i = 0; i < count; i++) {
    const at = HEADER + 4 + i * 12;
    const offset = u32(b, at + 4);
    const tagSize = u32(b, at + 8);
    if (offset < HEADER || tagSize < 8 || offset + tagSize > size) return null;
    const name = sig(b, at);
    if (!tags.has(name)) tags.set(name, { offset, size: tagSize });
  }
  const profile: IccProfile = {
    version: b[8] ?? 0,
    deviceClass: sig(b, 12),
    colourSpace: sig(b, 16),
    pcs: sig(b, 20),
    description: readDescription(b, tags.get("desc")),
    matrixShaper: null,
  };
  const usable = ["mntr", "scnr", "spac", "prtr"].includes(profile.deviceClass);
  if (usable && profile.colourSpace === "RGB " && profile.pcs === "XYZ ") {
    profile.matrixShaper = readMatrixShaper(b, tags);
  }
  return profile;
}

function readMatrixShaper(b: Uint8Array, tags: Map<string, Tag>): IccProfile["matrixShaper"] {
  const cols: number[][] = [];
  for (const name of ["rXYZ", "gXYZ", "bXYZ"]) {
    const t = tags.get(name);
    if (!t || t.size < 20 || sig(b, t.offset) !== "XYZ ") return null;
    cols.push([s15f16(b, t.offset + 8), s15f16(b, t.offset + 12), s15f16(b, t.offset + 16)]);
  }
  const [r, g, bl] = cols;
  if (!r || !g || !bl) return null;
  const toXyzD50: Mat3 = [
    r[0] ?? 0,
    g[0] ?? 0,
    bl[0] ?? 0,
    r[1] ?? 0,
    g[1] ?? 0,
    bl[1] ?? 0,
    r[2] ?? 0,
    g[2] ?? 0,
    bl[2] ?? 0,
  ];
  const trc: DecodeLut[] = [];
  for (const name of ["rTRC", "gTRC", "bTRC"]) {
    const t = tags.get(name);
    const lut = t ? readCurve(b, t) : null;
    if (!lut) return null;
    trc.push(lut);
  }
  const [tr, tg, tb] = trc;
  if (!tr || !tg || !tb) return null;
  return { toXyzD50, trc: [tr, tg, tb] };
}

const PARA_PARAMS = [1, 3, 4, 5, 7];

/** Samples a `curv` or `para` tag at the 256 8-bit code values; null if malformed. */
function readCurve(b: Uint8Array, t: Tag): DecodeLut | null {
  const type = sig(b, t.offset);
  let f: (x: number) => number;
  if (type === "curv") {
    if (t.size < 12) return null;
    const n = u32(b, t.offset + 8);
    if (12 + n * 2 > t.size) return null;
    const at = t.offset + 12;
    if (n === 0) f = (x) => x;
    else if (n === 1) {
      const gamma = u16(b, at) / 256;
      f = (x) => x ** gamma;
    } else {
      f = (x) => {
        const pos = x * (n - 1);
        const i = Math.min(n - 2, Math.floor(pos));
        const lo = u16(b, at + 2 * i);
        const hi = u16(b, at + 2 * i + 2);
        return (lo + (hi - lo) * (pos - i)) / 65535;
      };
    }
  } else if (type === "para") {
    if (t.size < 12) return null;
    const fn = u16(b, t.offset + 8);
    const want = PARA_PARAMS[fn];
    if (want === undefined || 12 + want * 4 > t.size) return null;
    const p: number[] = [];
    for (let i = 0; i < want; i++) p.push(s15f16(b, t.offset + 12 + 4 * i));
    f = parametric(fn, p);
  } else return null;
  const lut = new Float32Array(256);
  for (let i = 0; i < 256; i++) {
    const v = f(i / 255);
    if (!Number.isFinite(v)) return null;
    lut[i] = Math.min(1, Math.max(0, v));
  }
  return lut;
}

/** The ICC parametric curve of function type 0..4 (ICC.1:2010 10.18). */
function parametric(fn: number, p: readonly number[]): (x: number) => number {
  const [g = 1, a = 1, b = 0, c = 0, d = 0, e = 0, f = 0] = p;
  // A negative base would make the power NaN; the curve is defined as 0 (or c) there.
  const pow = (v: number): number => (v > 0 ? v ** g : 0);
  switch (fn) {
    case 0:
      return (x) => pow(x);
    case 1:
      return (x) => (a * x + b >= 0 ? pow(a * x + b) : 0);
    case 2:
      return (x) => (a * x + b >= 0 ? pow(a * x + b) + c : c);
    case 3:
      return (x) => (x >= d ? pow(a * x + b) : c * x);
    default:
      return (x) => (x >= d ? pow(a * x + b) + e : c * x + f);
  }
}

function readDescription(b: Uint8Array, t: Tag | undefined): string {
  if (!t || t.size < 12) return "";
  const type = sig(b, t.offset);
  const end = t.offset + t.size;
  let text = "";
  if (type === "desc") {
    const n = u32(b, t.offset + 8);
    const from = t.offset + 12;
    for (let i = from; i < Math.min(end, from + n, from + 256); i++) {
      text += String.fromCharCode(b[i] ?? 0);
    }
  } else if (type === "mluc") {
    const records = u32(b, t.offset + 8);
    const recordSize = u32(b, t.offset + 12);
    if (records < 1 || recordSize < 12 || t.offset + 28 > end) return "";
    const len = u32(b, t.offset + 20);
    const from = t.offset + u32(b, t.offset + 24);
    for (let i = from; i + 1 < Math.min(end, from + len, from + 512); i += 2) {
      text += String.fromCharCode(u16(b, i));
    }
  }
  return text
    .replace(/[^\x20-\x7e]/g, "")
    .trim()
    .slice(0, 64);
}

// --- Matrices -------------------------------------------------------------------------------

/** Multiplies two row-major 3x3 matrices. */
export function mul3(a: Mat3, b: Mat3): Mat3 {
  const [a0, a1, a2, a3, a4, a5, a6, a7, a8] = a;
  const [b0, b1, b2, b3, b4, b5, b6, b7, b8] = b;
  return [
    a0 * b0 + a1 * b3 + a2 * b6,
    a0 * b1 + a1 * b4 + a2 * b7,
    a0 * b2 + a1 * b5 + a2 * b8,
    a3 * b0 + a4 * b3 + a5 * b6,
    a3 * b1 + a4 * b4 + a5 * b7,
    a3 * b2 + a4 * b5 + a5 * b8,
    a6 * b0 + a7 * b3 + a8 * b6,
    a6 * b1 + a7 * b4 + a8 * b7,
    a6 * b2 + a7 * b5 + a8 * b8,
  ];
}

/** Inverse of a 3x3 matrix; null when it is (nearly) singular. */
export function invert3(m: Mat3): Mat3 | null {
  const [a, b, c, d, e, f, g, h, i] = m;
  const A = e * i - f * h;
  const B = -(d * i - f * g);
  const C = d * h - e * g;
  const det = a * A + b * B + c * C;
  if (!Number.isFinite(det) || Math.abs(det) < 1e-9) return null;
  return [
    A / det,
    -(b * i - c * h) / det,
    (b * f - c * e) / det,
    B / det,
    (a * i - c * g) / det,
    -(a * f - c * d) / det,
    C / det,
    -(a * h - b * g) / det,
    (a * e - b * d) / det,
  ];
}

/**
 * sRGB's colorants adapted to D50 with Bradford, as every sRGB ICC profile stores them: the
 * profile connection space is D50, so a profile's colorants meet sRGB's in this form.
 */
export const SRGB_TO_XYZ_D50: Mat3 = [
  0.4360747, 0.3850649, 0.1430804, 0.2225045, 0.7168786, 0.0606169, 0.0139322, 0.0971045, 0.7141733,
];
/** Its inverse (computed once, written out so it needs no null check). */
export const XYZ_D50_TO_SRGB: Mat3 = [
  3.1338561, -1.6168667, -0.4906146, -0.9787684, 1.9161415, 0.033454, 0.0719453, -0.2289914,
  1.4052427,
];

type Xy = readonly [number, number];
const D65: Xy = [0.3127, 0.329];

/** Linear RGB -> XYZ for primaries and white given as CIE xy (white has Y = 1). */
export function rgbToXyz(r: Xy, g: Xy, b: Xy, white: Xy): Mat3 | null {
  const col = ([x, y]: Xy): [number, number, number] => [x / y, 1, (1 - x - y) / y];
  const [rx, ry, rz] = col(r);
  const [gx, gy, gz] = col(g);
  const [bx, by, bz] = col(b);
  const p: Mat3 = [rx, gx, bx, ry, gy, by, rz, gz, bz];
  const inv = invert3(p);
  if (!inv) return null;
  const [wx, wy, wz] = col(white);
  const s = [0, 1, 2].map(
    (k) => (inv[k * 3] ?? 0) * wx + (inv[k * 3 + 1] ?? 0) * wy + (inv[k * 3 + 2] ?? 0) * wz,
  );
  const [sr = 0, sg = 0, sb = 0] = s;
  return [rx * sr, gx * sg, bx * sb, ry * sr, gy * sg, by * sb, rz * sr, gz * sg, bz * sb];
}

/** CICP colour primaries (ITU-T H.273) we convert from; all share D65 with sRGB. */
const CICP_PRIMARIES: Record<number, { name: string; rgb: readonly [Xy, Xy, Xy] }> = {
  9: {
    name: "BT.2020",
    rgb: [
      [0.708, 0.292],
      [0.17, 0.797],
      [0.131, 0.046],
    ],
  },
  12: {
    name: "Display P3",
    rgb: [
      [0.68, 0.32],
      [0.265, 0.69],
      [0.15, 0.06],
    ],
  },
};

// --- Transfer functions ---------------------------------------------------------------------

/** sRGB's EOTF (IEC 61966-2-1): encoded 0..1 -> linear 0..1. */
export function srgbToLinear(v: number): number {
  return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
}

/** Inverse of srgbToLinear. */
export function linearToSrgb(v: number): number {
  return v <= 0.0031308 ? v * 12.92 : 1.055 * v ** (1 / 2.4) - 0.055;
}

/** BT.709's OETF inverted (BT.2020 10/12-bit, BT.601 use the same curve). */
function bt709ToLinear(v: number): number {
  return v < 0.081 ? v / 4.5 : ((v + 0.099) / 1.099) ** (1 / 0.45);
}

function lutOf(f: (v: number) => number): DecodeLut {
  const lut = new Float32Array(256);
  for (let i = 0; i < 256; i++) lut[i] = f(i / 255);
  return lut;
}

const SRGB_DECODE = lutOf(srgbToLinear);
// CICP transfer characteristics: 13 is sRGB; 1, 6, 14 and 15 are the BT.709 curve.
const CICP_TRANSFER: Record<number, DecodeLut> = {
  13: SRGB_DECODE,
  1: lutOf(bt709ToLinear),
  6: lutOf(bt709ToLinear),
  14: lutOf(bt709ToLinear),
  15: lutOf(bt709ToLinear),
};

/** Steps of the linear -> sRGB encode table over 0..1; 4096 keeps every result within 1. */
export const ENCODE_STEPS = 4096;
/**
 * The encode table also covers one unit below 0 and above 1 (clamped there), so the matrix
 * output indexes it directly: out-of-gamut values clip without a branch on the common path.
 */
const ENCODE_PAD = ENCODE_STEPS;
let encodeLut: Uint8Array | undefined;

function srgbEncodeLut(): Uint8Array {
  if (encodeLut) return encodeLut;
  const lut = new Uint8Array(ENCODE_STEPS + 2 * ENCODE_PAD);
  for (let i = 0; i < lut.length; i++) {
    const v = Math.min(1, Math.max(0, (i - ENCODE_PAD) / (ENCODE_STEPS - 1)));
    lut[i] = Math.round(255 * linearToSrgb(v));
  }
  encodeLut = lut;
  return lut;
}

// --- Transforms -----------------------------------------------------------------------------

/** What to do with a source's colours. */
export type ColourDecision =
  | { kind: "srgb" }
  | { kind: "unmanaged"; why: string }
  | { kind: "convert"; transform: ColourTransform };

/** The decision for an embedded ICC profile (bytes as extracted from the container). */
export function decideForIcc(bytes: Uint8Array): ColourDecision {
  const profile = parseIcc(bytes);
  if (!profile) return { kind: "unmanaged", why: "malformed ICC profile" };
  const ms = profile.matrixShaper;
  if (!ms) {
    const what = profile.colourSpace.trim() || "unknown";
    return { kind: "unmanaged", why: `ICC ${what} profile without matrix/TRC` };
  }
  const transform: ColourTransform = {
    description: profile.description || "ICC profile",
    decode: ms.trc,
    matrix: mul3(XYZ_D50_TO_SRGB, ms.toXyzD50),
  };
  return isIdentity(transform) ? { kind: "srgb" } : { kind: "convert", transform };
}

/** The decision for an nclx colour description (AVIF/HEIC `colr`). */
export function decideForNclx(nclx: Nclx): ColourDecision {
  // BT.709 primaries are sRGB's, and 2 is "unspecified", which decoders and browsers take as
  // sRGB: left alone whatever the transfer says, as browsers show such files.
  if (nclx.primaries === 1 || nclx.primaries === 2) return { kind: "srgb" };
  const prim = CICP_PRIMARIES[nclx.primaries];
  const decode = nclx.transfer === 2 ? SRGB_DECODE : CICP_TRANSFER[nclx.transfer];
  if (!prim || !decode) {
    return { kind: "unmanaged", why: `nclx primaries ${nclx.primaries} transfer ${nclx.transfer}` };
  }
  const src = rgbToXyz(prim.rgb[0], prim.rgb[1], prim.rgb[2], D65);
  const srgb = rgbToXyz([0.64, 0.33], [0.3, 0.6], [0.15, 0.06], D65);
  const srgbInv = srgb && invert3(srgb);
  if (!src || !srgbInv) return { kind: "unmanaged", why: "nclx primaries are degenerate" };
  const transform: ColourTransform = {
    description: `nclx ${prim.name}`,
    decode: [decode, decode, decode],
    matrix: mul3(srgbInv, src),
  };
  return isIdentity(transform) ? { kind: "srgb" } : { kind: "convert", transform };
}

/**
 * True when the transform moves no colour by more than one 8-bit step: each channel's ramp,
 * the grey ramp and a 6x6x6 grid. Most uploads are sRGB (under many profile names), and for
 * them converting would cost time and change nothing.
 */
export function isIdentity(t: ColourTransform): boolean {
  const probe = new Uint8Array(4 * (256 * 4 + 216));
  let at = 0;
  const put = (r: number, g: number, b: number): void => {
    probe[at++] = r;
    probe[at++] = g;
    probe[at++] = b;
    probe[at++] = 255;
  };
  for (let i = 0; i < 256; i++) {
    put(i, 0, 0);
    put(0, i, 0);
    put(0, 0, i);
    put(i, i, i);
  }
  for (let r = 0; r < 6; r++)
    for (let g = 0; g < 6; g++) for (let b = 0; b < 6; b++) put(r * 51, g * 51, b * 51);
  const before = probe.slice();
  applyColourTransform({ width: probe.length / 4, height: 1, data: probe }, t);
  for (let i = 0; i < probe.length; i++) {
    if (Math.abs((probe[i] ?? 0) - (before[i] ?? 0)) > 1) return false;
  }
  return true;
}

/**
 * Converts the image's RGB to sRGB in place (alpha untouched). The matrix is folded into nine
 * 256-entry integer tables (encode-table index, 8 fractional bits), so a pixel costs 9 lookups,
 * 6 additions, 3 shifts, 3 clamps and 3 encode lookups: ~10 ns, no float maths per pixel.
 */
export function applyColourTransform(img: RgbaImage, t: ColourTransform): void {
  const enc = srgbEncodeLut();
  const last = enc.length - 1;
  const scale = (ENCODE_STEPS - 1) * 256;
  const tables: Int32Array[] = [];
  for (let row = 0; row < 3; row++) {
    for (let ch = 0; ch < 3; ch++) {
      const dec = t.decode[ch] ?? SRGB_DECODE;
      const k = (t.matrix[row * 3 + ch] ?? 0) * scale;
      // The first channel's table carries the pad offset and +0.5 so the shift rounds.
      const bias = ch === 0 ? ENCODE_PAD * 256 + 128 : 0;
      const tab = new Int32Array(256);
      for (let i = 0; i < 256; i++) {
        // Clamped so a hostile matrix cannot overflow the 32-bit sum.
        tab[i] = Math.max(-(2 ** 28), Math.min(2 ** 28, Math.round((dec[i] ?? 0) * k))) + bias;
      }
      tables.push(tab);
    }
  }
  const [rr, rg, rb, gr, gg, gb, br, bg, bb] = tables as [
    Int32Array,
    Int32Array,
    Int32Array,
    Int32Array,
    Int32Array,
    Int32Array,
    Int32Array,
    Int32Array,
    Int32Array,
  ];
  const d = img.data;
  const n = img.width * img.height * 4;
  for (let i = 0; i < n; i += 4) {
    const r = d[i] ?? 0;
    const g = d[i + 1] ?? 0;
    const b = d[i + 2] ?? 0;
    const R = ((rr[r] ?? 0) + (rg[g] ?? 0) + (rb[b] ?? 0)) >> 8;
    const G = ((gr[r] ?? 0) + (gg[g] ?? 0) + (gb[b] ?? 0)) >> 8;
    const B = ((br[r] ?? 0) + (bg[g] ?? 0) + (bb[b] ?? 0)) >> 8;
    d[i] = enc[R < 0 ? 0 : Math.min(R, last)] ?? 0;
    d[i + 1] = enc[G < 0 ? 0 : Math.min(G, last)] ?? 0;
    d[i + 2] = enc[B < 0 ? 0 : Math.min(B, last)] ?? 0;
  }
}
