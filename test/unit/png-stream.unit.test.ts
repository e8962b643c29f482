import { deflateSync } from "node:zlib";
import sharp, { type Sharp } from "sharp";
import { describe, expect, it } from "vitest";
import { decodeMemoryProblem, estimateDecodeMemory } from "../../src/pipeline/decode-memory";
import { decodedSize } from "../../src/pipeline/decode-size";
import { InflateError, ZlibInflater } from "../../src/pipeline/inflate";
import { decodePngScaled, PngDecodeError, pngScaledSize } from "../../src/pipeline/png-stream";
import { probeHeader } from "../../src/pipeline/probe";
import { boxShrinkSize, RowShrinker } from "../../src/pipeline/row-shrink";
import { fitInside } from "../../src/pipeline/transform";
import type { HeaderProbe } from "../../src/pipeline/types";
import {
  idatChunks,
  ihdr,
  pngChunk,
  pngFile,
  type SyntheticPngSpec,
  syntheticPng,
  syntheticScanlines,
} from "../helpers/synthetic-png";

const W = 37;
const H = 23;

/** Deterministic RGBA test card: gradients, a hard edge, and alpha 0 / partial / opaque. */
function card(w = W, h = H): Buffer {
  const b = Buffer.alloc(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 4;
      b[i] = (x * 7 + y * 3) & 255;
      b[i + 1] = x < w / 2 ? (y * 11) & 255 : 255 - ((x * 5) & 255);
      b[i + 2] = (x * y) & 255;
      b[i + 3] = (x + y) % 5 === 0 ? 0 : (x + y) % 3 === 0 ? 128 : 255;
    }
  }
  return b;
}

function base(w = W, h = H): Sharp {
  return sharp(card(w, h), { raw: { width: w, height: h, channels: 4 } });
}

/** sharp's RGBA8 decode (libspng) of `png`; 16-bit files are reduced with round(v*255/65535). */
async function reference(png: Uint8Array): Promise<{ w: number; h: number; data: Uint8Array }> {
  const depth = png[24];
  if (depth === 16) {
    // rgb16 first: without it sharp reduces to 8 bits before widening again.
    const r = await sharp(png)
      .toColourspace("rgb16")
      .ensureAlpha()
      .raw({ depth: "ushort" })
      .toBuffer({ resolveWithObject: true });
    const v = new Uint16Array(r.data.buffer, r.data.byteOffset, r.data.length / 2);
    const data = new Uint8Array(v.length);
    for (let i = 0; i < v.length; i++) data[i] = Math.round(((v[i] ?? 0) * 255) / 65535);
    return { w: r.info.width, h: r.info.height, data };
  }
  const r = await sharp(png).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { w: r.info.width, h: r.info.height, data: new Uint8Array(r.data) };
}

function firstDiff(a: Uint8Array, b: Uint8Array): string {
  if (a.length !== b.length) return `length ${a.length} vs ${b.length}`;
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) return `byte ${i} (pixel ${i >> 2}): ${a[i]} vs ${b[i]}`;
  }
  return "";
}

async function expectLikeSharp(png: Uint8Array): Promise<void> {
  const ref = await reference(png);
  const img = decodePngScaled(png);
  expect([img.width, img.height]).toEqual([ref.w, ref.h]);
  expect(firstDiff(img.data, ref.data)).toBe("");
}

function ihdrOf(png: Uint8Array): { depth: number; colorType: number; interlace: number } {
  return { depth: png[24] ?? -1, colorType: png[25] ?? -1, interlace: png[28] ?? -1 };
}

