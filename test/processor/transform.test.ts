import { describe, expect, it } from "vitest";
import { crc32 } from "../../src/pipeline/bytes";
import type { Codecs, RgbaImage } from "../../src/pipeline/codecs";
import { createWorkerdCodecs } from "../../src/pipeline/codecs-workerd";
import { DEFAULT_TRANSFORM_OPTIONS } from "../../src/pipeline/presets";
import { fitInside, transformImage } from "../../src/pipeline/transform";
import type { EncodedVariant, TransformOptions, TransformOutput } from "../../src/pipeline/types";
import { syntheticJpeg } from "../helpers/synthetic-jpeg";

const codecs = createWorkerdCodecs();

// AVIF at 1024 px costs seconds in WASM; most cases only need the cheap thumb AVIF.
const FAST: TransformOptions = { ...DEFAULT_TRANSFORM_OPTIONS, avifPresets: ["thumb"] };

type Rgb = readonly [number, number, number];
const RED: Rgb = [230, 20, 20];
const GREEN: Rgb = [20, 200, 20];
const BLUE: Rgb = [20, 20, 230];
const WHITE: Rgb = [245, 245, 245];

/** Upright quadrant image: red TL, green TR, blue BL, white BR; alpha optional per pixel. */
function quadrantColor(x: number, y: number, w: number, h: number): Rgb {
  const right = x >= w / 2;
  const bottom = y >= h / 2;
  if (!bottom) return right ? GREEN : RED;
  return right ? WHITE : BLUE;
}

/**
 * Stored pixels for EXIF orientation `o`, built from the EXIF table itself (which visual side
 * the 0th row and 0th column are), independent of the code under test.
 */
function storedForOrientation(o: number, uw: number, uh: number): RgbaImage {
  const [row0, col0] = (
    {
      1: ["top", "left"],
      2: ["top", "right"],
      3: ["bottom", "right"],
      4: ["bottom", "left"],
      5: ["left", "top"],
      6: ["right", "top"],
      7: ["right", "bottom"],
      8: ["left", "bottom"],
    } as const
  )[o as 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8];
  const sideways = row0 === "left" || row0 === "right";
  const sw = sideways ? uh : uw;
  const sh = sideways ? uw : uh;
  const data = new Uint8Array(sw * sh * 4);
  for (let r = 0; r < sh; r++) {
    for (let c = 0; c < sw; c++) {
      let X: number;
      let Y: number;
      if (sideways) {
        X = row0 === "left" ? r : uw - 1 - r;
        Y = col0 === "top" ? c : uh - 1 - c;
      } else {
        Y = row0 === "top" ? r : uh - 1 - r;
        X = col0 === "left" ? c : uw - 1 - c;
      }
      const [cr, cg, cb] = quadrantColor(X, Y, uw, uh);
      const i = (r * sw + c) * 4;
      data[i] = cr;
      data[i + 1] = cg;
      data[i + 2] = cb;
      data[i + 3] = 255;
    }
  }
  return { width: sw, height: sh, data };
}

function tiffEntry(tag: number, type: number, count: number, value: number): number[] {
  const v =
    type === 3
      ? [(value >> 8) & 255, value & 255, 0, 0]
      : [value >>> 24, (value >> 16) & 255, (value >> 8) & 255, value & 255];
  return [tag >> 8, tag & 255, type >> 8, type & 255, 0, 0, count >> 8, count & 255, ...v];
}

/** Big-endian EXIF APP1 with Orientation and a GPS IFD holding a latitude ref. */
function exifApp1(orientation: number): Uint8Array {
  // IFD0 at 8: 2 entries (Orientation, GPS pointer) -> 2 + 24 + 4 = 30 bytes; GPS IFD at 38.
  const ifd0 = [
    0,
    2,
    ...tiffEntry(0x0112, 3, 1, orientation),
    ...tiffEntry(0x8825, 4, 1, 38),
    0,
    0,
    0,
    0,
  ];
  const gps = [0, 1, 0, 1, 0, 2, 0, 0, 0, 2, 78, 0, 0, 0, 0, 0, 0, 0];
  const tiff = [0x4d, 0x4d, 0, 42, 0, 0, 0, 8, ...ifd0, ...gps];
  const payload = [0x45, 0x78, 0x69, 0x66, 0, 0, ...tiff];
  const len = payload.length + 2;
  return new Uint8Array([0xff, 0xe1, len >> 8, len & 255, ...payload]);
}

