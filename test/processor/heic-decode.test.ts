/// <reference types="vite/client" />
import libheifWasm from "libheif-js/libheif-wasm/libheif.wasm";
import { describe, expect, it } from "vitest";
import { WasmMemoryMeter } from "../../src/pipeline/codec-glue";
import type { RgbaImage } from "../../src/pipeline/codecs";
import { decodeHeic } from "../../src/pipeline/heic-decode";
import { applyOrientation } from "../../src/pipeline/orient";
import { probeHeader } from "../../src/pipeline/probe";

// workerd has no fs: Vite inlines each fixture as a base64 data URL at bundle time.
const inlined = import.meta.glob<string>("../fixtures/heic/*.heic", {
  eager: true,
  // `?url` makes Vite treat .heic (not a known asset type) as an asset; `&inline` base64s it.
  query: "?url&inline",
  import: "default",
});

function heic(name: string): Uint8Array {
  const url = inlined[`../fixtures/heic/${name}`];
  if (!url) throw new Error(`${name} not inlined`);
  const b64 = url.slice(url.indexOf(",") + 1);
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

function pixel(img: RgbaImage, x: number, y: number): number[] {
  const i = (y * img.width + x) * 4;
  return [...img.data.subarray(i, i + 4)];
}

async function decoded(name: string): Promise<RgbaImage> {
  const r = await decodeHeic(libheifWasm, heic(name));
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.detail}`);
  return r.value;
}

/** Each channel within `tol` (our YCbCr->RGB is not libheif's fixed-point one). */
function expectNear(actual: number[], expected: number[], tol: number): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    expect(
      Math.abs((actual[i] ?? -999) - (expected[i] ?? 0)),
      `${actual} vs ${expected}`,
    ).toBeLessThanOrEqual(tol);
  }
}

// Reference pixels from native libheif 1.15.1 + libde265 (Debian; what heif-convert and
// ImageMagick use) decoding to interleaved RGBA. sharp's prebuilt libvips cannot decode these:
// its libheif is built without an HEVC decoder.
const PHOTO_REFERENCE: [number, number, number[]][] = [
  [0, 0, [240, 178, 14, 255]],
  [80, 60, [189, 84, 59, 255]],
  [159, 119, [136, 1, 125, 255]],
  [40, 100, [153, 12, 85, 255]],
];

describe("decodeHeic (libheif-js in workerd)", () => {
  for (const name of ["photo.heic", "exif.heic"]) {
    it(`${name}: 160x120 with native libheif's colours`, async () => {
      const img = await decoded(name);
      expect([img.width, img.height]).toEqual([160, 120]);
      expect(img.data.length).toBe(160 * 120 * 4);
      for (const [x, y, rgba] of PHOTO_REFERENCE) expectNear(pixel(img, x, y), rgba, 3);
    });
  }

  it("ten-bit.heic: 10-bit Main 10 samples scaled to 8 bits", async () => {
    const img = await decoded("ten-bit.heic");
    expect([img.width, img.height]).toEqual([64, 48]);
    const reference: [number, number, number[]][] = [
      [0, 0, [235, 181, 10, 255]],
      [32, 24, [193, 79, 65, 255]],
      [63, 47, [133, 3, 125, 255]],
      [10, 40, [145, 8, 82, 255]],
    ];
    for (const [x, y, rgba] of reference) expectNear(pixel(img, x, y), rgba, 3);
  });

  it("gray.heic: monochrome (4:0:0) comes out as grey RGB", async () => {
    const img = await decoded("gray.heic");
    expect([img.width, img.height]).toEqual([160, 120]);
    expectNear(pixel(img, 0, 0), [179, 179, 179, 255], 2);
    expectNear(pixel(img, 80, 60), [104, 104, 104, 255], 2);
    expectNear(pixel(img, 159, 119), [38, 38, 38, 255], 2);
  });

  it("alpha.heic: keeps the alpha auxiliary image", async () => {
    const img = await decoded("alpha.heic");
    expect([img.width, img.height]).toEqual([160, 120]);
    // (x, y, alpha) from native libheif; the colour is (0,128,255) wherever alpha > 0.
    const reference: [number, number, number][] = [
      [0, 0, 0],
      [80, 60, 252],
      [40, 30, 97],
      [120, 90, 93],
      [80, 20, 129],
    ];
    for (const [x, y, a] of reference) {
      const [r, g, b, alpha] = pixel(img, x, y);
      expect(Math.abs((alpha ?? -999) - a)).toBeLessThanOrEqual(2);
      if (a > 64) expectNear([r ?? 0, g ?? 0, b ?? 0], [0, 128, 255], 4);
    }
  });

  it("irot: returns stored pixels at the ispe size; the probe's orientation makes them upright", async () => {
    const bytes = heic("irot-orientation-6.heic");
    const probe = probeHeader(bytes);
    if (!probe.ok) throw new Error(probe.error.detail);
    // The file stores the 96x64 test card turned on its side, with irot 3 (270° anticlockwise).
    expect(probe.value).toMatchObject({ width: 64, height: 96, orientation: 6 });
    const img = await decoded("irot-orientation-6.heic");
    expect([img.width, img.height]).toEqual([64, 96]);
    const isRed = (p: number[]) => (p[0] ?? 0) > 200 && (p[2] ?? 255) < 60;
    const isBlue = (p: number[]) => (p[2] ?? 0) > 200 && (p[0] ?? 255) < 60;
    expect(isBlue(pixel(img, 2, 2))).toBe(true);
    expect(isRed(pixel(img, 2, 93))).toBe(true);
    const upright = applyOrientation(img, probe.value.orientation);
    expect([upright.width, upright.height]).toEqual([96, 64]);
    expect(isRed(pixel(upright, 2, 2))).toBe(true);
    expect(isBlue(pixel(upright, 93, 2))).toBe(true);
  });

  it("a truncated HEIC is a clean error, and the next decode still works", async () => {
    const bytes = heic("photo.heic");
    for (const keep of [0.95, 0.5, 0.1]) {
      const r = await decodeHeic(libheifWasm, bytes.subarray(0, Math.floor(bytes.length * keep)));
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.error.code).toBe("corrupt_image");
        expect(r.error.detail).toMatch(/^heic /);
      }
    }
    const garbage = new Uint8Array(4096).fill(0x41);
    const g = await decodeHeic(libheifWasm, garbage);
    expect(g.ok).toBe(false);
    const again = await decoded("photo.heic");
    expectNear(pixel(again, 80, 60), PHOTO_REFERENCE[1]?.[2] ?? [], 3);
  });

  it("refuses before decoding when the primary image exceeds maxPixels", async () => {
    const r = await decodeHeic(libheifWasm, heic("photo.heic"), { maxPixels: 160 * 120 - 1 });
    expect(r.ok ? "ok" : r.error.code).toBe("too_many_pixels");
  });

  it("reports the instance's linear memory to the meter and releases it", async () => {
    const meter = new WasmMemoryMeter();
    const r = await decodeHeic(libheifWasm, heic("photo.heic"), { meter });
    expect(r.ok).toBe(true);
    // 260 initial pages (16.25 MiB) is the floor for any libheif instance.
    expect(meter.peakBytes).toBeGreaterThanOrEqual(260 * 65536);
    expect(meter.currentBytes()).toBe(0);
  });
});