describe("decodePngScaled matches sharp at full size", () => {
  const sharpCases: [string, () => Sharp, number, number, number][] = [
    ["RGB 8", () => base().removeAlpha().png(), 2, 8, 0],
    ["RGBA 8", () => base().png(), 6, 8, 0],
    ["gray 8", () => base().removeAlpha().toColourspace("b-w").png(), 0, 8, 0],
    ["gray+alpha 8", () => base().toColourspace("b-w").png(), 4, 8, 0],
    ["palette 1-bit + tRNS", () => base().png({ palette: true, colours: 2 }), 3, 1, 0],
    ["palette 2-bit + tRNS", () => base().png({ palette: true, colours: 4 }), 3, 2, 0],
    ["palette 4-bit + tRNS", () => base().png({ palette: true, colours: 16 }), 3, 4, 0],
    ["palette 8-bit + tRNS", () => base().png({ palette: true, colours: 256 }), 3, 8, 0],
    ["palette opaque (no tRNS)", () => base().removeAlpha().png({ palette: true }), 3, 8, 0],
    ["RGB 16", () => base().removeAlpha().toColourspace("rgb16").png(), 2, 16, 0],
    ["RGBA 16", () => base().toColourspace("rgb16").png(), 6, 16, 0],
    ["gray 16", () => base().removeAlpha().toColourspace("grey16").png(), 0, 16, 0],
    ["gray+alpha 16", () => base().toColourspace("grey16").png(), 4, 16, 0],
    ["Adam7 RGB 8", () => base().removeAlpha().png({ progressive: true }), 2, 8, 1],
    ["Adam7 RGBA 8", () => base().png({ progressive: true }), 6, 8, 1],
    [
      "Adam7 gray 8",
      () => base().toColourspace("b-w").removeAlpha().png({ progressive: true }),
      0,
      8,
      1,
    ],
    [
      "Adam7 palette 2-bit",
      () => base().png({ progressive: true, palette: true, colours: 4 }),
      3,
      2,
      1,
    ],
    ["Adam7 RGBA 16", () => base().toColourspace("rgb16").png({ progressive: true }), 6, 16, 1],
  ];
  for (const [label, make, colorType, depth, interlace] of sharpCases) {
    it(label, async () => {
      const png = new Uint8Array(await make().toBuffer());
      const header = ihdrOf(png);
      // What sharp wrote is what this case claims to test (the palette default may vary).
      expect(header.colorType).toBe(colorType);
      if (colorType !== 3 || label.includes("+ tRNS")) expect(header.depth).toBe(depth);
      expect(header.interlace).toBe(interlace);
      await expectLikeSharp(png);
    });
  }

  it("Adam7 on images smaller than a pass grid (empty passes have no rows)", async () => {
    for (const [w, h] of [
      [1, 1],
      [2, 3],
      [5, 1],
      [9, 9],
    ] as const) {
      const png = new Uint8Array(await base(w, h).png({ progressive: true }).toBuffer());
      await expectLikeSharp(png);
    }
  });
});

/** Packs `values` (each < 2^depth) MSB first into `out`. */
function pack(values: readonly number[], depth: number, out: Uint8Array): void {
  const perByte = 8 / depth;
  values.forEach((v, x) => {
    const i = Math.floor(x / perByte);
    out[i] = (out[i] ?? 0) | (v << (8 - depth * ((x % perByte) + 1)));
  });
}

function spec(over: Partial<SyntheticPngSpec> & Pick<SyntheticPngSpec, "row">): SyntheticPngSpec {
  return { width: W, height: H, colorType: 0, depth: 8, ...over };
}