function insertAfterSoi(jpeg: Uint8Array, segment: Uint8Array): Uint8Array {
  const out = new Uint8Array(jpeg.length + segment.length);
  out.set(jpeg.subarray(0, 2), 0);
  out.set(segment, 2);
  out.set(jpeg.subarray(2), 2 + segment.length);
  return out;
}

async function encodeOrThrow(
  c: Codecs,
  img: RgbaImage,
  format: "jpeg" | "png" | "webp",
): Promise<Uint8Array> {
  const r = await c.encode(img, format, { quality: 95 });
  if (!r.ok) throw new Error(r.error.detail);
  return r.value;
}

async function decodeVariant(v: EncodedVariant): Promise<RgbaImage> {
  const fmt = v.format;
  if (fmt !== "jpeg" && fmt !== "png" && fmt !== "webp" && fmt !== "avif") {
    throw new Error(`cannot decode ${fmt}`);
  }
  const r = await codecs.decode(v.bytes, fmt);
  if (!r.ok) throw new Error(r.error.detail);
  return r.value;
}

function pixel(img: RgbaImage, x: number, y: number): [number, number, number, number] {
  const i = (Math.floor(y) * img.width + Math.floor(x)) * 4;
  const d = img.data;
  return [d[i] ?? -1, d[i + 1] ?? -1, d[i + 2] ?? -1, d[i + 3] ?? -1];
}

function expectNear(actual: readonly number[], expected: Rgb, tol = 40): void {
  for (let k = 0; k < 3; k++) {
    expect(
      Math.abs((actual[k] ?? 0) - (expected[k] ?? 0)),
      `${actual} vs ${expected}`,
    ).toBeLessThan(tol);
  }
}

