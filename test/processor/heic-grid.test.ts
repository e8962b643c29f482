/// <reference types="vite/client" />
import libheifWasm from "libheif-js/libheif-wasm/libheif.wasm";
import { describe, expect, it } from "vitest";
import { WasmMemoryMeter } from "../../src/pipeline/codec-glue";
import type { RgbaImage } from "../../src/pipeline/codecs";
import { createWorkerdCodecs } from "../../src/pipeline/codecs-workerd";
import { estimateDecodeMemory } from "../../src/pipeline/decode-memory";
import { decodedSize } from "../../src/pipeline/decode-size";
import { decodeHeic } from "../../src/pipeline/heic-decode";
import { DEFAULT_TRANSFORM_OPTIONS } from "../../src/pipeline/presets";
import { probeHeader } from "../../src/pipeline/probe";
import { boxShrinkSize, RowShrinker } from "../../src/pipeline/row-shrink";
import { fitInside, transformImage } from "../../src/pipeline/transform";
import type { EncodedVariant } from "../../src/pipeline/types";
import { type GridHeicOptions, syntheticHeicGrid } from "../helpers/synthetic-heic";

// workerd has no fs: Vite inlines the fixture as a base64 data URL at bundle time.
const inlined = import.meta.glob<string>(
  ["../fixtures/heic/grid-tile-512.heic", "../fixtures/heic/alpha.heic"],
  { eager: true, query: "?url&inline", import: "default" },
);

function heic(name: string): Uint8Array {
  const url = inlined[`../fixtures/heic/${name}`];
  if (!url) throw new Error(`${name} not inlined`);
  return Uint8Array.from(atob(url.slice(url.indexOf(",") + 1)), (c) => c.charCodeAt(0));
}

function tileHeic(): Uint8Array {
  return heic("grid-tile-512.heic");
}

function grid(options: GridHeicOptions): Uint8Array {
  return syntheticHeicGrid(tileHeic(), options);
}

const MIB = 2 ** 20;

function pixel(img: RgbaImage, x: number, y: number): number[] {
  const i = (Math.floor(y) * img.width + Math.floor(x)) * 4;
  return [...img.data.subarray(i, i + 4)];
}