describe("decodePngScaled on hand-written PNGs (every filter, sub-byte depths, tRNS keys)", () => {
  for (const depth of [1, 2, 4] as const) {
    it(`gray ${depth}-bit with a tRNS key, odd width`, async () => {
      const max = (1 << depth) - 1;
      const png = await syntheticPng(
        spec({
          depth,
          trns: new Uint8Array([0, 1]),
          row: (y, out) =>
            pack(
              Array.from({ length: W }, (_, x) => (x * 3 + y) % (max + 1)),
              depth,
              out,
            ),
        }),
      );
      await expectLikeSharp(png);
      // Gray value 1 is transparent; the full scale is 255 (1-bit: 0/255, 2-bit: steps of 85).
      const img = decodePngScaled(png);
      const v1 = img.data.findIndex((_, i) => i % 4 === 3 && img.data[i] === 0);
      expect(v1).toBeGreaterThan(0);
      expect(img.data[v1 - 1]).toBe(255 / max);
    });
  }

  it("gray 8 and 16-bit with a tRNS key compare the sample at full depth", async () => {
    const g8 = await syntheticPng(
      spec({
        trns: new Uint8Array([0, 77]),
        row: (y, out) => {
          for (let x = 0; x < W; x++) out[x] = (x * 7 + y) & 255;
        },
      }),
    );
    await expectLikeSharp(g8);
    const g16 = await syntheticPng(
      spec({
        depth: 16,
        // 0x4d00 reduces to 77 too, but only the exact 16-bit value 0x4d4d is transparent.
        trns: new Uint8Array([0x4d, 0x4d]),
        row: (y, out) => {
          for (let x = 0; x < W; x++) {
            out[x * 2] = 0x4d;
            out[x * 2 + 1] = (x + y) % 2 === 0 ? 0x4d : 0x00;
          }
        },
      }),
    );
    await expectLikeSharp(g16);
    const img = decodePngScaled(g16);
    expect([img.data[3], img.data[7]]).toEqual([0, 255]);
  });

  for (const depth of [8, 16] as const) {
    it(`RGB ${depth}-bit with a tRNS colour key`, async () => {
      const bytes = depth / 8;
      const key = depth === 8 ? [0, 10, 0, 20, 0, 30] : [0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc];
      const png = await syntheticPng(
        spec({
          colorType: 2,
          depth,
          trns: new Uint8Array(key),
          row: (y, out) => {
            for (let x = 0; x < W; x++) {
              for (let c = 0; c < 3; c++) {
                const o = (x * 3 + c) * bytes;
                if ((x + y) % 4 === 0) {
                  // The key colour exactly.
                  if (depth === 8) out[o] = key[c * 2 + 1] ?? 0;
                  else out.set([key[c * 2] ?? 0, key[c * 2 + 1] ?? 0], o);
                } else {
                  for (let k = 0; k < bytes; k++) out[o + k] = (x * 9 + y * 5 + c * 40 + k) & 255;
                }
              }
            }
          },
        }),
      );
      await expectLikeSharp(png);
      const img = decodePngScaled(png);
      expect(img.data[3]).toBe(0);
      expect(img.data[7]).toBe(255);
    });
  }

  it("palette 8-bit with a tRNS shorter than the palette (the rest opaque)", async () => {
    const palette = new Uint8Array(200 * 3).map((_, i) => (i * 37) & 255);
    const png = await syntheticPng(
      spec({
        colorType: 3,
        palette,
        trns: new Uint8Array([0, 64, 128]),
        row: (y, out) => {
          for (let x = 0; x < W; x++) out[x] = (x * 11 + y) % 200;
        },
      }),
    );
    await expectLikeSharp(png);
  });

  it("gray+alpha 16 and RGBA 8 with each filter forced on every row", async () => {
    for (const filter of [0, 1, 2, 3, 4]) {
      const png = await syntheticPng(
        spec({
          colorType: 6,
          filter: () => filter,
          row: (y, out) => {
            for (let i = 0; i < out.length; i++) out[i] = (i * 31 + y * 17 + ((i * y) >> 3)) & 255;
          },
        }),
      );
      await expectLikeSharp(png);
      const ga16 = await syntheticPng(
        spec({
          colorType: 4,
          depth: 16,
          filter: () => filter,
          row: (y, out) => {
            for (let i = 0; i < out.length; i++) out[i] = (i * 13 + y * 101) & 255;
          },
        }),
      );
      await expectLikeSharp(ga16);
    }
  });

  it("splits the zlib stream across many IDAT chunks, down to one byte each", async () => {
    const png = await syntheticPng(
      spec({
        colorType: 2,
        idatSize: 1,
        row: (y, out) => {
          for (let i = 0; i < out.length; i++) out[i] = (i + y * 3) & 255;
        },
      }),
    );
    await expectLikeSharp(png);
  });
});