function hasBytes(hay: Uint8Array, needle: readonly number[]): boolean {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

const EXIF_MARK = [0x45, 0x78, 0x69, 0x66, 0, 0];

describe("transformImage (workerd, WASM codecs)", () => {
  it("makes every preset in WebP + JPEG, fitted and never upscaled", async () => {
    const src = storedForOrientation(1, 2400, 1600);
    const input = await encodeOrThrow(codecs, src, "jpeg");
    const r = await transformImage(input, FAST, codecs);
    if (!r.ok) throw new Error(r.error.detail);
    const out = r.value;
    expect([out.width, out.height]).toEqual([2400, 1600]);
    const byName = (n: string) => out.variants.filter((v) => v.name === n);
    for (const preset of FAST.presets) {
      const vs = byName(preset.name);
      const formats = vs.map((v) => v.format).sort();
      expect(formats).toEqual(
        preset.name === "thumb" ? ["avif", "jpeg", "webp"] : ["jpeg", "webp"],
      );
      for (const v of vs) {
        expect(v.width).toBeLessThanOrEqual(preset.maxWidth);
        expect(v.height).toBeLessThanOrEqual(preset.maxHeight);
        expect(v.width).toBeLessThanOrEqual(2400);
        expect(Math.abs(v.width / v.height - 1.5)).toBeLessThan(0.01);
        const decoded = await decodeVariant(v);
        expect([decoded.width, decoded.height]).toEqual([v.width, v.height]);
      }
    }
    expect(byName("large")[0]?.width).toBe(2048);
    expect(byName("medium")[0]?.width).toBe(1024);
    expect(byName("thumb")[0]?.width).toBe(256);
    expect(out.dominantColor).toMatch(/^#[0-9a-f]{6}$/);
    expect(atob(out.placeholder).length).toBeGreaterThan(5);
    expect(out.original?.format).toBe("jpeg");
    expect(out.timings.totalMs).toBeGreaterThan(0);
  });

  it("decodes a JPEG at the smallest DCT scale covering the largest variant (shrink-on-load)", async () => {
    // Stored 2000x3000 with orientation 6 (upright 3000x2000): large = 2048x1365 upright, so
    // the decoder must cover 1365x2048 stored, which 6/8 = 1500x2250 does (5/8 would not).
    const o = 6;
    const input = insertAfterSoi(
      await encodeOrThrow(codecs, storedForOrientation(o, 3000, 2000), "jpeg"),
      exifApp1(o),
    );
    const own = createWorkerdCodecs();
    const direct = await own.decode(input, "jpeg", { minWidth: 1365, minHeight: 2048 });
    if (!direct.ok) throw new Error(direct.error.detail);
    expect([direct.value.width, direct.value.height]).toEqual([1500, 2250]);
    // WASM holds the (progressive: mozjpeg wrote it) coefficient buffer, 2 bytes per 4:2:0
    // sample of the full image, plus the scaled frame as RGB; never a full-size frame.
    const coefficients = 2 * (2000 * 3000 + 2 * 1000 * 1500);
    expect(own.memory.peakBytes).toBeLessThan(coefficients + 1500 * 2250 * 3 + 2 ** 20);

    const r = await transformImage(input, FAST, codecs);
    if (!r.ok) throw new Error(r.error.detail);
    expect([r.value.width, r.value.height]).toEqual([3000, 2000]);
    const large = r.value.variants.find((v) => v.name === "large" && v.format === "jpeg");
    if (!large) throw new Error("no large jpeg");
    expect([large.width, large.height]).toEqual([2048, 1365]);
    const img = await decodeVariant(large);
    expectNear(pixel(img, img.width * 0.1, img.height * 0.1), RED);
    expectNear(pixel(img, img.width * 0.9, img.height * 0.1), GREEN);
    expectNear(pixel(img, img.width * 0.1, img.height * 0.9), BLUE);
    expectNear(pixel(img, img.width * 0.9, img.height * 0.9), WHITE);
  });

  it("never upscales a small image", async () => {
    const input = await encodeOrThrow(codecs, storedForOrientation(1, 300, 200), "png");
    const r = await transformImage(input, FAST, codecs);
    if (!r.ok) throw new Error(r.error.detail);
    for (const v of r.value.variants) {
      expect(v.width).toBeLessThanOrEqual(300);
      if (v.name !== "thumb") expect([v.width, v.height]).toEqual([300, 200]);
    }
  });

  for (const o of [1, 2, 3, 4, 5, 6, 7, 8]) {
    it(`EXIF orientation ${o} comes out upright`, async () => {
      const stored = storedForOrientation(o, 600, 400);
      const input = insertAfterSoi(await encodeOrThrow(codecs, stored, "jpeg"), exifApp1(o));
      const r = await transformImage(input, FAST, codecs);
      if (!r.ok) throw new Error(r.error.detail);
      expect(r.value.probe.orientation).toBe(o);
      expect([r.value.width, r.value.height]).toEqual([600, 400]);
      for (const v of r.value.variants.filter((x) => x.format !== "avif")) {
        const img = await decodeVariant(v);
        expect(img.width).toBeGreaterThan(img.height);
        const w = img.width;
        const h = img.height;
        expectNear(pixel(img, w * 0.1, h * 0.1), RED);
        expectNear(pixel(img, w * 0.9, h * 0.1), GREEN);
        expectNear(pixel(img, w * 0.1, h * 0.9), BLUE);
        expectNear(pixel(img, w * 0.9, h * 0.9), WHITE);
      }
    });
  }

  it("keeps alpha in WebP and PNG and never emits JPEG for an alpha source", async () => {
    const w = 640;
    const h = 480;
    const data = new Uint8Array(w * h * 4);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const i = (y * w + x) * 4;
        data[i] = 200;
        data[i + 1] = 40;
        data[i + 2] = 40;
        // Left half fully transparent, right half opaque.
        data[i + 3] = x < w / 2 ? 0 : 255;
      }
    }
    const input = await encodeOrThrow(codecs, { width: w, height: h, data }, "png");
    const r = await transformImage(input, FAST, codecs);
    if (!r.ok) throw new Error(r.error.detail);
    expect(r.value.variants.some((v) => v.format === "jpeg")).toBe(false);
    const lossless = r.value.variants.filter((v) => v.format === "png" || v.format === "webp");
    expect(lossless.length).toBe(6);
    for (const v of lossless) {
      const img = await decodeVariant(v);
      expect(pixel(img, img.width * 0.1, img.height / 2)[3]).toBe(0);
      const opaque = pixel(img, img.width * 0.9, img.height / 2);
      expect(opaque[3]).toBe(255);
      // Colour near the edge must not be darkened by the transparent (black) neighbours.
      expect(pixel(img, img.width / 2 + 2, img.height / 2)[0]).toBeGreaterThan(150);
    }
  });

  it("emits no EXIF (and so no GPS) in any variant", async () => {
    const input = insertAfterSoi(
      await encodeOrThrow(codecs, storedForOrientation(1, 800, 600), "jpeg"),
      exifApp1(1),
    );
    expect(hasBytes(input, EXIF_MARK)).toBe(true);
    const r = await transformImage(input, FAST, codecs);
    if (!r.ok) throw new Error(r.error.detail);
    for (const v of r.value.variants) expect(hasBytes(v.bytes, EXIF_MARK)).toBe(false);
    // The stripped original may keep a minimal EXIF (orientation) but never the GPS IFD.
    const original = r.value.original;
    if (!original) throw new Error("no original rendition");
    expect(hasBytes(original.bytes, [0x88, 0x25])).toBe(false);
  });

  it("rejects too_many_pixels from the header without instantiating a decoder", async () => {
    const small = await encodeOrThrow(codecs, storedForOrientation(1, 64, 48), "jpeg");
    const huge = withJpegDims(small, 30000, 30000);
    const own = createWorkerdCodecs();
    const r = await transformImage(huge, DEFAULT_TRANSFORM_OPTIONS, own);
    expect(r.ok ? "ok" : r.error.code).toBe("too_many_pixels");
    expect(own.memory.peakBytes).toBe(0);
  });

  it("refuses a progressive JPEG by its coefficient memory even under the pixel limit", async () => {
    // mozjpeg writes progressive 4:2:0: at 8000x6000 libjpeg would keep 144 MB of coefficients
    // (2 bytes x 1.5 samples a pixel), whatever the DCT scale of the output.
    const small = await encodeOrThrow(codecs, storedForOrientation(1, 64, 48), "jpeg");
    const big = withJpegDims(small, 8000, 6000);
    const own = createWorkerdCodecs();
    const r = await transformImage(big, { ...FAST, maxPixels: 50_000_000 }, own);
    expect(r.ok ? "ok" : r.error.code).toBe("too_many_pixels");
    expect(r.ok ? "" : r.error.detail).toMatch(/progressive JPEG keeps every DCT coefficient/);
    expect(own.memory.peakBytes).toBe(0);
  });

  it("survives a failed decode and processes the next image in the same isolate", async () => {
    const small = await encodeOrThrow(codecs, storedForOrientation(1, 64, 48), "jpeg");
    // 4000 x 3000 declared over 64x48 of data: the entropy data runs out (libjpeg's
    // "premature end of data segment"), which is corrupt, not a grey image.
    const bomb = withJpegDims(small, 4000, 3000);
    const r = await transformImage(bomb, { ...FAST, maxPixels: 2_000_000_000 }, codecs);
    expect(r.ok ? "ok" : r.error.code).toMatch(/^(decode_failed|corrupt_image)$/);
    const garbage = small.slice();
    for (let i = 200; i < garbage.length - 2; i++) garbage[i] = (i * 31) & 255;
    const g = await transformImage(garbage, FAST, codecs);
    expect(g.ok ? "ok" : g.error.code).toMatch(/^(decode_failed|corrupt_image)$/);
    const good = await transformImage(
      await encodeOrThrow(codecs, storedForOrientation(1, 600, 400), "jpeg"),
      FAST,
      codecs,
    );
    expect(good.ok).toBe(true);
  });

  it("fails a HEIC that is only its ftyp box as corrupt (HEIC itself decodes: see heic-decode)", async () => {
    const ftyp = new Uint8Array([
      0,
      0,
      0,
      24,
      ...[..."ftypheic"].map((c) => c.charCodeAt(0)),
      0,
      0,
      0,
      0,
      ...[..."mif1heic"].map((c) => c.charCodeAt(0)),
    ]);
    const r = await transformImage(ftyp, FAST, codecs);
    expect(r.ok ? "ok" : r.error.code).toBe("corrupt_image");
  });
});

