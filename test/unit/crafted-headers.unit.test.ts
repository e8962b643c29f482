import { describe, expect, it } from "vitest";
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