describe("decodePngScaled shrinks while decoding", () => {
  it("returns the box-shrunk frame, the same as shrinking sharp's full decode", async () => {
    const w = 301;
    const h = 203;
    const hint = { minWidth: 70, minHeight: 40 };
    const size = boxShrinkSize(w, h, hint);
    expect(size.factor).toBe(4);
    for (const png of [
      await base(w, h).png().toBuffer(),
      await base(w, h).png({ progressive: true }).toBuffer(),
      await base(w, h).png({ palette: true, colours: 16 }).toBuffer(),
    ]) {
      const ref = await reference(png);
      const shrinker = new RowShrinker(w, h, size.factor);
      for (let y = 0; y < h; y++) shrinker.push(ref.data, y * w * 4);
      const expected = shrinker.finish();
      const img = decodePngScaled(png, hint);
      expect([img.width, img.height]).toEqual([size.width, size.height]);
      expect(pngScaledSize(w, h, hint)).toEqual({ width: img.width, height: img.height });
      expect(firstDiff(img.data, expected.data)).toBe("");
    }
  });
});

/** A valid gray 8-bit PNG built around `zlib`, whatever it holds. */
function grayPngAround(zlib: Uint8Array, w = 16, h = 16): Uint8Array {
  return pngFile([
    pngChunk("IHDR", ihdr(w, h, 8, 0)),
    ...idatChunks(zlib, 1000),
    pngChunk("IEND", new Uint8Array(0)),
  ]);
}

function rowsOf(w: number, h: number, filter = 0): Uint8Array {
  const raw = new Uint8Array((w + 1) * h);
  for (let y = 0; y < h; y++) {
    raw[y * (w + 1)] = filter;
    for (let x = 0; x < w; x++) raw[y * (w + 1) + 1 + x] = (x * 16 + y) & 255;
  }
  return raw;
}

function expectCorrupt(png: Uint8Array, pattern: RegExp): void {
  expect(() => decodePngScaled(png)).toThrow(PngDecodeError);
  expect(() => decodePngScaled(png)).toThrow(pattern);
}

