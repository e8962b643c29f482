import { describe, expect, it } from "vitest";
import type { RgbaImage } from "../../src/pipeline/codecs";
import { createWorkerdCodecs } from "../../src/pipeline/codecs-workerd";
import { DEFAULT_TRANSFORM_OPTIONS } from "../../src/pipeline/presets";
import { fitInside, transformImage } from "../../src/pipeline/transform";
import type { EncodedVariant, TransformOptions } from "../../src/pipeline/types";
import {
  ihdr,
  pngChunk,
  pngFile,
  SCREENSHOT_COLORS,
  scanSpec,
  screenshotSpec,
  syntheticPng,
} from "../helpers/synthetic-png";

const MIB = 2 ** 20;
// The primary stage: what `ready` needs. AVIF runs later on the small presets only.
const PRIMARY: TransformOptions = { ...DEFAULT_TRANSFORM_OPTIONS, avifPresets: [] };
const codecs = createWorkerdCodecs();

async function decodeVariant(v: EncodedVariant): Promise<RgbaImage> {
  const fmt = v.format;
  if (fmt !== "jpeg" && fmt !== "png" && fmt !== "webp") throw new Error(`cannot decode ${fmt}`);
  const r = await codecs.decode(v.bytes, fmt);
  if (!r.ok) throw new Error(r.error.detail);
  return r.value;
}

function pixel(img: RgbaImage, fx: number, fy: number): number[] {
  const i = (Math.floor(fy * img.height) * img.width + Math.floor(fx * img.width)) * 4;
  return [...img.data.subarray(i, i + 4)];
}

function expectNear(actual: readonly number[], expected: readonly number[], label: string): void {
  for (let k = 0; k < 3; k++) {
    expect(Math.abs((actual[k] ?? 0) - (expected[k] ?? 0)), `${label}: ${actual}`).toBeLessThan(40);
  }
}

describe("large PNG screenshots: decoded row by row to the size of the largest variant", () => {
  for (const [w, h] of [
    [3840, 2160],
    [5120, 2880],
    [6016, 3384],
  ] as const) {
    for (const alpha of [false, true]) {
      const kind = alpha ? "RGBA" : "RGB";
      it(`accepts ${w}x${h} ${kind} with every variant, upright${alpha ? ", alpha kept" : ""}, under 96 MiB of WASM`, async () => {
        const input = await syntheticPng(screenshotSpec(w, h, alpha));
        const own = createWorkerdCodecs();
        const r = await transformImage(input, PRIMARY, own);
        if (!r.ok) throw new Error(`${r.error.code}: ${r.error.detail}`);
        expect([r.value.width, r.value.height]).toEqual([w, h]);
        expect(r.value.probe.hasAlpha).toBe(alpha);
        const lossless = alpha ? "png" : "jpeg";
        expect(r.value.variants.map((v) => `${v.name}.${v.format}`).sort()).toEqual(
          [`large.${lossless}`, "large.webp", `medium.${lossless}`, "medium.webp"]
            .concat([`thumb.${lossless}`, "thumb.webp"])
            .sort(),
        );
        const fit = fitInside(w, h, 2048, 2048);
        const c = SCREENSHOT_COLORS;
        for (const v of r.value.variants) {
          if (v.name === "large") expect([v.width, v.height]).toEqual([fit.width, fit.height]);
          const img = await decodeVariant(v);
          const label = `${v.name}.${v.format}`;
          expectNear(pixel(img, 0.15, 0.1), c.topLeft, label);
          expectNear(pixel(img, 0.9, 0.1), c.topRight, label);
          expectNear(pixel(img, 0.15, 0.9), c.bottomLeft, label);
          expectNear(pixel(img, 0.9, 0.9), c.bottomRight, label);
          if (alpha) {
            expect(pixel(img, 0.02, 0.5)[3], label).toBe(0);
            expect(pixel(img, 0.9, 0.5)[3], label).toBe(255);
          }
        }
        expect(own.memory.peakBytes).toBeLessThan(96 * MIB);
      });
    }
  }
});