/** The primary stage's variant set, `large` at its fitted size and upright quadrant colours. */
async function expectUprightPrimaryVariants(
  out: TransformOutput,
  w: number,
  h: number,
  large: "webp" | "jpeg",
): Promise<void> {
  expect(out.variants.map((v) => `${v.name}.${v.format}`).sort()).toEqual([
    "large.jpeg",
    "large.webp",
    "medium.jpeg",
    "medium.webp",
    "thumb.jpeg",
    "thumb.webp",
  ]);
  const variant = out.variants.find((v) => v.name === "large" && v.format === large);
  if (!variant) throw new Error(`no large ${large}`);
  const fit = fitInside(w, h, 2048, 2048);
  expect([variant.width, variant.height]).toEqual([fit.width, fit.height]);
  const img = await decodeVariant(variant);
  expectNear(pixel(img, img.width * 0.1, img.height * 0.1), RED);
  expectNear(pixel(img, img.width * 0.9, img.height * 0.1), GREEN);
  expectNear(pixel(img, img.width * 0.1, img.height * 0.9), BLUE);
  expectNear(pixel(img, img.width * 0.9, img.height * 0.9), WHITE);
}

/** Stored colour for EXIF orientation 6 (stored rows run along the upright image's columns). */
function storedOrientation6(uw: number, uh: number) {
  return (x: number, y: number): Rgb => quadrantColor(uw - 1 - y, x, uw, uh);
}