describe("decodePngScaled refuses bad data with PngDecodeError", () => {
  it("a well-formed PNG decodes (control for the cases below)", () => {
    const img = decodePngScaled(grayPngAround(deflateSync(rowsOf(16, 16))));
    expect([img.width, img.height, img.data[4]]).toEqual([16, 16, 16]);
  });

  it("a truncated zlib stream", () => {
    const z = deflateSync(rowsOf(16, 16));
    expectCorrupt(grayPngAround(z.subarray(0, z.length - 6)), /truncated/);
  });

  it("a wrong Adler-32", () => {
    const z = new Uint8Array(deflateSync(rowsOf(16, 16)));
    z[z.length - 1] = (z[z.length - 1] ?? 0) ^ 1;
    expectCorrupt(grayPngAround(z), /Adler-32/);
  });

  it("a stream that ends before the last row", () => {
    expectCorrupt(grayPngAround(deflateSync(rowsOf(16, 15))), /ends before the last row/);
  });

  it("more data than the header describes, and a bomb stops at the first excess", () => {
    expectCorrupt(grayPngAround(deflateSync(rowsOf(16, 17))), /more image data/);
    // 200 MB of zeros (~200 KB compressed) behind a 16x16 header.
    const bomb = deflateSync(new Uint8Array(200_000_000), { level: 9 });
    const t = performance.now();
    expectCorrupt(grayPngAround(bomb), /more image data/);
    expect(performance.now() - t).toBeLessThan(2000);
  });

  it("an unknown filter type", () => {
    expectCorrupt(grayPngAround(deflateSync(rowsOf(16, 16, 5))), /filter type 5/);
  });

  it("garbage instead of a zlib stream", () => {
    expectCorrupt(grayPngAround(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8])), /zlib|deflate/);
  });

  it("a bad CRC on IDAT, PLTE or tRNS", async () => {
    const z = deflateSync(rowsOf(16, 16));
    const badIdat = pngFile([
      pngChunk("IHDR", ihdr(16, 16, 8, 0)),
      pngChunk("IDAT", z, true),
      pngChunk("IEND", new Uint8Array(0)),
    ]);
    expectCorrupt(badIdat, /IDAT has a bad CRC/);
    const pal = pngFile([
      pngChunk("IHDR", ihdr(16, 16, 8, 3)),
      pngChunk("PLTE", new Uint8Array(256 * 3), true),
      pngChunk("IDAT", z),
      pngChunk("IEND", new Uint8Array(0)),
    ]);
    expectCorrupt(pal, /PLTE has a bad CRC/);
    const trns = pngFile([
      pngChunk("IHDR", ihdr(16, 16, 8, 0)),
      pngChunk("tRNS", new Uint8Array([0, 1]), true),
      pngChunk("IDAT", z),
      pngChunk("IEND", new Uint8Array(0)),
    ]);
    expectCorrupt(trns, /tRNS has a bad CRC/);
  });

  it("a palette index past the palette", async () => {
    const png = await syntheticPng(
      spec({
        colorType: 3,
        palette: new Uint8Array(4 * 3),
        row: (y, out) => {
          for (let x = 0; x < W; x++) out[x] = x === 30 && y === 20 ? 4 : x % 4;
        },
      }),
    );
    expectCorrupt(png, /palette index 4 is past its 4 entries/);
  });

  it("real streams from CompressionStream decode (the helper and the inflater agree)", async () => {
    const z = await syntheticScanlines(
      spec({
        row: (y, out) => {
          for (let x = 0; x < W; x++) out[x] = (x ^ y) & 255;
        },
      }),
    );
    const img = decodePngScaled(grayPngAround(z, W, H));
    expect(img.data[(5 * W + 9) * 4]).toBe(9 ^ 5);
  });
});

