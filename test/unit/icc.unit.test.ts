import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decideColour, readColourSource } from "../../src/pipeline/colour-source";
import {
  applyColourTransform,
  type ColourTransform,
  decideForIcc,
  decideForNclx,
  parseIcc,
  srgbToLinear,
} from "../../src/pipeline/icc";
import {
  adobeRgbProfile,
  buildIcc,
  curvTag,
  deltaE76,
  descTag,
  matrixProfile,
  paraTag,
  spliceIcc,
  xyzTag,
} from "../helpers/icc-build";

const W = 96;
const H = 64;

/**
 * RGB test card: smooth ramps of every hue at several lightness levels, greys, and fully
 * saturated primaries/secondaries, in 2x2 blocks so JPEG 4:4:4 at q100 keeps them near exact.
 */
function testCard(): Buffer {
  const px = Buffer.alloc(W * H * 3);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const bx = x >> 1;
      const by = y >> 1;
      const hue = (bx / (W / 2)) * 6;
      const level = by / (H / 2 - 1);
      const k = Math.floor(hue);
      const f = hue - k;
      const rgb = [
        [1, f, 0],
        [1 - f, 1, 0],
        [0, 1, f],
        [0, 1 - f, 1],
        [f, 0, 1],
        [1, 0, 1 - f],
      ][k % 6] ?? [0, 0, 0];
      const i = (y * W + x) * 3;
      for (let c = 0; c < 3; c++) {
        // Top half: pure hues darkening; bottom half: hues desaturating to white.
        const v =
          level < 0.5
            ? (rgb[c] ?? 0) * (1 - level)
            : (rgb[c] ?? 0) + (1 - (rgb[c] ?? 0)) * (level - 0.5) * 1.6;
        px[i + c] = Math.round(255 * Math.min(1, v));
      }
    }
  }
  return px;
}

async function plainJpeg(raw: Buffer): Promise<Buffer> {
  return sharp(raw, { raw: { width: W, height: H, channels: 3 } })
    .jpeg({ quality: 100, chromaSubsampling: "4:4:4" })
    .toBuffer();
}

async function builtinProfile(name: "p3" | "srgb" | "cmyk"): Promise<Uint8Array> {
  const j = await sharp({ create: { width: 8, height: 8, channels: 3, background: "#808080" } })
    .withIccProfile(name)
    .jpeg()
    .toBuffer();
  const icc = (await sharp(j).metadata()).icc;
  if (!icc) throw new Error(`sharp wrote no ${name} profile`);
  return new Uint8Array(icc);
}

function transformOf(icc: Uint8Array): ColourTransform {
  const d = decideForIcc(icc);
  if (d.kind !== "convert") throw new Error(`expected a conversion, got ${JSON.stringify(d)}`);
  return d.transform;
}

function rgba(rgb: Uint8Array): Uint8Array {
  const out = new Uint8Array((rgb.length / 3) * 4);
  for (let i = 0, j = 0; i < rgb.length; i += 3, j += 4) {
    out[j] = rgb[i] ?? 0;
    out[j + 1] = rgb[i + 1] ?? 0;
    out[j + 2] = rgb[i + 2] ?? 0;
    out[j + 3] = 255;
  }
  return out;
}

