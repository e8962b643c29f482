/**
 * Builders for ICC profiles and JPEG APP2 segments, so tests can make any matrix/TRC profile
 * (Adobe RGB, hostile variants) and embed it without committing files. Runtime-neutral (no
 * Node APIs): the processor tests use the splice too.
 */

function u32(v: number): number[] {
  return [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
}

function s15f16(v: number): number[] {
  return u32(Math.round(v * 65536) >>> 0);
}

function sig(s: string): number[] {
  return [...s].map((c) => c.charCodeAt(0));
}

/** An `XYZ ` tag. */
export function xyzTag(x: number, y: number, z: number): Uint8Array {
  return new Uint8Array([...sig("XYZ "), 0, 0, 0, 0, ...s15f16(x), ...s15f16(y), ...s15f16(z)]);
}

/** A `curv` tag: [] is identity, [g] a u8Fixed8 gamma, more a table of 0..1 values. */
export function curvTag(values: readonly number[], gamma?: number): Uint8Array {
  const body =
    gamma !== undefined
      ? [(Math.round(gamma * 256) >> 8) & 255, Math.round(gamma * 256) & 255]
      : values.flatMap((v) => {
          const q = Math.round(Math.min(1, Math.max(0, v)) * 65535);
          return [q >> 8, q & 255];
        });
  const n = gamma !== undefined ? 1 : values.length;
  return new Uint8Array([...sig("curv"), 0, 0, 0, 0, ...u32(n), ...body]);
}

/** A `para` tag of function type `fn` with its s15Fixed16 parameters. */
export function paraTag(fn: number, params: readonly number[]): Uint8Array {
  return new Uint8Array([
    ...sig("para"),
    0,
    0,
    0,
    0,
    fn >> 8,
    fn & 255,
    0,
    0,
    ...params.flatMap(s15f16),
  ]);
}

/** A v2 `desc` tag (ASCII part, empty Unicode and ScriptCode parts). */
export function descTag(text: string): Uint8Array {
  return new Uint8Array([
    ...sig("desc"),
    0,
    0,
    0,
    0,
    ...u32(text.length + 1),
    ...sig(text),
    0,
    ...u32(0),
    ...u32(0),
    0,
    0,
    0,
    ...new Array<number>(67).fill(0),
  ]);
}

/** Options for buildIcc: header fields and the tags, in table order. */
export interface IccSpec {
  deviceClass?: string;
  colourSpace?: string;
  pcs?: string;
  tags: readonly (readonly [string, Uint8Array])[];
}

/** A complete profile: 128-byte header, tag table, 4-byte aligned tag data. */
export function buildIcc(spec: IccSpec): Uint8Array {
  const tableEnd = 128 + 4 + 12 * spec.tags.length;
  const offsets: number[] = [];
  let at = tableEnd;
  for (const [, data] of spec.tags) {
    offsets.push(at);
    at += (data.length + 3) & ~3;
  }
  const out = new Uint8Array(at);
  out.set(u32(at), 0);
  out.set(sig("none"), 4);
  out.set([2, 0x10, 0, 0], 8);
  out.set(sig(spec.deviceClass ?? "mntr"), 12);
  out.set(sig(spec.colourSpace ?? "RGB "), 16);
  out.set(sig(spec.pcs ?? "XYZ "), 20);
  out.set([0x07, 0xe6, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0], 24);
  out.set(sig("acsp"), 36);
  // Rendering intent 0; PCS illuminant D50.
  out.set([...s15f16(0.9642), ...s15f16(1), ...s15f16(0.8249)], 68);
  out.set(u32(spec.tags.length), 128);
  spec.tags.forEach(([name, data], i) => {
    const row = 132 + 12 * i;
    out.set(sig(name), row);
    out.set(u32(offsets[i] ?? 0), row + 4);
    out.set(u32(data.length), row + 8);
    out.set(data, offsets[i] ?? 0);
  });
  return out;
}

/** A matrix/TRC RGB profile with colorants (D50) and one TRC tag for all three channels. */
export function matrixProfile(
  description: string,
  colorants: readonly [readonly number[], readonly number[], readonly number[]],
  trc: Uint8Array,
): Uint8Array {
  const [r, g, b] = colorants;
  const xyz = (c: readonly number[]): Uint8Array => xyzTag(c[0] ?? 0, c[1] ?? 0, c[2] ?? 0);
  return buildIcc({
    tags: [
      ["desc", descTag(description)],
      ["wtpt", xyzTag(0.9642, 1, 0.8249)],
      ["rXYZ", xyz(r)],
      ["gXYZ", xyz(g)],
      ["bXYZ", xyz(b)],
      ["rTRC", trc],
      ["gTRC", trc],
      ["bTRC", trc],
    ],
  });
}

/** Adobe RGB (1998) colorants as its profile stores them (D50). */
export const ADOBE_RGB_D50 = [
  [0.6097412, 0.3111115, 0.0194702],
  [0.2052765, 0.6256714, 0.0608673],
  [0.1491852, 0.0632172, 0.7445679],
] as const;

/** Adobe RGB (1998): those colorants and gamma 563/256. */
export function adobeRgbProfile(): Uint8Array {
  return matrixProfile("Adobe RGB (1998) test", ADOBE_RGB_D50, curvTag([], 563 / 256));
}

/**
 * The JPEG with `icc` inserted after SOI as APP2 `ICC_PROFILE` segments of at most `chunk`
 * bytes each, written in the order `order` gives (1-based sequence numbers; default ascending).
 */
export function spliceIcc(
  jpeg: Uint8Array,
  icc: Uint8Array,
  chunk = 65519,
  order?: readonly number[],
): Uint8Array {
  const count = Math.ceil(icc.length / chunk);
  const segments: number[][] = [];
  for (const seq of order ?? Array.from({ length: count }, (_, i) => i + 1)) {
    const part = icc.subarray((seq - 1) * chunk, seq * chunk);
    const len = 2 + 12 + 2 + part.length;
    segments.push([0xff, 0xe2, len >> 8, len & 255, ...sig("ICC_PROFILE"), 0, seq, count, ...part]);
  }
  const head = segments.flat();
  const out = new Uint8Array(jpeg.length + head.length);
  out.set(jpeg.subarray(0, 2), 0);
  out.set(head, 2);
  out.set(jpeg.subarray(2), 2 + head.length);
  return out;
}

/** CIE Lab (D65) of an 8-bit sRGB colour. */
export function srgbToLab(r: number, g: number, b: number): [number, number, number] {
  const lin = (v: number): number => {
    const c = v / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  const [R, G, B] = [lin(r), lin(g), lin(b)];
  const X = (0.4124564 * R + 0.3575761 * G + 0.1804375 * B) / 0.95047;
  const Y = 0.2126729 * R + 0.7151522 * G + 0.072175 * B;
  const Z = (0.0193339 * R + 0.119192 * G + 0.9503041 * B) / 1.08883;
  const f = (t: number): number =>
    t > 216 / 24389 ? Math.cbrt(t) : (24389 / 27 / 116) * t + 16 / 116;
  return [116 * f(Y) - 16, 500 * (f(X) - f(Y)), 200 * (f(Y) - f(Z))];
}

/** CIE76 colour difference between two 8-bit sRGB colours. */
export function deltaE76(a: readonly number[], b: readonly number[]): number {
  const [l1, a1, b1] = srgbToLab(a[0] ?? 0, a[1] ?? 0, a[2] ?? 0);
  const [l2, a2, b2] = srgbToLab(b[0] ?? 0, b[1] ?? 0, b[2] ?? 0);
  return Math.hypot(l1 - l2, a1 - a2, b1 - b2);
}