describe("ZlibInflater", () => {
  function inflateAll(z: Uint8Array, piece: number): Uint8Array {
    const pieces: Uint8Array[] = [];
    for (let o = 0; o < z.length; o += piece) pieces.push(z.subarray(o, o + piece));
    const inf = new ZlibInflater(pieces);
    const parts: Uint8Array[] = [];
    let total = 0;
    for (let c = inf.next(); c; c = inf.next()) {
      parts.push(c.slice());
      total += c.length;
    }
    expect(inf.done).toBe(true);
    const out = new Uint8Array(total);
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }

  it("inflates stored, fixed and dynamic blocks at every level and strategy", () => {
    let seed = 7;
    const rnd = (): number => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    for (const size of [0, 1, 300, 70_000, 400_000]) {
      const text = new Uint8Array(size).map(() => "ab  cdxyz\n".charCodeAt((rnd() * 10) | 0));
      const noise = new Uint8Array(size).map(() => (rnd() * 256) | 0);
      for (const data of [text, noise, new Uint8Array(size)]) {
        for (const level of [0, 1, 9]) {
          for (const strategy of [0, 1, 2, 3, 4]) {
            const z = deflateSync(data, { level, strategy });
            for (const piece of size > 100_000 ? [4096] : [1, 4096]) {
              expect(Buffer.from(inflateAll(z, piece)).equals(Buffer.from(data))).toBe(true);
            }
          }
        }
      }
    }
  }, 60_000);

  it("hands out at most 160 KiB per step whatever the ratio", () => {
    const z = deflateSync(new Uint8Array(50_000_000), { level: 9 });
    const inf = new ZlibInflater([z]);
    let most = 0;
    for (let c = inf.next(); c; c = inf.next()) most = Math.max(most, c.length);
    // The first step has no history to keep, so it may use the whole 32 + 128 KiB buffer.
    expect(most).toBeLessThanOrEqual(163840);
  });

  it("rejects a preset dictionary, a bad header and a distance before the start", () => {
    const dict = deflateSync(Buffer.from("hello hello"), {
      dictionary: Buffer.from("hello"),
    });
    expect(() => new ZlibInflater([dict]).next()).toThrow(/dictionary/);
    expect(() => new ZlibInflater([new Uint8Array([0x78, 0x00])]).next()).toThrow(InflateError);
    // Fixed block: literal 'a', then length 3 at distance 2 (only 1 byte of history).
    // Bits LSB first: BFINAL 1, BTYPE 01, 'a' = 0x91 (8 bits), 257 = 0000001 (7 bits), dist 1.
    const bits: number[] = [1, 1, 0];
    const code = (v: number, n: number): void => {
      for (let i = n - 1; i >= 0; i--) bits.push((v >> i) & 1);
    };
    code(0x30 + 0x61, 8);
    code(1, 7);
    code(1, 5);
    const bytes = [0x78, 0x01];
    for (let i = 0; i < bits.length; i += 8) {
      let b = 0;
      for (let k = 0; k < 8 && i + k < bits.length; k++) b |= (bits[i + k] ?? 0) << k;
      bytes.push(b);
    }
    expect(() => new ZlibInflater([new Uint8Array([...bytes, 0, 0, 0, 0])]).next()).toThrow(
      /before the start/,
    );
  });
});

describe("PNG in decodedSize and the memory model", () => {
  function header(w: number, h: number, colorType: number, interlace: number): HeaderProbe {
    const png = pngFile([
      pngChunk("IHDR", ihdr(w, h, 8, colorType, interlace)),
      pngChunk("IDAT", deflateSync(new Uint8Array(0))),
      pngChunk("IEND", new Uint8Array(0)),
    ]);
    const r = probeHeader(png);
    if (!r.ok) throw new Error(r.error.detail);
    return r.value;
  }
  const hintFor = (w: number, h: number) => {
    const fit = fitInside(w, h, 2048, 2048);
    return { minWidth: fit.width, minHeight: fit.height };
  };

  it("sizes a non-interlaced PNG by the box shrink and needs no WASM", () => {
    for (const [w, h, ct] of [
      [3840, 2160, 6],
      [6016, 3384, 6],
      [10000, 10000, 0],
    ] as const) {
      const probe = header(w, h, ct, 0);
      expect(probe.interlaced).toBe(false);
      const size = decodedSize(probe, hintFor(w, h));
      expect(size).toEqual(pngScaledSize(w, h, hintFor(w, h)));
      // A 5 MiB file: what a real 6K screenshot weighs.
      const m = estimateDecodeMemory(probe, 5 * 2 ** 20, size);
      expect(m.wasmBytes).toBe(0);
      expect(decodeMemoryProblem(probe, m)).toBeNull();
    }
  });

  it("holds an interlaced PNG to its full frame: 18 MP passes, 20 MP does not", () => {
    // Shrunk by 2, both frames live: 5 bytes a source pixel.
    const small = header(4500, 4000, 2, 1);
    expect(small.interlaced).toBe(true);
    const ok = estimateDecodeMemory(small, 2 ** 20, decodedSize(small, hintFor(4500, 4000)));
    expect(decodeMemoryProblem(small, ok)).toBeNull();
    const big = header(5000, 4000, 2, 1);
    const no = estimateDecodeMemory(big, 2 ** 20, decodedSize(big, hintFor(5000, 4000)));
    expect(decodeMemoryProblem(big, no)).toMatch(/interlaced/);
  });
});