describe("large baseline JPEGs: the memory model decides, not a flat pixel cap", () => {
  const MIB = 2 ** 20;
  // No AVIF: the primary stage is what `ready` needs; AVIF runs on the (small) presets only.
  const PRIMARY: TransformOptions = { ...DEFAULT_TRANSFORM_OPTIONS, avifPresets: [] };
  const cases = [
    { label: "24.5 MP phone default, EXIF orientation 6", w: 5712, h: 4284, orientation: 6 },
    { label: "48 MP phone", w: 8064, h: 6048, orientation: 1 },
    { label: "50 MP phone", w: 8160, h: 6120, orientation: 1 },
    { label: "100 MP", w: 10000, h: 10000, orientation: 1 },
  ];
  for (const { label, w, h, orientation } of cases) {
    it(`accepts ${w}x${h} (${label}) with every variant, upright, under 96 MiB`, async () => {
      const upright = orientation === 6 ? { w: h, h: w } : { w, h };
      const color =
        orientation === 6
          ? storedOrientation6(upright.w, upright.h)
          : (x: number, y: number) => quadrantColor(x, y, w, h);
      let input = syntheticJpeg(w, h, color);
      if (orientation !== 1) input = insertAfterSoi(input, exifApp1(orientation));
      const own = createWorkerdCodecs();
      const r = await transformImage(input, PRIMARY, own);
      if (!r.ok) throw new Error(`${r.error.code}: ${r.error.detail}`);
      expect([r.value.width, r.value.height]).toEqual([upright.w, upright.h]);
      expect(r.value.original?.bytes.length).toBeGreaterThan(0);
      await expectUprightPrimaryVariants(r.value, upright.w, upright.h, "webp");
      expect(own.memory.peakBytes).toBeLessThan(96 * MIB);
    });
  }

  it("refuses more than 100 MP by the product ceiling, before any decode", async () => {
    const input = syntheticJpeg(10016, 10000, (x, y) => quadrantColor(x, y, 10016, 10000));
    const own = createWorkerdCodecs();
    const r = await transformImage(input, PRIMARY, own);
    expect(r.ok ? "ok" : r.error.code).toBe("too_many_pixels");
    expect(r.ok ? "" : r.error.detail).toMatch(/limit is 100000000/);
    expect(own.memory.peakBytes).toBe(0);
  });
});

describe("large lossy WebP: decoded straight to the size of the largest variant", () => {
  const MIB = 2 ** 20;
  const PRIMARY: TransformOptions = { ...DEFAULT_TRANSFORM_OPTIONS, avifPresets: [] };
  for (const [w, h] of [
    [4000, 3000],
    [6000, 4000],
  ] as const) {
    it(`accepts ${w}x${h} (camera and phone exports) with every variant under 96 MiB`, async () => {
      const input = await encodeOrThrow(codecs, storedForOrientation(1, w, h), "webp");
      const own = createWorkerdCodecs();
      const r = await transformImage(input, PRIMARY, own);
      if (!r.ok) throw new Error(`${r.error.code}: ${r.error.detail}`);
      await expectUprightPrimaryVariants(r.value, w, h, "jpeg");
      expect(own.memory.peakBytes).toBeLessThan(96 * MIB);
    });
  }

  it("refuses a corrupt bitstream behind a valid header as corrupt_image", async () => {
    const input = await encodeOrThrow(codecs, storedForOrientation(1, 3000, 2000), "webp");
    const broken = input.slice(0, Math.floor(input.length / 2));
    const r = await transformImage(broken, PRIMARY, createWorkerdCodecs());
    expect(r.ok ? "ok" : r.error.code).toMatch(/^(corrupt_image|unsupported_format)$/);
  });
});

