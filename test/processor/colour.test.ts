/// <reference types="vite/client" />
import { describe, expect, it } from "vitest";
import { crc32 } from "../../src/pipeline/bytes";
import type { RgbaImage } from "../../src/pipeline/codecs";
import { createWorkerdCodecs } from "../../src/pipeline/codecs-workerd";
import { readColourSource } from "../../src/pipeline/colour-source";
import { DEFAULT_TRANSFORM_OPTIONS } from "../../src/pipeline/presets";
import { transformImage } from "../../src/pipeline/transform";
import type { EncodedVariant, TransformOptions } from "../../src/pipeline/types";
import { spliceIcc } from "../helpers/icc-build";

// workerd has no fs: the committed P3 fixture (sharp's Display P3 profile, 480 bytes) is
// inlined by Vite, and its profile spliced into JPEGs the WASM codecs make here.
const inlined = import.meta.glob<string>("../fixtures/jpeg/full-metadata.jpg", {
  eager: true,
  query: "?url&inline",
  import: "default",
});

function fixtureBytes(): Uint8Array {
  const url = Object.values(inlined)[0];
  if (!url) throw new Error("fixture not inlined");
  return Uint8Array.from(atob(url.slice(url.indexOf(",") + 1)), (c) => c.charCodeAt(0));
}

const codecs = createWorkerdCodecs();
const OPTIONS: TransformOptions = { ...DEFAULT_TRANSFORM_OPTIONS, avifPresets: [] };

type Rgb = readonly [number, number, number];
// Quadrants: a P3 mid red, a P3 orange, a saturated P3 red, a mid grey.
const QUADS: readonly Rgb[] = [
  [200, 60, 60],
  [230, 140, 40],
  [255, 0, 0],
  [128, 128, 128],
];

/**
 * The expected sRGB of a P3 colour, computed here from the published P3 -> sRGB matrix (both
 * D65, sRGB transfer), clamped: independent of src/pipeline/icc.ts.
 */
function p3ToSrgb([r, g, b]: Rgb): Rgb {
  const lin = (v: number): number => {
    const c = v / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  const enc = (v: number): number => {
    const c = Math.min(1, Math.max(0, v));
    return Math.round(255 * (c <= 0.0031308 ? 12.92 * c : 1.055 * c ** (1 / 2.4) - 0.055));
  };
  const [R, G, B] = [lin(r), lin(g), lin(b)];
  return [
    enc(1.2249 * R - 0.2247 * G),
    enc(-0.042 * R + 1.0419 * G),
    enc(-0.0197 * R - 0.0786 * G + 1.0979 * B),
  ];
}

function quadrants(w: number, h: number): RgbaImage {
  const data = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const q = QUADS[(y >= h / 2 ? 2 : 0) + (x >= w / 2 ? 1 : 0)] ?? [0, 0, 0];
      data.set([q[0], q[1], q[2], 255], (y * w + x) * 4);
    }
  }
  return { width: w, height: h, data };
}

async function decode(v: EncodedVariant): Promise<RgbaImage> {
  if (v.format !== "jpeg" && v.format !== "webp") throw new Error(v.format);
  const r = await codecs.decode(v.bytes, v.format);
  if (!r.ok) throw new Error(r.error.detail);
  return r.value;
}

/** The colour at the centre of each quadrant. */
function centres(img: RgbaImage): Rgb[] {
  const out: Rgb[] = [];
  for (const [fx, fy] of [
    [0.25, 0.25],
    [0.75, 0.25],
    [0.25, 0.75],
    [0.75, 0.75],
  ] as const) {
    const i = (Math.floor(img.height * fy) * img.width + Math.floor(img.width * fx)) * 4;
    out.push([img.data[i] ?? -1, img.data[i + 1] ?? -1, img.data[i + 2] ?? -1]);
  }
  return out;
}

function near(actual: Rgb, expected: Rgb, tol: number): boolean {
  return actual.every((v, k) => Math.abs(v - (expected[k] ?? 0)) <= tol);
}

