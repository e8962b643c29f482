import { describe, expect, it } from "vitest";
import { boxShrinkSize, RowShrinker } from "../../src/pipeline/row-shrink";

function shrinkAll(w: number, h: number, f: number, px: (x: number, y: number) => number[]) {
  const s = new RowShrinker(w, h, f);
  const row = new Uint8Array(w * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) row.set(px(x, y), x * 4);
    s.push(row);
  }
  return s.finish();
}

describe("boxShrinkSize", () => {
  it("picks the largest integer factor that still covers the hint", () => {
    expect(boxShrinkSize(8064, 6048, { minWidth: 2048, minHeight: 1536 })).toEqual({
      width: 2016 + 672,
      height: 2016,
      factor: 3,
    });
    expect(boxShrinkSize(3840, 2160, { minWidth: 2048, minHeight: 1152 })).toEqual({
      width: 3840,
      height: 2160,
      factor: 1,
    });
    expect(boxShrinkSize(100, 100, undefined).factor).toBe(1);
  });
});

describe("RowShrinker", () => {
  it("averages f x f blocks, with partial blocks at the right and bottom edges", () => {
    const out = shrinkAll(5, 3, 2, (x, y) => [x * 10, y * 10, 7, 255]);
    expect(out.width).toBe(3);
    expect(out.height).toBe(2);
    // Block (0,0): x 0-1, y 0-1 -> r 5, g 5. Block (2,1): x 4, y 2 -> r 40, g 20.
    expect([...out.data.subarray(0, 4)]).toEqual([5, 5, 7, 255]);
    expect([...out.data.subarray(20, 24)]).toEqual([40, 20, 7, 255]);
  });

  it("weights colour by alpha so transparent pixels do not darken edges", () => {
    // Left column opaque red, right column fully transparent black.
    const out = shrinkAll(2, 2, 2, (x) => (x === 0 ? [255, 0, 0, 255] : [0, 0, 0, 0]));
    expect([...out.data]).toEqual([255, 0, 0, 128]);
  });

  it("refuses extra rows and an unfinished frame", () => {
    const s = new RowShrinker(2, 1, 1);
    expect(() => s.finish()).toThrow(RangeError);
    s.push(new Uint8Array(8));
    expect(() => s.push(new Uint8Array(8))).toThrow(RangeError);
  });
});
