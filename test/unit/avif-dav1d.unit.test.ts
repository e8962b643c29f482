import sharp from "sharp";
import { beforeAll, describe, expect, it } from "vitest";
import { createNodeCodecs } from "../../bench/node-codecs";
import type { Codecs, RgbaImage } from "../../src/pipeline/codecs";
import { probeHeader } from "../../src/pipeline/probe";
import { boxShrinkSize, RowShrinker } from "../../src/pipeline/row-shrink";

const W = 1200;
const H = 900;

/** Photo-like content: smooth gradients and soft discs (no single-pixel chroma detail). */
function photo(channels: 3 | 4): Buffer {
  const raw = Buffer.alloc(W * H * channels);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const d1 = Math.hypot(x - 300, y - 300) / 200;
      const d2 = Math.hypot(x - 850, y - 600) / 250;
      const i = (y * W + x) * channels;
      raw[i] = Math.round(60 + 120 * (x / W) + 70 * Math.exp(-d1 * d1));
      raw[i + 1] = Math.round(50 + 150 * (y / H) * Math.exp(-d2 * d2) + 30 * (x / W));
      raw[i + 2] = Math.round(200 - 120 * (y / H) + 40 * Math.exp(-d1 * d1));
      if (channels === 4) raw[i + 3] = Math.round(255 - 200 * (x / W) * (y / H));
    }
  }
  return raw;
}

/** Mean absolute difference per channel, over pixels whose reference alpha is not 0. */
function meanDiff(a: Uint8Array, ref: Uint8Array): number[] {
  const sums = [0, 0, 0, 0];
  let n = 0;
  for (let i = 0; i + 3 < ref.length; i += 4) {
    if ((ref[i + 3] ?? 0) === 0) continue;
    n++;
    for (let c = 0; c < 4; c++)
      sums[c] = (sums[c] ?? 0) + Math.abs((a[i + c] ?? 0) - (ref[i + c] ?? 0));
  }
  return sums.map((s) => s / Math.max(1, n));
}

async function sharpRgba(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await sharp(Buffer.from(bytes)).ensureAlpha().raw().toBuffer());
}

let codecs: Codecs;
let opaque: Uint8Array;
let transparent: Uint8Array;

beforeAll(async () => {
  codecs = await createNodeCodecs();
  const avif = { quality: 60, chromaSubsampling: "4:2:0", effort: 2 } as const;
  opaque = new Uint8Array(
    await sharp(photo(3), { raw: { width: W, height: H, channels: 3 } })
      .avif(avif)
      .toBuffer(),
  );
  transparent = new Uint8Array(
    await sharp(photo(4), { raw: { width: W, height: H, channels: 4 } })
      .avif(avif)
      .toBuffer(),
  );
}, 60_000);

async function decode(bytes: Uint8Array, hint?: { minWidth: number; minHeight: number }) {
  const r = await codecs.decode(bytes, "avif", hint);
  if (!r.ok) throw new Error(r.error.detail);
  return r.value;
}

describe("AVIF through avif-dav1d", () => {
  it("takes sharp's 8-bit 4:2:0 AVIFs (with and without alpha)", () => {
    for (const [bytes, planes] of [
      [opaque, 1.5],
      [transparent, 2.5],
    ] as const) {
      const p = probeHeader(bytes);
      expect(p.ok && p.value.avifPlaneBytes).toBe(planes);
    }
  });

  it("decodes to sharp's colours at full size (matrix and range from the file)", async () => {
    const img = await decode(opaque);
    expect([img.width, img.height]).toEqual([W, H]);
    const diff = meanDiff(img.data, await sharpRgba(opaque));
    for (const d of diff) expect(d).toBeLessThan(2);
  });

  it("decodes the alpha item to sharp's alpha and colours", async () => {
    const img = await decode(transparent);
    const ref = await sharpRgba(transparent);
    const diff = meanDiff(img.data, ref);
    for (const d of diff) expect(d).toBeLessThan(2);
    // The alpha really varies (255 at the top left, 55 at the bottom right).
    expect(img.data[3]).toBeGreaterThan(250);
    expect(img.data[img.data.length - 1]).toBeLessThan(70);
  });

  it("box-shrinks on load exactly as RowShrinker does on the full frame", async () => {
    const hint = { minWidth: 500, minHeight: 375 };
    const size = boxShrinkSize(W, H, hint);
    expect(size.factor).toBe(2);
    for (const bytes of [opaque, transparent]) {
      const small = await decode(bytes, hint);
      expect([small.width, small.height]).toEqual([size.width, size.height]);
      const full: RgbaImage = await decode(bytes);
      const shrinker = new RowShrinker(W, H, size.factor);
      for (let y = 0; y < H; y++) shrinker.push(full.data, y * W * 4);
      const ref = shrinker.finish();
      let worst = 0;
      for (let i = 0; i < ref.data.length; i++) {
        worst = Math.max(worst, Math.abs((ref.data[i] ?? 0) - (small.data[i] ?? 0)));
      }
      // Only rounding of the weighted means may differ.
      expect(worst).toBeLessThanOrEqual(1);
    }
  });
});