describe("colour management in transformImage (workerd)", () => {
  it("converts a P3 JPEG's variants to sRGB; the same pixels untagged stay as they are", async () => {
    const source = await readColourSource(fixtureBytes(), "jpeg");
    if (source?.kind !== "icc") throw new Error("the fixture has no ICC profile");
    const enc = await codecs.encode(quadrants(640, 480), "jpeg", { quality: 95 });
    if (!enc.ok) throw new Error(enc.error.detail);
    const tagged = spliceIcc(enc.value, source.bytes);

    const expected = QUADS.map(p3ToSrgb);
    // The P3 mid red and orange move by far more than the tolerance, so this can fail.
    expect(near(expected[0] ?? [0, 0, 0], QUADS[0] ?? [0, 0, 0], 12)).toBe(false);
    expect(near(expected[1] ?? [0, 0, 0], QUADS[1] ?? [0, 0, 0], 12)).toBe(false);

    const p3 = await transformImage(tagged, OPTIONS, codecs);
    if (!p3.ok) throw new Error(p3.error.detail);
    expect(p3.value.colour).toMatch(/^converted:/);
    // The original is the source: its profile stays, so browsers colour-manage it.
    const original = p3.value.original?.bytes ?? new Uint8Array();
    expect(new TextDecoder("latin1").decode(original)).toContain("ICC_PROFILE\0");

    const plain = await transformImage(enc.value, OPTIONS, codecs);
    if (!plain.ok) throw new Error(plain.error.detail);
    expect(plain.value.colour).toBe("srgb");

    for (const name of ["large", "thumb"]) {
      for (const format of ["jpeg", "webp"]) {
        const pick = (vs: EncodedVariant[]) =>
          vs.find((v) => v.name === name && v.format === format);
        const converted = pick(p3.value.variants);
        const untouched = pick(plain.value.variants);
        if (!converted || !untouched) throw new Error(`no ${name} ${format}`);
        const got = centres(await decode(converted));
        const raw = centres(await decode(untouched));
        for (let q = 0; q < 4; q++) {
          const label = `${name}.${format} quadrant ${q}: ${got[q]} vs ${expected[q]}`;
          expect(near(got[q] ?? [0, 0, 0], expected[q] ?? [0, 0, 0], 8), label).toBe(true);
          expect(near(raw[q] ?? [0, 0, 0], QUADS[q] ?? [0, 0, 0], 8), `untagged ${label}`).toBe(
            true,
          );
        }
      }
    }
  });

  it("converts a PNG whose iCCP (inflated with DecompressionStream) is P3", async () => {
    const source = await readColourSource(fixtureBytes(), "jpeg");
    if (source?.kind !== "icc") throw new Error("the fixture has no ICC profile");
    const enc = await codecs.encode(quadrants(320, 240), "png", { quality: 100 });
    if (!enc.ok) throw new Error(enc.error.detail);
    const z = new Uint8Array(
      await new Response(
        new Blob([source.bytes]).stream().pipeThrough(new CompressionStream("deflate")),
      ).arrayBuffer(),
    );
    const data = new Uint8Array([...new TextEncoder().encode("P3"), 0, 0, ...z]);
    const chunk = new Uint8Array(12 + data.length);
    const view = new DataView(chunk.buffer);
    view.setUint32(0, data.length);
    chunk.set(new TextEncoder().encode("iCCP"), 4);
    chunk.set(data, 8);
    view.setUint32(8 + data.length, crc32(chunk, 4, 8 + data.length));
    // After the signature (8) and IHDR (25).
    const png = new Uint8Array(enc.value.length + chunk.length);
    png.set(enc.value.subarray(0, 33), 0);
    png.set(chunk, 33);
    png.set(enc.value.subarray(33), 33 + chunk.length);

    const r = await transformImage(png, OPTIONS, codecs);
    if (!r.ok) throw new Error(r.error.detail);
    expect(r.value.colour).toMatch(/^converted:/);
    const thumb = r.value.variants.find((v) => v.name === "thumb" && v.format === "webp");
    if (!thumb) throw new Error("no thumb");
    const got = centres(await decode(thumb));
    const expected = QUADS.map(p3ToSrgb);
    for (let q = 0; q < 4; q++) {
      const label = `quadrant ${q}: ${got[q]} vs ${expected[q]}`;
      expect(near(got[q] ?? [0, 0, 0], expected[q] ?? [0, 0, 0], 8), label).toBe(true);
    }
  });
});
