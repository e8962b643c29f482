import { deflateSync } from "node:zlib";
import sharp from "sharp";
import { beforeAll, describe, expect, it } from "vitest";
import { decideColour, describeColour, readColourSource } from "../../src/pipeline/colour-source";
import { parseIcc } from "../../src/pipeline/icc";
import { probeHeader } from "../../src/pipeline/probe";
import type { ImageFormat } from "../../src/pipeline/types";
import { spliceIcc } from "../helpers/icc-build";
import { png, pngChunk } from "./builders";
import { fixture, manifest } from "./fixtures";

let p3: Uint8Array;
const red = () =>
  sharp({ create: { width: 16, height: 16, channels: 3, background: "#ff0000" } }).withIccProfile(
    "p3",
  );

beforeAll(async () => {
  const icc = (await sharp(await red().jpeg().toBuffer()).metadata()).icc;
  if (!icc) throw new Error("no profile");
  p3 = new Uint8Array(icc);
});

async function iccOf(bytes: Uint8Array, format: ImageFormat): Promise<Uint8Array | null> {
  const s = await readColourSource(bytes, format);
  return s?.kind === "icc" ? s.bytes : null;
}

describe("JPEG APP2 ICC_PROFILE", () => {
  let plain: Uint8Array;
  beforeAll(async () => {
    plain = new Uint8Array(
      await sharp({ create: { width: 16, height: 16, channels: 3, background: "#808080" } })
        .jpeg()
        .toBuffer(),
    );
  });

  it("joins a multi-segment profile in sequence order, whatever the file order", async () => {
    for (const order of [undefined, [3, 1, 2], [2, 3, 1]]) {
      const j = spliceIcc(plain, p3, 200, order);
      expect(probeHeader(j).ok).toBe(true);
      expect(await iccOf(j, "jpeg")).toEqual(p3);
    }
  });

  it("a missing or repeated chunk drops the profile (as libjpeg does)", async () => {
    expect(await iccOf(spliceIcc(plain, p3, 200, [1, 3]), "jpeg")).toBeNull();
    expect(await iccOf(spliceIcc(plain, p3, 200, [1, 2, 2, 3]), "jpeg")).toBeNull();
  });

  it("reads the P3 fixture's profile and decides to convert it", async () => {
    const src = await readColourSource(fixture("jpeg/full-metadata.jpg"), "jpeg");
    expect(src?.kind).toBe("icc");
    expect(describeColour(decideColour(src))).toMatch(/^converted:/);
  });

  it("a JPEG without a profile is sRGB", async () => {
    expect(await readColourSource(plain, "jpeg")).toBeNull();
    expect(describeColour(decideColour(null))).toBe("srgb");
  });
});

describe("PNG iCCP", () => {
  const iccp = (keyword: string, z: Uint8Array): Uint8Array =>
    pngChunk("iCCP", new Uint8Array([...new TextEncoder().encode(keyword), 0, 0, ...z]));

  it("inflates sharp's iCCP", async () => {
    const file = new Uint8Array(await red().png().toBuffer());
    expect(await iccOf(file, "png")).toEqual(p3);
  });

  it("inflates a hand-made iCCP", async () => {
    expect(await iccOf(png(4, 4, iccp("ICC profile", deflateSync(p3))), "png")).toEqual(p3);
  });

  it("broken zlib, a missing keyword and a decompression bomb give no profile", async () => {
    const z = deflateSync(p3);
    expect(await iccOf(png(4, 4, iccp("x", z.subarray(0, z.length - 20))), "png")).toBeNull();
    expect(await iccOf(png(4, 4, iccp("", z)), "png")).toBeNull();
    const bomb = deflateSync(new Uint8Array(5 * 2 ** 20));
    expect(bomb.length).toBeLessThan(10_000);
    expect(await iccOf(png(4, 4, iccp("x", bomb)), "png")).toBeNull();
  });
});

describe("WebP ICCP", () => {
  it("reads sharp's ICCP chunk", async () => {
    const file = new Uint8Array(await red().webp().toBuffer());
    expect(await iccOf(file, "webp")).toEqual(p3);
  });

  it("a simple (VP8) WebP has none", async () => {
    expect(await readColourSource(fixture("webp/lossy.webp"), "webp")).toBeNull();
  });
});

// --- AVIF / HEIC ------------------------------------------------------------------------------

function box(type: string, ...payload: (Uint8Array | number[])[]): Uint8Array {
  const body = payload.flatMap((p) => [...p]);
  const size = 8 + body.length;
  return new Uint8Array([
    size >>> 24,
    (size >> 16) & 255,
    (size >> 8) & 255,
    size & 255,
    ...[...type].map((c) => c.charCodeAt(0)),
    ...body,
  ]);
}

