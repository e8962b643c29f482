import { describe, expect, it } from "vitest";
import { decodeMemoryProblem, estimateDecodeMemory } from "../../src/pipeline/decode-memory";
import { decodedSize } from "../../src/pipeline/decode-size";
import { walkIsobmff } from "../../src/pipeline/parse-isobmff";
import { probeHeader } from "../../src/pipeline/probe";
import { ftypBrands } from "../../src/pipeline/sniff";
import { stripMetadata } from "../../src/pipeline/strip";
import type { HeaderProbe } from "../../src/pipeline/types";
import { type GridHeicOptions, syntheticHeicGrid } from "../helpers/synthetic-heic";
import { fixture } from "./fixtures";

const MIB = 2 ** 20;
const LARGE = { minWidth: 2048, minHeight: 1536 };

function grid(options: GridHeicOptions): Uint8Array {
  return syntheticHeicGrid(fixture("heic/grid-tile-512.heic"), options);
}

function probeOf(bytes: Uint8Array): HeaderProbe {
  const r = probeHeader(bytes);
  if (!r.ok) throw new Error(r.error.detail);
  return r.value;
}

describe("HEIC grid probe", () => {
  it("reads a phone-style grid: output size, tile size, a few KB for 48 MP", () => {
    const bytes = grid({ width: 8064, height: 6048 });
    expect(bytes.length).toBeLessThan(20_000);
    expect(probeOf(bytes)).toMatchObject({
      format: "heic",
      width: 8064,
      height: 6048,
      orientation: 1,
      tile: { width: 512, height: 512 },
    });
    const layout = walkIsobmff(bytes, ftypBrands(bytes) ?? []);
    if (!layout.ok) throw new Error(layout.error.detail);
    expect(layout.value.primaryType).toBe("grid");
    expect(layout.value.grid).toEqual({ rows: 12, columns: 16, tileWidth: 512, tileHeight: 512 });
  });

  it("turns the grid's irot into an EXIF orientation", () => {
    expect(probeOf(grid({ width: 5712, height: 4284, irot: 3 })).orientation).toBe(6);
    expect(probeOf(grid({ width: 5712, height: 4284, irot: 1 })).orientation).toBe(8);
  });

  it("finds the alpha grid of a grid built from a tile with alpha", () => {
    const bytes = syntheticHeicGrid(fixture("heic/alpha.heic"), { width: 300, height: 200 });
    expect(probeOf(bytes)).toMatchObject({
      width: 300,
      height: 200,
      hasAlpha: true,
      tile: { width: 160, height: 120 },
    });
  });

  it("says nothing about tiles for a single-item HEIC", () => {
    expect(probeOf(fixture("heic/photo.heic")).tile).toBeUndefined();
  });

  it("strips a grid in place (nothing to blank, bytes unchanged)", () => {
    const bytes = grid({ width: 5712, height: 4284 });
    const r = stripMetadata(bytes, "heic", { keepCopyrightAndCamera: false });
    expect(r.ok ? [...r.value] : r.error).toEqual([...bytes]);
  });

  for (const [label, options, detail] of [
    ["a tile reference too many", { extraTileRefs: 1 }, /2x3 cells but 7 tile references/],
    ["a tile reference too few", { extraTileRefs: -1 }, /2x3 cells but 5 tile references/],
    ["references to missing tiles", { missingTiles: 1 }, /not in the file/],
  ] as const) {
    it(`refuses a grid with ${label} as corrupt_image`, () => {
      const r = probeHeader(grid({ width: 1100, height: 700, ...options }));
      expect(r.ok ? "ok" : r.error.code).toBe("corrupt_image");
      expect(r.ok ? "" : r.error.detail).toMatch(detail);
    });
  }

  it("refuses a grid whose ImageGrid size disagrees with its ispe", () => {
    const bytes = grid({ width: 1100, height: 700 });
    const layout = walkIsobmff(bytes, ftypBrands(bytes) ?? []);
    if (!layout.ok) throw new Error(layout.error.detail);
    // The ImageGrid payload is 8 bytes in idat: version, flags, rows-1, columns-1, w16, h16.
    const lying = bytes.slice();
    lying[layout.value.idat + 5] = (1100 - 64) & 255;
    lying[layout.value.idat + 4] = (1100 - 64) >> 8;
    const r = probeHeader(lying);
    expect(r.ok ? "ok" : r.error.detail).toMatch(/grid is 1036x700 but its ispe says 1100x700/);
  });
});

describe("HEIC grid decode size and memory", () => {
  it("decodes a grid box-shrunk for the largest variant", () => {
    expect(decodedSize(probeOf(grid({ width: 5712, height: 4284 })), LARGE)).toEqual({
      width: 2856,
      height: 2142,
    });
    expect(decodedSize(probeOf(grid({ width: 8064, height: 6048 })), LARGE)).toEqual({
      width: 2688,
      height: 2016,
    });
  });

  for (const [w, h, inputMib] of [
    [5712, 4284, 4],
    [8064, 6048, 10],
  ] as const) {
    it(`fits ${w}x${h} with a ${inputMib} MiB file in both budgets`, () => {
      const probe = probeOf(grid({ width: w, height: h }));
      const input = inputMib * MIB;
      const m = estimateDecodeMemory(probe, input, decodedSize(probe, LARGE));
      expect(decodeMemoryProblem(probe, m)).toBeNull();
      // The band is one row of tiles at full width; WASM stays at libheif's initial heap.
      expect(m.wasmBytes).toBe(16.25 * MIB);
      expect(m.jsBytes).toBeLessThan(70 * MIB);
    });
  }

  it("still refuses a 24 MP single-item HEIC (libheif holds its whole frame)", () => {
    const probe = { ...probeOf(grid({ width: 5712, height: 4284 })), tile: undefined };
    const m = estimateDecodeMemory(probe, 4 * MIB, decodedSize(probe, LARGE));
    expect(decodeMemoryProblem(probe, m)).toMatch(/5\.4 bytes a pixel/);
  });
});

describe("single-image HEIC memory model", () => {
  const single = (heicPlaneBytes: number): HeaderProbe => ({
    format: "heic",
    width: 4032,
    height: 3024,
    frames: 1,
    orientation: 1,
    hasAlpha: false,
    progressive: false,
    coefficientBytes: 0,
    heicPlaneBytes,
  });
  const problem = (p: HeaderProbe) =>
    decodeMemoryProblem(p, estimateDecodeMemory(p, 2_000_000, { width: 4032, height: 3024 }));

  it("admits a 12 MP 8-bit 4:2:0 phone photo, and counts its unshrunk RGBA frame", () => {
    expect(problem(single(1.5))).toBeNull();
    const m = estimateDecodeMemory(single(1.5), 2_000_000, { width: 4032, height: 3024 });
    // The frame (48.8 MB) is built after libheif's memory (~67 MB) is gone: no extra peak.
    expect(m.jsBytes).toBe(4032 * 3024 * 1.5 + 2_000_000);
  });

  it("refuses the same size at 10-bit 4:4:4, whose planes and decoder are four times larger", () => {
    expect(problem(single(6))).toMatch(/6 in planes/);
  });
});