describe("100 MP PNGs", () => {
  it("accepts a 10000x10000 RGB screenshot-like PNG with every variant, upright", async () => {
    const w = 10000;
    const h = 10000;
    const input = await syntheticPng(screenshotSpec(w, h, false));
    const own = createWorkerdCodecs();
    const r = await transformImage(input, PRIMARY, own);
    if (!r.ok) throw new Error(`${r.error.code}: ${r.error.detail}`);
    expect(r.value.variants.map((v) => `${v.name}.${v.format}`).sort()).toEqual([
      "large.jpeg",
      "large.webp",
      "medium.jpeg",
      "medium.webp",
      "thumb.jpeg",
      "thumb.webp",
    ]);
    const large = r.value.variants.find((v) => v.name === "large" && v.format === "jpeg");
    if (!large) throw new Error("no large jpeg");
    expect([large.width, large.height]).toEqual([2048, 2048]);
    const img = await decodeVariant(large);
    const c = SCREENSHOT_COLORS;
    expectNear(pixel(img, 0.15, 0.1), c.topLeft, "large");
    expectNear(pixel(img, 0.9, 0.1), c.topRight, "large");
    expectNear(pixel(img, 0.15, 0.9), c.bottomLeft, "large");
    expectNear(pixel(img, 0.9, 0.9), c.bottomRight, "large");
    expect(own.memory.peakBytes).toBeLessThan(96 * MIB);
  }, 180_000);

  it("accepts 10000x10000 1-bit grayscale (a scanned page) with every variant", async () => {
    const input = await syntheticPng(scanSpec(10000, 10000));
    // A real scan of this size is ~0.6 MiB; this one is smaller still (regular "text").
    expect(input.length).toBeLessThan(1024 * 1024);
    const own = createWorkerdCodecs();
    const r = await transformImage(input, PRIMARY, own);
    if (!r.ok) throw new Error(`${r.error.code}: ${r.error.detail}`);
    expect(r.value.variants.map((v) => `${v.name}.${v.format}`).sort()).toEqual([
      "large.jpeg",
      "large.webp",
      "medium.jpeg",
      "medium.webp",
      "thumb.jpeg",
      "thumb.webp",
    ]);
    const large = r.value.variants.find((v) => v.name === "large" && v.format === "webp");
    if (!large) throw new Error("no large webp");
    expect([large.width, large.height]).toEqual([2048, 2048]);
    const img = await decodeVariant(large);
    // White margin; grey where the "text" is (a line of ink every 60 source rows).
    for (const k of [0, 1, 2]) expect(pixel(img, 0.04, 0.04)[k]).toBeGreaterThan(250);
    let sum = 0;
    for (let y = 0.3; y < 0.7; y += 0.01) sum += pixel(img, 0.5, y)[0] ?? 0;
    // ~10 % ink: a mean near 228, well below the white margin.
    expect(sum / 40).toBeLessThan(240);
    expect(sum / 40).toBeGreaterThan(180);
    expect(own.memory.peakBytes).toBeLessThan(96 * MIB);
  });
});

describe("interlaced PNG: assembled at full size, so the memory model refuses large ones", () => {
  it("refuses a 10000x10000 Adam7 PNG from its header, before any decode", async () => {
    const input = pngFile([
      pngChunk("IHDR", ihdr(10000, 10000, 8, 2, 1)),
      pngChunk("IDAT", new Uint8Array([0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01])),
      pngChunk("IEND", new Uint8Array(0)),
    ]);
    const own = createWorkerdCodecs();
    const r = await transformImage(input, PRIMARY, own);
    expect(r.ok ? "ok" : r.error.code).toBe("too_many_pixels");
    expect(r.ok ? "" : r.error.detail).toMatch(/interlaced/);
    expect(own.memory.peakBytes).toBe(0);
  });

  it("while the same header without interlace passes the memory check (and the data fails)", async () => {
    const input = pngFile([
      pngChunk("IHDR", ihdr(10000, 10000, 8, 2, 0)),
      pngChunk("IDAT", new Uint8Array([0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01])),
      pngChunk("IEND", new Uint8Array(0)),
    ]);
    const r = await transformImage(input, PRIMARY, createWorkerdCodecs());
    expect(r.ok ? "ok" : r.error.code).toBe("corrupt_image");
    expect(r.ok ? "" : r.error.detail).toMatch(/ends before the last row/);
  });
});