/** Our conversion of `tagged` (a JPEG with a profile) against lcms's, through sharp. */
async function compareWithSharp(
  tagged: Uint8Array,
  plain: Buffer,
): Promise<{ mean: number; max: number; unconverted: number }> {
  const source = await readColourSource(tagged, "jpeg");
  const decision = decideColour(source);
  if (decision.kind !== "convert") throw new Error(`no conversion: ${JSON.stringify(decision)}`);
  // The device values: the same JPEG without the profile, decoded by the same libjpeg.
  const device = await sharp(plain).raw().toBuffer();
  const ours = rgba(new Uint8Array(device));
  applyColourTransform({ width: W, height: H, data: ours }, decision.transform);
  const ref = await sharp(Buffer.from(tagged)).toColourspace("srgb").raw().toBuffer();
  expect(ref.length).toBe(W * H * 3);
  let sum = 0;
  let max = 0;
  let unconverted = 0;
  for (let p = 0; p < W * H; p++) {
    unconverted += deltaE76(
      [device[p * 3] ?? 0, device[p * 3 + 1] ?? 0, device[p * 3 + 2] ?? 0],
      [ref[p * 3] ?? 0, ref[p * 3 + 1] ?? 0, ref[p * 3 + 2] ?? 0],
    );
    const e = deltaE76(
      [ours[p * 4] ?? 0, ours[p * 4 + 1] ?? 0, ours[p * 4 + 2] ?? 0],
      [ref[p * 3] ?? 0, ref[p * 3 + 1] ?? 0, ref[p * 3 + 2] ?? 0],
    );
    sum += e;
    max = Math.max(max, e);
  }
  const out = { mean: sum / (W * H), max, unconverted: unconverted / (W * H) };
  if (process.env.ICC_DEBUG) console.log("deltaE76", out);
  return out;
}

let raw: Buffer;
let plain: Buffer;
let p3: Uint8Array;
const tmp = mkdtempSync(path.join(tmpdir(), "icc-test-"));

