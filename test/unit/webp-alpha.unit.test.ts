import sharp from "sharp";
import { describe, expect, it } from "vitest";
import {
  assembleAlphaWebp,
  encodeAlphaPayload,
  gradientFilter,
  huffmanLengths,
  prefixEncode,
  restoreAlpha,
  takeAlpha,
  vp8Payload,
} from "../../src/pipeline/webp-alpha";

/** The spec's prefix decoding (RFC 9649, 3.5.2.2). */
function prefixDecode(code: number, extra: number): number {
  if (code < 4) return code + 1;
  const extraBits = (code - 2) >> 1;
  return ((2 + (code & 1)) << extraBits) + extra + 1;
}

async function roundTrip(width: number, height: number, alphaAt: (x: number, y: number) => number) {
  const rgba = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      rgba.set([(x * 7) & 255, (y * 5) & 255, (x ^ y) & 255, alphaAt(x, y)], i);
    }
  }
  const original = rgba.slice();
  const alpha = takeAlpha(rgba, width);
  const rgb = rgba.slice();
  restoreAlpha(rgba, alpha);
  // Only hidden (alpha 0) pixels may change colour; alpha comes back exactly.
  for (let i = 0; i < rgba.length; i += 4) {
    if ((original[i + 3] ?? 0) > 0)
      expect(rgba.subarray(i, i + 4)).toEqual(original.subarray(i, i + 4));
    else expect(rgba[i + 3]).toBe(0);
  }
  const lossy = await sharp(Buffer.from(rgb), { raw: { width, height, channels: 4 } })
    .webp({ quality: 80 })
    .toBuffer();
  const vp8 = vp8Payload(new Uint8Array(lossy));
  if (!vp8) throw new Error("sharp wrote no VP8 chunk");
  const payload = encodeAlphaPayload(alpha, width, height);
  const file = assembleAlphaWebp(width, height, payload, vp8);
  // libvips decodes with libwebp: the reference decoder for the container and ALPH.
  const decoded = await sharp(file).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  expect(decoded.info.width).toBe(width);
  expect(decoded.info.height).toBe(height);
  const back = new Uint8Array(width * height);
  for (let p = 0; p < back.length; p++) back[p] = decoded.data[p * 4 + 3] ?? 0;
  return { alpha, back, payload };
}

describe("webp-alpha", () => {
  it("prefix-codes every length and distance the way the decoder reads them", () => {
    for (let v = 1; v <= 4096; v++) {
      const [code, bits, extra] = prefixEncode(v);
      expect(extra).toBeLessThan(2 ** bits);
      expect(prefixDecode(code, extra)).toBe(v);
    }
    expect(prefixEncode(4096)[0]).toBeLessThan(24);
  });

  it("limits code lengths to 15 even for skewed (Fibonacci) histograms", () => {
    const counts = new Uint32Array(40);
    let a = 1;
    let b = 1;
    for (let i = 0; i < counts.length; i++) {
      counts[i] = a;
      [a, b] = [b, Math.min(a + b, 2 ** 31)];
    }
    const lengths = huffmanLengths(counts, 15);
    expect(Math.max(...lengths)).toBeLessThanOrEqual(15);
    // Kraft equality: a complete code, which libwebp requires.
    expect(lengths.reduce((s, l) => s + 2 ** -l, 0)).toBeCloseTo(1, 12);
  });

  it("gradient filter predicts from left, above and above-left", () => {
    const plane = Uint8Array.from([10, 20, 30, 40]);
    expect([...gradientFilter(plane, 2, 2)]).toEqual([10, 10, 20, (40 - 40) & 255]);
  });

  it.each([
    ["hard mask", (x: number, y: number) => ((x - 40) ** 2 + (y - 30) ** 2 < 600 ? 255 : 0)],
    ["soft gradient", (x: number) => Math.min(255, x * 3)],
    ["noise", (x: number, y: number) => (x * 2654435761 + y * 40503) & 255],
    ["opaque with one hole", (x: number, y: number) => (x === 5 && y === 7 ? 0 : 255)],
  ] as const)("libwebp decodes the alpha of a %s exactly", async (_name, alphaAt) => {
    const { alpha, back } = await roundTrip(97, 61, alphaAt);
    expect(Buffer.from(back).equals(Buffer.from(alpha))).toBe(true);
  });

  it("codes a mask in far fewer bytes than its pixels", async () => {
    const { payload } = await roundTrip(400, 300, (x, y) =>
      (x - 200) ** 2 + (y - 150) ** 2 < 120 ** 2 ? 255 : 0,
    );
    expect(payload.length).toBeLessThan(400 * 300 * 0.02);
  });
});