const full = (v = 0): number[] => [v, 0, 0, 0];
const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));

function nclx(primaries: number, transfer: number, matrix: number): Uint8Array {
  return box("colr", ascii("nclx"), [0, primaries, 0, transfer, 0, matrix, 0x80]);
}

/**
 * A minimal HEIC header: ftyp, meta (hdlr, pitm 1, iinf with one hvc1 item, iprp with the given
 * properties after ispe) and an ipma that gives item 1 the properties listed in `assoc`.
 */
function heif(props: Uint8Array[], assoc: number[]): Uint8Array {
  const ftyp = box("ftyp", ascii("heic"), [0, 0, 0, 0], ascii("mif1heic"));
  const hdlr = box("hdlr", full(), [0, 0, 0, 0], ascii("pict"), new Array<number>(13).fill(0));
  const pitm = box("pitm", full(), [0, 1]);
  const infe = box("infe", full(2), [0, 1, 0, 0], ascii("hvc1"), [0]);
  const iinf = box("iinf", full(), [0, 1], infe);
  const ispe = box("ispe", full(), [0, 0, 0, 64, 0, 0, 0, 48]);
  const ipco = box("ipco", ispe, ...props);
  const ipma = box("ipma", full(), [0, 0, 0, 1], [0, 1, assoc.length + 1, 0x81, ...assoc]);
  const iprp = box("iprp", ipco, ipma);
  const meta = box("meta", full(), hdlr, pitm, iinf, iprp);
  const mdat = box("mdat", [0, 0, 0, 0]);
  const out = new Uint8Array(ftyp.length + meta.length + mdat.length);
  out.set(ftyp, 0);
  out.set(meta, ftyp.length);
  out.set(mdat, ftyp.length + meta.length);
  return out;
}

describe("AVIF/HEIC colr", () => {
  it("reads sharp's AVIF rICC profile", async () => {
    const file = new Uint8Array(await red().avif().toBuffer());
    expect(await iccOf(file, "avif")).toEqual(p3);
  });

  it("reads the fixtures' nclx (BT.709 primaries, sRGB transfer) and leaves them alone", async () => {
    const src = await readColourSource(fixture("avif/alpha.avif"), "avif");
    expect(src).toEqual({
      kind: "nclx",
      nclx: { primaries: 1, transfer: 13, matrix: 6, fullRange: true },
    });
    expect(decideColour(src).kind).toBe("srgb");
  });

  it("crafted HEIC: nclx P3 converts, BT.2020 + BT.709 converts, PQ is unmanaged", async () => {
    const cases: [Uint8Array, string][] = [
      [nclx(12, 13, 6), "converted:nclx Display P3"],
      [nclx(9, 1, 9), "converted:nclx BT.2020"],
      [nclx(9, 16, 9), "unmanaged:nclx primaries 9 transfer 16"],
    ];
    for (const [colr, want] of cases) {
      const file = heif([colr], [0x82]);
      expect(probeHeader(file).ok).toBe(true);
      expect(describeColour(decideColour(await readColourSource(file, "heic")))).toBe(want);
    }
  });

  it("an ICC colr wins over nclx, in either order", async () => {
    const prof = box("colr", ascii("prof"), p3);
    for (const props of [
      [nclx(1, 13, 6), prof],
      [prof, nclx(1, 13, 6)],
    ]) {
      const file = heif(props, [0x82, 0x83]);
      expect(await iccOf(file, "heic")).toEqual(p3);
    }
  });

  it("falls back to an unassociated colr, and ignores a truncated nclx", async () => {
    expect(await iccOf(heif([box("colr", ascii("prof"), p3)], []), "heic")).toEqual(p3);
    const short = box("colr", ascii("nclx"), [0, 12, 0]);
    expect(await readColourSource(heif([short], [0x82]), "heic")).toBeNull();
  });

  it("a hostile profile inside colr is unmanaged, not a crash", async () => {
    const bad = p3.slice();
    new DataView(bad.buffer).setUint32(128, 0xffffffff);
    expect(parseIcc(bad)).toBeNull();
    const file = heif([box("colr", ascii("prof"), bad)], [0x82]);
    expect(describeColour(decideColour(await readColourSource(file, "heic")))).toBe(
      "unmanaged:malformed ICC profile",
    );
  });
});

describe("the whole fixture corpus", () => {
  it("never throws, and only the P3 JPEG converts", async () => {
    const converted: string[] = [];
    for (const row of manifest) {
      if (!row.format) continue;
      const d = decideColour(await readColourSource(fixture(row.file), row.format));
      if (d.kind === "convert") converted.push(row.file);
    }
    expect(converted).toEqual(["jpeg/full-metadata.jpg"]);
  });
});