beforeAll(async () => {
  raw = testCard();
  plain = await plainJpeg(raw);
  p3 = await builtinProfile("p3");
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("ICC matrix/TRC profiles against lcms (sharp)", () => {
  it("parses sharp's Display P3 profile (v4, para type 3 curves)", () => {
    const prof = parseIcc(p3);
    expect(prof?.version).toBe(4);
    expect(prof?.colourSpace).toBe("RGB ");
    expect(prof?.description.length).toBeGreaterThan(0);
    const m = prof?.matrixShaper;
    if (!m) throw new Error("no matrix/TRC");
    // P3's red colorant (D50): X 0.515, Y 0.241, Z -0.001 or so.
    expect(m.toXyzD50[0]).toBeCloseTo(0.515, 2);
    expect(m.toXyzD50[3]).toBeCloseTo(0.241, 2);
    // Its TRC is the sRGB curve.
    for (const i of [0, 10, 64, 128, 200, 255]) {
      expect(m.trc[0][i]).toBeCloseTo(srgbToLinear(i / 255), 3);
    }
  });

  it("converts a P3 JPEG like lcms does (mean deltaE76 < 1.5, max < 5)", async () => {
    const tagged = spliceIcc(plain, p3);
    const { mean, max, unconverted } = await compareWithSharp(tagged, plain);
    expect(mean).toBeLessThan(1.5);
    expect(max).toBeLessThan(5);
    // Showing the device values as sRGB (what variants did before) is visibly off.
    expect(unconverted).toBeGreaterThan(3);
  });

  it("converts an Adobe RGB (gamma curv) JPEG like lcms does", async () => {
    const adobe = adobeRgbProfile();
    // lcms must accept the constructed profile too, or the comparison would prove nothing.
    writeFileSync(path.join(tmp, "adobe.icc"), adobe);
    const tagged = spliceIcc(plain, adobe);
    expect((await sharp(Buffer.from(tagged)).metadata()).icc?.length).toBe(adobe.length);
    const { mean, max, unconverted } = await compareWithSharp(tagged, plain);
    expect(mean).toBeLessThan(1.5);
    expect(max).toBeLessThan(5);
    expect(unconverted).toBeGreaterThan(3);
  });

  it("maps a saturated P3 red to the clipped sRGB red", () => {
    const px = new Uint8Array([255, 0, 0, 255, 0, 255, 0, 128]);
    applyColourTransform({ width: 2, height: 1, data: px }, transformOf(p3));
    expect([...px]).toEqual([255, 0, 0, 255, 0, 255, 0, 128]);
    // A P3 mid red (outside sRGB's gamut only slightly) stays red and gains saturation.
    const mid = new Uint8Array([200, 60, 60, 255]);
    applyColourTransform({ width: 1, height: 1, data: mid }, transformOf(p3));
    expect(mid[0]).toBeGreaterThan(215);
    expect(mid[1]).toBeLessThan(55);
  });
});

describe("precision of the table-driven loop", () => {
  it("stays within one 8-bit step of the same transform in float", () => {
    const t = transformOf(p3);
    const lin = (v: number): number => srgbToLinear(v / 255);
    const enc = (v: number): number => {
      const c = Math.min(1, Math.max(0, v));
      return 255 * (c <= 0.0031308 ? 12.92 * c : 1.055 * c ** (1 / 2.4) - 0.055);
    };
    let seed = 7;
    const next = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed & 255;
    };
    const n = 20_000;
    const px = new Uint8Array(n * 4);
    for (let i = 0; i < px.length; i++) px[i] = i % 4 === 3 ? 255 : next();
    const src = px.slice();
    applyColourTransform({ width: n, height: 1, data: px }, t);
    const m = t.matrix;
    let worst = 0;
    for (let p = 0; p < n; p++) {
      const rgb = [lin(src[p * 4] ?? 0), lin(src[p * 4 + 1] ?? 0), lin(src[p * 4 + 2] ?? 0)];
      for (let row = 0; row < 3; row++) {
        const v =
          (m[row * 3] ?? 0) * (rgb[0] ?? 0) +
          (m[row * 3 + 1] ?? 0) * (rgb[1] ?? 0) +
          (m[row * 3 + 2] ?? 0) * (rgb[2] ?? 0);
        worst = Math.max(worst, Math.abs(enc(v) - (px[p * 4 + row] ?? 0)));
      }
      expect(px[p * 4 + 3]).toBe(255);
    }
    expect(worst).toBeLessThanOrEqual(1);
  });
});

describe("sRGB detection", () => {
  it("skips sharp's sRGB profile", async () => {
    expect(decideForIcc(await builtinProfile("srgb"))).toEqual({ kind: "srgb" });
  });

  it("skips a v2 sRGB profile with a 1024-entry table TRC", () => {
    const table = Array.from({ length: 1024 }, (_, i) => srgbToLinear(i / 1023));
    const srgb = matrixProfile(
      "sRGB IEC61966-2.1",
      [
        [0.4360657, 0.2224884, 0.013916],
        [0.3851471, 0.7168732, 0.0970764],
        [0.1430664, 0.0606079, 0.7140961],
      ],
      curvTag(table),
    );
    expect(decideForIcc(srgb)).toEqual({ kind: "srgb" });
  });

  it("does not skip sRGB colorants with a plain gamma 2.2 curve", () => {
    const g22 = matrixProfile(
      "gamma 2.2",
      [
        [0.4360657, 0.2224884, 0.013916],
        [0.3851471, 0.7168732, 0.0970764],
        [0.1430664, 0.0606079, 0.7140961],
      ],
      curvTag([], 2.2),
    );
    expect(decideForIcc(g22).kind).toBe("convert");
  });
});

describe("TRC types", () => {
  const colorants = [
    [0.6097412, 0.3111115, 0.0194702],
    [0.2052765, 0.6256714, 0.0608673],
    [0.1491852, 0.0632172, 0.7445679],
  ] as const;
  const trcOf = (tag: Uint8Array): Float32Array => {
    const t = parseIcc(matrixProfile("t", colorants, tag))?.matrixShaper?.trc[0];
    if (!t) throw new Error("no TRC");
    return t;
  };
  const at = (t: Float32Array, i: number): number => t[i] ?? Number.NaN;

  it("curv with 0 entries is the identity, 1 entry a gamma, n entries a table", () => {
    expect(at(trcOf(curvTag([])), 128)).toBeCloseTo(128 / 255, 5);
    expect(at(trcOf(curvTag([], 1.8)), 128)).toBeCloseTo((128 / 255) ** 1.8, 3);
    const t = trcOf(curvTag([0, 0.25, 1]));
    expect(at(t, 0)).toBe(0);
    expect(at(t, 255)).toBe(1);
    // x = 0.25 is halfway along the first segment: 0.125.
    expect(at(t, 64)).toBeCloseTo((64 / 255) * 2 * 0.25, 3);
  });

  it("para types 0..4 follow ICC.1 10.18", () => {
    const x = 100 / 255;
    expect(at(trcOf(paraTag(0, [2.2])), 100)).toBeCloseTo(x ** 2.2, 3);
    expect(at(trcOf(paraTag(1, [2, 1.5, -0.5])), 100)).toBeCloseTo(
      1.5 * x - 0.5 >= 0 ? (1.5 * x - 0.5) ** 2 : 0,
      3,
    );
    expect(at(trcOf(paraTag(1, [2, 1.5, -0.5])), 200)).toBeCloseTo(
      (1.5 * (200 / 255) - 0.5) ** 2,
      3,
    );
    expect(at(trcOf(paraTag(2, [2, 1, 0, 0.1])), 100)).toBeCloseTo(Math.min(1, x ** 2 + 0.1), 3);
    const srgb = [2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045];
    expect(at(trcOf(paraTag(3, srgb)), 100)).toBeCloseTo(srgbToLinear(x), 3);
    expect(at(trcOf(paraTag(3, srgb)), 5)).toBeCloseTo(srgbToLinear(5 / 255), 4);
    expect(at(trcOf(paraTag(4, [...srgb, 0.01, 0.02])), 100)).toBeCloseTo(
      Math.min(1, srgbToLinear(x) + 0.01),
      3,
    );
    expect(at(trcOf(paraTag(4, [...srgb, 0.01, 0.02])), 5)).toBeCloseTo(5 / 255 / 12.92 + 0.02, 4);
  });
});

describe("profiles left alone", () => {
  it("a CMYK profile (LUT-based) is unmanaged", async () => {
    const d = decideForIcc(await builtinProfile("cmyk"));
    expect(d.kind).toBe("unmanaged");
  });

  it("a gray profile is unmanaged", () => {
    const gray = buildIcc({
      colourSpace: "GRAY",
      tags: [
        ["desc", descTag("gray")],
        ["kTRC", curvTag([], 2.2)],
      ],
    });
    expect(parseIcc(gray)?.matrixShaper).toBeNull();
    expect(decideForIcc(gray).kind).toBe("unmanaged");
  });

  it("an RGB profile with only an A2B0 LUT is unmanaged", () => {
    const lutOnly = buildIcc({
      tags: [
        ["desc", descTag("lut")],
        ["A2B0", new Uint8Array([0x6d, 0x66, 0x74, 0x32, 0, 0, 0, 0])],
      ],
    });
    expect(decideForIcc(lutOnly).kind).toBe("unmanaged");
  });
});

describe("hostile profiles", () => {
  const good = (): Uint8Array => adobeRgbProfile();
  const put32 = (b: Uint8Array, o: number, v: number): void => {
    new DataView(b.buffer, b.byteOffset).setUint32(o, v >>> 0);
  };

  it("accepts the untouched profile (so the cases below test what they claim)", () => {
    expect(parseIcc(good())?.matrixShaper).not.toBeNull();
  });

  it("truncated profiles return null", () => {
    const p = good();
    for (const n of [0, 10, 127, 131, 140, p.length - 1]) {
      expect(parseIcc(p.subarray(0, n)), `length ${n}`).toBeNull();
    }
  });

  it("a declared size past the buffer returns null", () => {
    const p = good();
    put32(p, 0, p.length + 1);
    expect(parseIcc(p)).toBeNull();
  });

  it("tag offsets or sizes out of range return null", () => {
    const p1 = good();
    put32(p1, 132 + 12 * 2 + 4, p1.length - 4); // rXYZ offset near the end
    expect(parseIcc(p1)).toBeNull();
    const p2 = good();
    put32(p2, 132 + 12 * 2 + 8, 0xffffffff); // rXYZ size
    expect(parseIcc(p2)).toBeNull();
    const p3 = good();
    put32(p3, 132 + 4, 0xfffffff0); // desc offset wraps if added as u32
    expect(parseIcc(p3)).toBeNull();
  });

  it("huge tag counts return null", () => {
    for (const n of [0xffffffff, 0x10000, 1025]) {
      const p = good();
      put32(p, 128, n);
      expect(parseIcc(p), `count ${n}`).toBeNull();
    }
  });

  it("a curv count past its tag, a para of unknown type, a NaN curve: no matrix/TRC", () => {
    const colorants = [
      [0.6, 0.3, 0.02],
      [0.2, 0.6, 0.06],
      [0.15, 0.06, 0.74],
    ] as const;
    const longCurv = curvTag([0, 1]);
    put32(longCurv, 8, 0x7fffffff);
    for (const trc of [
      longCurv,
      paraTag(5, [1, 1, 1, 1, 1, 1, 1, 1]),
      paraTag(3, [2.2, 1, 0, 1]),
    ]) {
      const d = decideForIcc(matrixProfile("bad", colorants, trc));
      // para 3 with too few parameters is truncated; any of these must not convert.
      expect(d.kind).toBe("unmanaged");
    }
  });

  it("random corruption never throws", () => {
    const base = good();
    let seed = 12345;
    const rand = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    for (let k = 0; k < 3000; k++) {
      const p = base.slice();
      for (let j = 0; j < 1 + (k % 8); j++) p[rand() % p.length] = rand() & 255;
      const d = decideForIcc(p);
      if (d.kind === "convert") {
        const img = { width: 2, height: 1, data: new Uint8Array([0, 128, 255, 255, 255, 0, 7, 0]) };
        applyColourTransform(img, d.transform);
        for (const v of img.data) expect(Number.isInteger(v)).toBe(true);
      }
    }
  });

  it("a missing acsp signature returns null", () => {
    const p = good();
    p[36] = 0;
    expect(parseIcc(p)).toBeNull();
  });

  it("a tag table pointing into the header returns null", () => {
    const p = good();
    put32(p, 132 + 4, 16);
    expect(parseIcc(p)).toBeNull();
  });

  it("xyzTag helper writes signed values", () => {
    expect(xyzTag(-0.5, 0, 0)[8]).toBe(0xff);
  });
});

describe("nclx", () => {
  it("P3 primaries with the sRGB transfer convert; the matrix is the known P3 -> sRGB one", () => {
    const d = decideForNclx({ primaries: 12, transfer: 13, matrix: 6, fullRange: true });
    if (d.kind !== "convert") throw new Error(d.kind);
    const m = d.transform.matrix;
    const known = [1.2249, -0.2247, 0, -0.042, 1.0419, 0, -0.0197, -0.0786, 1.0979];
    for (const [i, v] of known.entries()) expect(m[i]).toBeCloseTo(v, 3);
  });

  it("BT.2020 primaries with the BT.709 transfer convert", () => {
    const d = decideForNclx({ primaries: 9, transfer: 1, matrix: 9, fullRange: false });
    expect(d.kind).toBe("convert");
    if (d.kind !== "convert") return;
    // BT.709 transfer: code 128 is linear ((0.502 + 0.099) / 1.099) ^ (1 / 0.45) = 0.26.
    expect(d.transform.decode[0][128]).toBeCloseTo(((128 / 255 + 0.099) / 1.099) ** (1 / 0.45), 4);
  });

  it("sRGB / BT.709 primaries and unspecified ones are left alone", () => {
    expect(decideForNclx({ primaries: 1, transfer: 13, matrix: 6, fullRange: true }).kind).toBe(
      "srgb",
    );
    expect(decideForNclx({ primaries: 2, transfer: 2, matrix: 2, fullRange: true }).kind).toBe(
      "srgb",
    );
  });

  it("HDR transfers (PQ, HLG) and unknown primaries are unmanaged", () => {
    expect(decideForNclx({ primaries: 9, transfer: 16, matrix: 9, fullRange: false }).kind).toBe(
      "unmanaged",
    );
    expect(decideForNclx({ primaries: 9, transfer: 18, matrix: 9, fullRange: false }).kind).toBe(
      "unmanaged",
    );
    expect(decideForNclx({ primaries: 22, transfer: 13, matrix: 6, fullRange: true }).kind).toBe(
      "unmanaged",
    );
  });
});