async function decodeOrThrow(bytes: Uint8Array, hint?: { minWidth: number; minHeight: number }) {
  const r = await decodeHeic(libheifWasm, bytes, { hint });
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.detail}`);
  return r.value;
}

async function decodeVariant(v: EncodedVariant): Promise<RgbaImage> {
  if (v.format !== "jpeg" && v.format !== "webp") throw new Error(`cannot decode ${v.format}`);
  const r = await createWorkerdCodecs().decode(v.bytes, v.format);
  if (!r.ok) throw new Error(r.error.detail);
  return r.value;
}

describe("HEIC grids decoded tile by tile", () => {
  it("pastes every tile (the last column and row cropped) exactly where the grid says", async () => {
    const tile = await decodeOrThrow(tileHeic());
    expect([tile.width, tile.height]).toEqual([512, 512]);
    // 3x2 tiles, the last column 1100 - 1024 = 76 px wide and the last row 700 - 512 = 188 px.
    const img = await decodeOrThrow(grid({ width: 1100, height: 700 }));
    expect([img.width, img.height]).toEqual([1100, 700]);
    let mismatches = 0;
    for (let y = 0; y < 700; y += 7) {
      for (let x = 0; x < 1100; x += 5) {
        const want = pixel(tile, x % 512, y % 512).join();
        if (pixel(img, x, y).join() !== want) mismatches++;
      }
    }
    for (const [x, y] of [
      [1099, 699],
      [1024, 512],
      [511, 511],
      [512, 0],
    ] as const) {
      expect(pixel(img, x, y)).toEqual(pixel(tile, x % 512, y % 512));
    }
    expect(mismatches).toBe(0);
  });

  it("keeps alpha: each tile's alpha comes from the alpha grid's tile", async () => {
    // alpha.heic (160x120, colour + alpha auxiliary image) as 2x2 tiles cropped to 300x200.
    const tile = await decodeOrThrow(heic("alpha.heic"));
    const img = await decodeOrThrow(
      syntheticHeicGrid(heic("alpha.heic"), { width: 300, height: 200 }),
    );
    expect([img.width, img.height]).toEqual([300, 200]);
    let mismatches = 0;
    let transparent = 0;
    for (let y = 0; y < 200; y += 3) {
      for (let x = 0; x < 300; x += 3) {
        const got = pixel(img, x, y);
        if (got.join() !== pixel(tile, x % 160, y % 120).join()) mismatches++;
        if (got[3] === 0) transparent++;
      }
    }
    expect(mismatches).toBe(0);
    expect(transparent).toBeGreaterThan(100);
  });

  it("with a hint, is the box shrink of the full frame", async () => {
    const bytes = grid({ width: 1100, height: 700 });
    const full = await decodeOrThrow(bytes);
    const hint = { minWidth: 300, minHeight: 200 };
    const shrunk = await decodeOrThrow(bytes, hint);
    const size = boxShrinkSize(1100, 700, hint);
    expect(size.factor).toBe(3);
    const reference = new RowShrinker(1100, 700, size.factor);
    for (let y = 0; y < 700; y++) reference.push(full.data, y * 1100 * 4);
    const want = reference.finish();
    expect([shrunk.width, shrunk.height]).toEqual([want.width, want.height]);
    expect(shrunk.data).toEqual(want.data);
  });

  it("a single-item HEIC is shrunk the same way", async () => {
    const hint = { minWidth: 200, minHeight: 200 };
    const full = await decodeOrThrow(tileHeic());
    const shrunk = await decodeOrThrow(tileHeic(), hint);
    const reference = new RowShrinker(512, 512, 2);
    for (let y = 0; y < 512; y++) reference.push(full.data, y * 512 * 4);
    expect([shrunk.width, shrunk.height]).toEqual([256, 256]);
    expect(shrunk.data).toEqual(reference.finish().data);
  });

  for (const [label, options] of [
    ["one tile reference too many", { extraTileRefs: 1 }],
    ["one tile reference too few", { extraTileRefs: -1 }],
    ["references to tiles that are not in the file", { missingTiles: 2 }],
  ] as const) {
    it(`fails a grid with ${label} as corrupt_image, in the probe and in libheif`, async () => {
      const bytes = grid({ width: 1100, height: 700, ...options });
      const own = createWorkerdCodecs();
      const r = await transformImage(bytes, DEFAULT_TRANSFORM_OPTIONS, own);
      expect(r.ok ? "ok" : r.error.code).toBe("corrupt_image");
      expect(own.memory.peakBytes).toBe(0);
      // Past the probe, libheif refuses the same file with an error, not a trap.
      const d = await decodeHeic(libheifWasm, bytes);
      expect(d.ok ? "ok" : `${d.error.code}: ${d.error.detail}`).toMatch(/^corrupt_image: heic /);
    });
  }
});

describe("phone-size HEIC grids through transformImage", () => {
  // Stored size, irot, and the upright size the variants must have.
  const cases = [
    { label: "24 MP (phones' default)", w: 5712, h: 4284, irot: 0 as const },
    { label: "48 MP", w: 8064, h: 6048, irot: 0 as const },
    { label: "24 MP portrait, irot 3 (EXIF 6)", w: 5712, h: 4284, irot: 3 as const },
  ];
  for (const { label, w, h, irot } of cases) {
    it(`accepts ${w}x${h} ${label}: every variant, upright, WASM under 96 MiB`, async () => {
      const input = grid({ width: w, height: h, irot });
      expect(input.length).toBeLessThan(20_000);
      const own = createWorkerdCodecs();
      const started = performance.now();
      const r = await transformImage(input, DEFAULT_TRANSFORM_OPTIONS, own);
      const ms = performance.now() - started;
      if (!r.ok) throw new Error(`${r.error.code}: ${r.error.detail}`);
      const out = r.value;
      const [uw, uh] = irot % 2 === 1 ? [h, w] : [w, h];
      console.log(
        `heic grid ${w}x${h} irot ${irot}: ${ms.toFixed(0)} ms (decode ${out.timings.decodeMs.toFixed(0)}, ` +
          `resize ${out.timings.resizeMs.toFixed(0)}, encode ${out.timings.encodeMs.toFixed(0)}), ` +
          `peak WASM ${(own.memory.peakBytes / MIB).toFixed(1)} MiB`,
      );
      expect([out.width, out.height]).toEqual([uw, uh]);
      expect(out.original?.bytes.length).toBe(input.length);
      expect(out.variants.map((v) => `${v.name}.${v.format}`).sort()).toEqual([
        "large.jpeg",
        "large.webp",
        "medium.avif",
        "medium.jpeg",
        "medium.webp",
        "thumb.avif",
        "thumb.jpeg",
        "thumb.webp",
      ]);
      for (const v of out.variants) {
        const box = { large: 2048, medium: 1024, thumb: 256 }[v.name as "large"];
        const fit = fitInside(uw, uh, box, box);
        expect([v.width, v.height], `${v.name}.${v.format}`).toEqual([fit.width, fit.height]);
        expect(v.bytes.length).toBeGreaterThan(0);
      }
      expect(own.memory.peakBytes).toBeLessThan(96 * MIB);
      await expectUprightTiles(out.variants, w, h, irot);
    });
  }
});

/**
 * Samples the large JPEG at points of known stored tiles: each tile is red on its left, blue on
 * its right and brighter at its top, so the upright variant shows where each stored side went.
 */
async function expectUprightTiles(
  variants: EncodedVariant[],
  w: number,
  h: number,
  irot: 0 | 1 | 2 | 3,
): Promise<void> {
  const large = variants.find((v) => v.name === "large" && v.format === "jpeg");
  if (!large) throw new Error("no large jpeg");
  const img = await decodeVariant(large);
  /** Upright variant pixel for a stored pixel (irot turns anticlockwise for display). */
  const at = (x: number, y: number): number[] => {
    let ux = x;
    let uy = y;
    let uw = w;
    let uh = h;
    for (let q = 0; q < irot; q++) {
      [ux, uy] = [uy, uw - 1 - ux];
      [uw, uh] = [uh, uw];
    }
    return pixel(img, (ux * img.width) / uw, (uy * img.height) / uh);
  };
  for (const [tx, ty] of [
    [0, 0],
    [3, 2],
    [8, 6],
  ] as const) {
    const x0 = tx * 512;
    const y0 = ty * 512;
    const left = at(x0 + 70, y0 + 256);
    const right = at(x0 + 440, y0 + 256);
    expect((left[0] ?? 0) - (left[2] ?? 0), `tile ${tx},${ty} left ${left}`).toBeGreaterThan(80);
    expect((right[2] ?? 0) - (right[0] ?? 0), `tile ${tx},${ty} right ${right}`).toBeGreaterThan(
      80,
    );
    const top = at(x0 + 256, y0 + 60);
    const bottom = at(x0 + 256, y0 + 450);
    const sum = (p: number[]) => (p[0] ?? 0) + (p[1] ?? 0) + (p[2] ?? 0);
    expect(sum(top) - sum(bottom), `tile ${tx},${ty} ${top} over ${bottom}`).toBeGreaterThan(60);
  }
}

it("the memory model bounds the measured decode peak, with a small or a large file", async () => {
  const hint = { minWidth: 2048, minHeight: 1536 };
  // A trailing free box makes the file as large as real 24/48 MP photos or larger.
  for (const padBytes of [0, 6 * MIB, 20 * MIB]) {
    const bytes = grid({ width: 8064, height: 6048, padBytes });
    const probe = probeHeader(bytes);
    if (!probe.ok) throw new Error(probe.error.detail);
    const model = estimateDecodeMemory(probe.value, bytes.length, decodedSize(probe.value, hint));
    const meter = new WasmMemoryMeter();
    const r = await decodeHeic(libheifWasm, bytes, { meter, hint });
    if (!r.ok) throw new Error(r.error.detail);
    console.log(
      `heic grid 8064x6048, ${(bytes.length / MIB).toFixed(1)} MiB file: peak WASM ` +
        `${(meter.peakBytes / MIB).toFixed(2)} MiB, model ${(model.wasmBytes / MIB).toFixed(2)}`,
    );
    expect(meter.peakBytes).toBeLessThanOrEqual(model.wasmBytes);
    expect(model.wasmBytes - meter.peakBytes).toBeLessThan(4 * MIB);
  }
});

it("meters the tile decoder's memory and releases the instance", async () => {
  const meter = new WasmMemoryMeter();
  const r = await decodeHeic(libheifWasm, grid({ width: 5712, height: 4284 }), {
    meter,
    hint: { minWidth: 2048, minHeight: 1536 },
  });
  if (!r.ok) throw new Error(r.error.detail);
  expect([r.value.width, r.value.height]).toEqual([2856, 2142]);
  console.log(
    `heic grid 5712x4284 decode-only peak WASM ${(meter.peakBytes / MIB).toFixed(2)} MiB`,
  );
  expect(meter.peakBytes).toBeLessThan(24 * MIB);
  expect(meter.currentBytes()).toBe(0);
});