/** Rewrites the SOF dimensions of a baseline/progressive JPEG. */
function withJpegDims(jpeg: Uint8Array, w: number, h: number): Uint8Array {
  const b = jpeg.slice();
  for (let i = 2; i + 8 < b.length; i++) {
    if (b[i] === 0xff && (b[i + 1] === 0xc0 || b[i + 1] === 0xc2)) {
      b[i + 5] = h >> 8;
      b[i + 6] = h & 255;
      b[i + 7] = w >> 8;
      b[i + 8] = w & 255;
      return b;
    }
  }
  throw new Error("no SOF");
}

describe("transparent cutouts: the WebP alpha plane is coded outside libwebp", () => {
  const MIB = 2 ** 20;
  const PRIMARY: TransformOptions = { ...DEFAULT_TRANSFORM_OPTIONS, avifPresets: [] };

  it("makes every variant of a 2048x2048 RGBA product shot under 96 MiB, alpha kept", async () => {
    const size = 2048;
    const img = storedForOrientation(1, size, size);
    // An elliptical cutout with a two-pixel soft edge, on full transparency.
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const d = Math.hypot((x - size / 2) / (size * 0.42), (y - size / 2) / (size * 0.35));
        img.data[(y * size + x) * 4 + 3] = d < 0.999 ? 255 : d > 1 ? 0 : 128;
      }
    }
    const input = await encodeOrThrow(codecs, img, "png");
    const own = createWorkerdCodecs();
    const r = await transformImage(input, PRIMARY, own);
    if (!r.ok) throw new Error(`${r.error.code}: ${r.error.detail}`);
    expect(r.value.variants.map((v) => `${v.name}.${v.format}`).sort()).toEqual([
      "large.png",
      "large.webp",
      "medium.png",
      "medium.webp",
      "thumb.png",
      "thumb.webp",
    ]);
    // libwebp's own alpha encoder peaked at 151 MiB for this frame.
    expect(own.memory.peakBytes).toBeLessThan(96 * MIB);
    for (const v of r.value.variants.filter((x) => x.format === "webp")) {
      const out = await decodeVariant(v);
      expect(pixel(out, 2, 2)[3]).toBe(0);
      const centre = pixel(out, out.width / 2, out.height / 2);
      expect(centre[3]).toBe(255);
      expectNear(pixel(out, out.width * 0.3, out.height * 0.3), RED);
    }
  });
});

describe("strict originals: a PNG only lenient decoders open is repaired, not refused", () => {
  it("recomputes a wrong zlib checksum, says so, and serves an original that decodes strictly", async () => {
    const png = await encodeOrThrow(codecs, storedForOrientation(1, 300, 200), "png");
    // Corrupt the Adler-32 (last 4 bytes of the last IDAT) and fix that chunk's CRC, as a
    // buggy encoder would write it.
    const bad = png.slice();
    let off = 8;
    let lastIdat = -1;
    while (off + 8 <= bad.length) {
      const len = new DataView(bad.buffer).getUint32(off);
      if (String.fromCharCode(...bad.subarray(off + 4, off + 8)) === "IDAT") lastIdat = off;
      off += 12 + len;
    }
    const len = new DataView(bad.buffer).getUint32(lastIdat);
    const adlerAt = lastIdat + 8 + len - 4;
    bad[adlerAt] = (bad[adlerAt] ?? 0) ^ 0xff;
    new DataView(bad.buffer).setUint32(
      lastIdat + 8 + len,
      crc32(bad, lastIdat + 4, lastIdat + 8 + len),
    );

    const strict = await codecs.decode(bad, "png");
    expect(strict.ok ? "decoded" : strict.error.detail).toMatch(/Adler-32/);
    const r = await transformImage(bad, FAST, codecs);
    if (!r.ok) throw new Error(`${r.error.code}: ${r.error.detail}`);
    expect(r.value.originalRepairs).toEqual(["zlib_checksum"]);
    const original = r.value.original;
    if (!original) throw new Error("no original");
    expect((await codecs.decode(original.bytes, "png")).ok).toBe(true);
    expect(original.bytes.length).toBe(bad.length);
  });
});
