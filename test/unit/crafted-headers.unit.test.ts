import { describe, expect, it } from "vitest";
import { decodeGifFirstFrame } from "../../src/pipeline/gif-decode";
import { probeHeader } from "../../src/pipeline/probe";
import { join } from "./builders";

/** probeHeader's outcome as "ok" or the error code. */
function code(bytes: Uint8Array): string {
  const r = probeHeader(bytes);
  return r.ok ? "ok" : r.error.code;
}

function ascii4(s: string): number[] {
  return [...s].map((c) => c.charCodeAt(0));
}

function be(n: number, size: 2 | 4): number[] {
  return size === 2
    ? [(n >>> 8) & 255, n & 255]
    : [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
}

/** An ISOBMFF box with a 32-bit size. */
function box(type: string, ...parts: Uint8Array[]): Uint8Array {
  const body = join(...parts);
  return join(new Uint8Array([...be(8 + body.length, 4), ...ascii4(type)]), body);
}

/** A FullBox: version, 24-bit flags, then the payload. */
function fullBox(type: string, version: number, ...parts: Uint8Array[]): Uint8Array {
  return box(type, new Uint8Array([version, 0, 0, 0]), ...parts);
}

/**
 * iloc version 0 with the given field sizes and `items` entries of `extents` extents each;
 * every extent field is zero-filled, which is all the parser needs.
 */
function iloc(
  sizes: { offset: number; length: number; base: number },
  items: number,
  extents: number,
): Uint8Array {
  const extentBytes = sizes.offset + sizes.length;
  const entries: number[] = [];
  for (let i = 0; i < items; i++) {
    entries.push(
      ...be(i + 1, 2),
      0,
      0,
      ...new Array<number>(sizes.base).fill(0),
      ...be(extents, 2),
    );
    entries.push(...new Array<number>(extents * extentBytes).fill(0));
  }
  return fullBox(
    "iloc",
    0,
    new Uint8Array([
      (sizes.offset << 4) | sizes.length,
      sizes.base << 4,
      ...be(items, 2),
      ...entries,
    ]),
  );
}

/** A minimal AVIF: ftyp, then meta with pitm, the given iloc, and an ispe of 64x48. */
function avif(ilocBox: Uint8Array): Uint8Array {
  const ftyp = box(
    "ftyp",
    new Uint8Array([...ascii4("avif"), 0, 0, 0, 0, ...ascii4("avif"), ...ascii4("mif1")]),
  );
  const hdlr = fullBox(
    "hdlr",
    0,
    new Uint8Array([0, 0, 0, 0, ...ascii4("pict"), ...new Array<number>(13).fill(0)]),
  );
  const pitm = fullBox("pitm", 0, new Uint8Array(be(1, 2)));
  const ispe = fullBox("ispe", 0, new Uint8Array([...be(64, 4), ...be(48, 4)]));
  const iprp = box("iprp", box("ipco", ispe));
  return join(ftyp, fullBox("meta", 0, hdlr, pitm, ilocBox, iprp));
}

describe("crafted AVIF iloc", () => {
  it("accepts an ordinary iloc (the builder is sound)", () => {
    expect(code(avif(iloc({ offset: 4, length: 4, base: 0 }, 3, 1)))).toBe("ok");
    // Zero-width fields with one extent per item ("the whole file") are legal.
    expect(code(avif(iloc({ offset: 0, length: 0, base: 0 }, 3, 1)))).toBe("ok");
  });

  it("rejects zero-width extents repeated 65,535 times per item", () => {
    // 200 items x 65,535 free extents: ~1.2 kB on disk, 13 million objects before the fix.
    const file = avif(iloc({ offset: 0, length: 0, base: 0 }, 200, 65_535));
    expect(file.length).toBeLessThan(1400);
    expect(code(file)).toBe("corrupt_image");
  });

  it("rejects an iloc with 5000 items", () => {
    expect(code(avif(iloc({ offset: 0, length: 0, base: 0 }, 5000, 1)))).toBe("corrupt_image");
  });

  it("rejects more extents in total than the cap", () => {
    // Each extent takes 8 real bytes here, so only the total cap stops it.
    expect(code(avif(iloc({ offset: 4, length: 4, base: 0 }, 2, 2100)))).toBe("corrupt_image");
  });

  it("rejects an item count the box cannot hold", () => {
    const whole = iloc({ offset: 4, length: 4, base: 0 }, 3, 1);
    // Claim 3 items but keep only the first one's bytes (box size patched to match).
    const cut = whole.subarray(0, 8 + 4 + 2 + 2 + 14);
    const bytes = new Uint8Array(cut);
    bytes.set(be(bytes.length, 4), 0);
    expect(code(avif(bytes))).toBe("corrupt_image");
  });
});

function le(n: number, size: 2 | 3 | 4): number[] {
  const out: number[] = [];
  for (let i = 0; i < size; i++) out.push(Math.floor(n / 256 ** i) & 255);
  return out;
}

/**
 * A GIF89a with a 2-colour global table and one frame whose LZW data is clear, index 0, end:
 * one real pixel, the rest of the frame left to the decoder's "missing pixels" rule.
 */
function gif(
  screen: { w: number; h: number },
  frame: { x: number; y: number; w: number; h: number },
): Uint8Array {
  return new Uint8Array([
    ...ascii4("GIF8"),
    ...ascii4("9a"),
    ...le(screen.w, 2),
    ...le(screen.h, 2),
    0x80,
    0,
    0,
    ...[255, 0, 0, 0, 0, 255],
    0x2c,
    ...le(frame.x, 2),
    ...le(frame.y, 2),
    ...le(frame.w, 2),
    ...le(frame.h, 2),
    0,
    2, // LZW minimum code size
    2,
    0x44, // codes 4 (clear), 0, 5 (end) at 3 bits each
    0x01,
    0,
    0x3b,
  ]);
}

describe("crafted GIF frames larger than the logical screen", () => {
  it("reports the size the decoder will allocate for a huge first frame", () => {
    // 35 bytes: a 16x16 screen whose first frame is 30000x30000 (858 MB of RGBA). The pixel
    // limit must see 30000x30000, not 16x16.
    const file = gif({ w: 16, h: 16 }, { x: 0, y: 0, w: 30_000, h: 30_000 });
    expect(file.length).toBeLessThan(40);
    const r = probeHeader(file);
    expect(r.ok && [r.value.width, r.value.height]).toEqual([30_000, 30_000]);
  });

  it("probe and decoder agree when the first frame overhangs the screen", () => {
    const file = gif({ w: 4, h: 4 }, { x: 2, y: 2, w: 4, h: 4 });
    const probe = probeHeader(file);
    const pixels = decodeGifFirstFrame(file);
    expect(probe.ok && [probe.value.width, probe.value.height]).toEqual([6, 6]);
    expect(pixels.ok && [pixels.value.width, pixels.value.height]).toEqual([6, 6]);
    expect(pixels.ok && pixels.value.data.length).toBe(6 * 6 * 4);
  });

  it("probe and decoder agree on a zero logical screen", () => {
    const file = gif({ w: 0, h: 0 }, { x: 1, y: 1, w: 3, h: 2 });
    const probe = probeHeader(file);
    const pixels = decodeGifFirstFrame(file);
    expect(probe.ok && [probe.value.width, probe.value.height]).toEqual([4, 3]);
    expect(pixels.ok && [pixels.value.width, pixels.value.height]).toEqual([4, 3]);
  });

  it("still sizes an ordinary GIF by its screen", () => {
    const r = probeHeader(gif({ w: 16, h: 16 }, { x: 2, y: 2, w: 8, h: 8 }));
    expect(r.ok && [r.value.width, r.value.height]).toEqual([16, 16]);
  });
});

/** A RIFF chunk with its pad byte. */
function riffChunk(fourcc: string, payload: number[]): number[] {
  return [
    ...ascii4(fourcc),
    ...le(payload.length, 4),
    ...payload,
    ...(payload.length & 1 ? [0] : []),
  ];
}

/** A VP8L bitstream header (no real pixel data: only the header is read). */
function vp8l(w: number, h: number): number[] {
  return riffChunk("VP8L", [0x2f, ...le((w - 1) | ((h - 1) << 14), 4)]);
}

/** An animated WebP: VP8X canvas, ANIM, and one ANMF frame at (x, y) holding `inner`. */
function animatedWebp(
  canvas: { w: number; h: number },
  frame: { x: number; y: number; w: number; h: number },
  inner: number[],
): Uint8Array {
  const vp8x = [0x02, 0, 0, 0, ...le(canvas.w - 1, 3), ...le(canvas.h - 1, 3)];
  const anmf = [
    ...le(frame.x / 2, 3),
    ...le(frame.y / 2, 3),
    ...le(frame.w - 1, 3),
    ...le(frame.h - 1, 3),
    ...le(100, 3),
    0,
    ...inner,
  ];
  const body = [
    ...ascii4("WEBP"),
    ...riffChunk("VP8X", vp8x),
    ...riffChunk("ANIM", [0, 0, 0, 0, 0, 0]),
    ...riffChunk("ANMF", anmf),
  ];
  return new Uint8Array([...ascii4("RIFF"), ...le(body.length, 4), ...body]);
}

describe("crafted animated WebP frames larger than the canvas", () => {
  const canvas = { w: 16, h: 16 };

  it("accepts a frame that fits (the builder is sound)", () => {
    const file = animatedWebp(canvas, { x: 0, y: 0, w: 16, h: 16 }, vp8l(16, 16));
    expect(code(file)).toBe("ok");
    expect(code(animatedWebp(canvas, { x: 8, y: 4, w: 8, h: 12 }, vp8l(8, 12)))).toBe("ok");
  });

  it("rejects a first frame whose bitstream is far larger than the canvas", () => {
    // The decoder is handed this bitstream alone: 16383x16383 is 1 GB of RGBA.
    const file = animatedWebp(canvas, { x: 0, y: 0, w: 16, h: 16 }, vp8l(16_383, 16_383));
    expect(code(file)).toBe("corrupt_image");
  });

  it("rejects a frame placed past the canvas edge", () => {
    expect(code(animatedWebp(canvas, { x: 8, y: 0, w: 16, h: 16 }, vp8l(16, 16)))).toBe(
      "corrupt_image",
    );
    expect(code(animatedWebp(canvas, { x: 0, y: 0, w: 16, h: 17 }, vp8l(16, 16)))).toBe(
      "corrupt_image",
    );
  });

  it("rejects a frame bitstream that overhangs the canvas from its offset", () => {
    expect(code(animatedWebp(canvas, { x: 8, y: 8, w: 8, h: 8 }, vp8l(16, 16)))).toBe(
      "corrupt_image",
    );
  });
});
