/// <reference types="vite/client" />
import avifDecFactory from "@jsquash/avif/codec/dec/avif_dec.js";
import avifEncFactory from "@jsquash/avif/codec/enc/avif_enc.js";
import { describe, expect, it } from "vitest";
import {
  type EmAvifDecoderModule,
  type EmEncoderModule,
  type EmscriptenFactory,
  toRgba,
  WasmMemoryMeter,
  withEmscripten,
} from "../../src/pipeline/codec-glue";
import type { RgbaImage } from "../../src/pipeline/codecs";
import { createWorkerdCodecs, WORKERD_CODEC_MODULES } from "../../src/pipeline/codecs-workerd";
import {
  DECODE_PEAK_BUDGET,
  decodeMemoryProblem,
  estimateDecodeMemory,
  WASM_MEMORY_BUDGET,
} from "../../src/pipeline/decode-memory";
import { decodedSize } from "../../src/pipeline/decode-size";
import { readBoxes, walkIsobmff } from "../../src/pipeline/parse-isobmff";
import { DEFAULT_TRANSFORM_OPTIONS } from "../../src/pipeline/presets";
import { probeHeader } from "../../src/pipeline/probe";
import { ftypBrands } from "../../src/pipeline/sniff";
import { transformImage } from "../../src/pipeline/transform";
import type { TransformOptions } from "../../src/pipeline/types";

// workerd has no fs: Vite inlines each fixture as a base64 data URL at bundle time.
const inlined = import.meta.glob<string>(["../fixtures/avif-large/*.avif", "../fixtures/avif/*"], {
  eager: true,
  query: "?url&inline",
  import: "default",
});

function fixture(file: string): Uint8Array {
  const url = inlined[`../fixtures/${file}`];
  if (!url) throw new Error(`${file} was not inlined`);
  return Uint8Array.from(atob(url.slice(url.indexOf(",") + 1)), (c) => c.charCodeAt(0));
}

const codecs = createWorkerdCodecs();
const avifDec = avifDecFactory as EmscriptenFactory<EmAvifDecoderModule>;
// No AVIF variants: their encoder is not what these tests measure and costs seconds.
const OPTIONS: TransformOptions = { ...DEFAULT_TRANSFORM_OPTIONS, avifPresets: [] };

/** libavif (jsquash's build) at full size: the reference decoder. */
async function decodeWithLibavif(bytes: Uint8Array): Promise<RgbaImage> {
  return withEmscripten(avifDec, WORKERD_CODEC_MODULES.avifDecoder, new WasmMemoryMeter(), (m) => {
    const r = m.decode(bytes, 8);
    if (!r) throw new Error("libavif decoded nothing");
    return toRgba(r);
  });
}

async function decode(bytes: Uint8Array): Promise<RgbaImage> {
  const r = await codecs.decode(bytes, "avif");
  if (!r.ok) throw new Error(r.error.detail);
  return r.value;
}

/** Mean absolute difference per RGBA channel over pixels visible in `ref`. */
function meanDiff(a: RgbaImage, ref: RgbaImage): number[] {
  expect([a.width, a.height]).toEqual([ref.width, ref.height]);
  const sums = [0, 0, 0, 0];
  let n = 0;
  for (let i = 0; i + 3 < ref.data.length; i += 4) {
    if ((ref.data[i + 3] ?? 0) === 0) continue;
    n++;
    for (let c = 0; c < 4; c++) {
      sums[c] = (sums[c] ?? 0) + Math.abs((a.data[i + c] ?? 0) - (ref.data[i + c] ?? 0));
    }
  }
  return sums.map((s) => s / Math.max(1, n));
}

/** scripts/make-large-avif.mjs draws the large fixtures with this. */
function largeAvifColor(u: number, v: number): [number, number, number] {
  if (u >= 0.1 && u < 0.3 && v >= 0.1 && v < 0.3) return [220, 40, 40];
  if (u >= 0.7 && u < 0.9 && v >= 0.1 && v < 0.3) return [40, 60, 220];
  if (u >= 0.4 && u < 0.6 && v >= 0.6 && v < 0.8) return [40, 200, 60];
  return [Math.round(40 + 180 * u), Math.round(40 + 180 * v), 128];
}

describe("large 8-bit 4:2:0 AVIF through avif-dav1d", () => {
  for (const [file, w, h] of [
    ["avif-large/4032x3024.avif", 4032, 3024],
    ["avif-large/6000x4000.avif", 6000, 4000],
  ] as const) {
    it(`accepts ${w}x${h} and makes every variant within the WASM budget`, async () => {
      const bytes = fixture(file);
      const probe = probeHeader(bytes);
      if (!probe.ok) throw new Error(probe.error.detail);
      expect(probe.value.avifPlaneBytes).toBe(1.5);

      codecs.memory.reset();
      const r = await transformImage(bytes, OPTIONS, codecs);
      if (!r.ok) throw new Error(r.error.detail);
      expect(codecs.memory.peakBytes).toBeLessThan(WASM_MEMORY_BUDGET);
      expect(r.value.variants.map((v) => `${v.name} ${v.format} ${v.width}`)).toEqual([
        "large webp 2048",
        "large jpeg 2048",
        "medium webp 1024",
        "medium jpeg 1024",
        "thumb webp 256",
        "thumb jpeg 256",
      ]);
      expect(r.value.original?.format).toBe("avif");
    });

    it(`decodes ${w}x${h} shrunk on load, under its estimate, with the drawn colours`, async () => {
      const bytes = fixture(file);
      const probe = probeHeader(bytes);
      if (!probe.ok) throw new Error(probe.error.detail);
      const hint = { minWidth: 2048, minHeight: Math.round((h * 2048) / w) };
      const size = decodedSize(probe.value, hint);
      const estimate = estimateDecodeMemory(probe.value, bytes.length, size);
      expect(decodeMemoryProblem(probe.value, estimate)).toBeNull();

      codecs.memory.reset();
      const r = await codecs.decode(bytes, "avif", hint);
      if (!r.ok) throw new Error(r.error.detail);
      const img = r.value;
      const peak = codecs.memory.peakBytes;
      expect([img.width, img.height]).toEqual([size.width, size.height]);
      // Measured 26.8 MiB (12 MP) and 50.1 MiB (24 MP); libavif needed 264 MiB at 12 MP.
      expect(peak).toBeLessThanOrEqual(estimate.wasmBytes);
      expect(peak / (w * h)).toBeLessThan(2.5);
      expect(peak + estimate.jsBytes).toBeLessThan(DECODE_PEAK_BUDGET);

      // Flat block centres and gradient points, averaged over 5x5 decoded pixels.
      for (const [u, v] of [
        [0.2, 0.2],
        [0.8, 0.2],
        [0.5, 0.7],
        [0.05, 0.5],
        [0.95, 0.95],
        [0.35, 0.9],
      ] as const) {
        const cx = Math.round(u * img.width);
        const cy = Math.round(v * img.height);
        const mean = [0, 0, 0];
        for (let dy = -2; dy <= 2; dy++) {
          for (let dx = -2; dx <= 2; dx++) {
            const i = ((cy + dy) * img.width + cx + dx) * 4;
            for (let c = 0; c < 3; c++) mean[c] = (mean[c] ?? 0) + (img.data[i + c] ?? 0) / 25;
          }
        }
        const want = largeAvifColor(u, v);
        for (let c = 0; c < 3; c++) {
          expect(
            Math.abs((mean[c] ?? 0) - (want[c] ?? 0)),
            `(${u},${v}) ${mean} vs ${want}`,
          ).toBeLessThan(6);
        }
      }
    });
  }

  it("refuses 9000x6000 by the memory model, before decoding", async () => {
    const bytes = fixture("avif-large/6000x4000.avif").slice();
    // Rewrite the ispe property: the header is all the model reads.
    const at = findBox(bytes, "ispe");
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    view.setUint32(at + 4, 9000);
    view.setUint32(at + 8, 6000);
    const r = await transformImage(bytes, OPTIONS, codecs);
    expect(r.ok ? "ready" : r.error.code).toBe("too_many_pixels");
    expect(r.ok ? "" : r.error.detail).toMatch(/dav1d holds the YUV planes/);
  });

  it("refuses a 12 MP AVIF whose original would need a whole-frame re-encode", async () => {
    const bytes = fixture("avif-large/4032x3024.avif");
    // An Exif extent of unknown length: strip.ts cannot blank it, so the original would be
    // re-encoded whole as WebP (~14 bytes a pixel of WASM: 160 MiB here).
    const layout = walkIsobmff(bytes, ftypBrands(bytes) ?? []);
    if (!layout.ok) throw new Error(layout.error.detail);
    const exif = layout.value.items.find((i) => i.type === "Exif");
    const extent = layout.value.iloc.find((l) => l.id === exif?.id)?.extents[0];
    if (!extent) throw new Error("fixture has no Exif extent");
    const odd = bytes.slice();
    odd.fill(0, extent.lengthFieldAt, extent.lengthFieldAt + layout.value.ilocLengthSize);
    const r = await transformImage(odd, OPTIONS, codecs);
    expect(r.ok ? "ready" : r.error.code).toBe("too_many_pixels");
    // Without an original to make, the same file is fine.
    const variantsOnly = await transformImage(odd, { ...OPTIONS, original: false }, codecs);
    expect(variantsOnly.ok).toBe(true);
  });
});

/** Data offset of the first box of `type` anywhere in the meta tree (property boxes). */
function findBox(b: Uint8Array, type: string, start = 0, end = b.length, depth = 0): number {
  const boxes = readBoxes(b, start, end, true);
  if (!boxes.ok) return -1;
  for (const box of boxes.value) {
    if (box.type === type) return box.data;
    // meta is a FullBox (4 bytes of version and flags before its children).
    const skip = box.type === "meta" ? 4 : 0;
    if (depth < 4 && ["meta", "iprp", "ipco"].includes(box.type)) {
      const inner = findBox(b, type, box.data + skip, box.end, depth + 1);
      if (inner >= 0) return inner;
    }
  }
  return -1;
}

describe("avif-dav1d colours against libavif", () => {
  /** A smooth 256x192 image, AVIF-encoded here by the codec set (libavif: 4:2:0, nclx 6 full). */
  async function encoded(): Promise<Uint8Array> {
    const w = 256;
    const h = 192;
    const data = new Uint8Array(w * h * 4);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const i = (y * w + x) * 4;
        data[i] = 30 + Math.round((200 * x) / w);
        data[i + 1] = 220 - Math.round((180 * y) / h);
        data[i + 2] = 60 + Math.round((120 * (x + y)) / (w + h));
        data[i + 3] = 255;
      }
    }
    const r = await codecs.encode({ width: w, height: h, data }, "avif", { quality: 80 });
    if (!r.ok) throw new Error(r.error.detail);
    return r.value;
  }

  it("reads every nclx matrix and range as libavif does", async () => {
    const base = await encoded();
    const colr = findBox(base, "colr");
    expect(String.fromCharCode(...base.subarray(colr, colr + 4))).toBe("nclx");
    const decoded = new Map<string, RgbaImage>();
    // BT.709, BT.601 (full and limited), unspecified, BT.2020 NCL, FCC, SMPTE 240M.
    for (const [matrix, full] of [
      [6, true],
      [6, false],
      [1, true],
      [1, false],
      [2, true],
      [9, true],
      [4, true],
      [7, false],
    ] as const) {
      const bytes = base.slice();
      new DataView(bytes.buffer).setUint16(colr + 8, matrix);
      bytes[colr + 10] = full ? 0x80 : 0;
      const probe = probeHeader(bytes);
      expect(probe.ok && probe.value.avifPlaneBytes).toBe(1.5);
      const ours = await decode(bytes);
      const ref = await decodeWithLibavif(bytes);
      const diff = meanDiff(ours, ref);
      for (const d of diff) expect(d, `matrix ${matrix} full ${full}: ${diff}`).toBeLessThan(0.5);
      decoded.set(`${matrix} ${full}`, ours);
    }
    // The labels matter: limited range and another matrix really change the colours.
    const full601 = decoded.get("6 true");
    const limited601 = decoded.get("6 false");
    const full709 = decoded.get("1 true");
    if (!full601 || !limited601 || !full709) throw new Error("missing decodes");
    expect(Math.max(...meanDiff(limited601, full601))).toBeGreaterThan(5);
    expect(Math.max(...meanDiff(full709, full601))).toBeGreaterThan(2);
  });

  it("matches libavif on the corpus AVIFs it takes (alpha item, irot/imir, 12-bit)", async () => {
    for (const file of ["avif/alpha.avif", "avif/irot-imir.avif", "avif/exif-xmp.avif"]) {
      const bytes = fixture(file);
      const probe = probeHeader(bytes);
      expect(probe.ok && probe.value.avifPlaneBytes, file).toBeGreaterThan(0);
      const diff = meanDiff(await decode(bytes), await decodeWithLibavif(bytes));
      for (const d of diff) expect(d, `${file}: ${diff}`).toBeLessThan(0.5);
    }
  });

  it("matches libavif on a 10-bit 4:2:0 AVIF with a 10-bit alpha item", async () => {
    const bytes = await tenBitWithAlpha(320, 240);
    const probe = probeHeader(bytes);
    // 4:2:0 at 2 bytes a sample, plus the alpha plane's 2.
    expect(probe.ok && probe.value.avifPlaneBytes).toBe(5);
    const ours = await decode(bytes);
    const diff = meanDiff(ours, await decodeWithLibavif(bytes));
    for (const d of diff) expect(d, `${diff}`).toBeLessThan(0.5);
    // The alpha gradient survived the 10-bit path: opaque top left, ~55 bottom right.
    expect(ours.data[3]).toBeGreaterThan(250);
    expect(ours.data[ours.data.length - 1]).toBeLessThan(70);
  });
});

/** libavif's encoder at 10 bits takes 16-bit samples; the codec set only encodes 8-bit. */
async function tenBitWithAlpha(w: number, h: number): Promise<Uint8Array> {
  const samples = new Uint16Array(w * h * 4);
  const scale = 1023 / 255;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 4;
      samples[i] = Math.round(scale * (30 + (200 * x) / w));
      samples[i + 1] = Math.round(scale * (220 - (180 * y) / h));
      samples[i + 2] = Math.round(scale * (60 + (120 * (x + y)) / (w + h)));
      samples[i + 3] = Math.round(scale * (255 - (200 * x * y) / (w * h)));
    }
  }
  const enc = avifEncFactory as EmscriptenFactory<EmEncoderModule<Record<string, unknown>>>;
  const options = {
    quality: 70,
    qualityAlpha: -1,
    denoiseLevel: 0,
    tileRowsLog2: 0,
    tileColsLog2: 0,
    speed: 8,
    subsample: 1,
    chromaDeltaQ: false,
    sharpness: 0,
    enableSharpYUV: false,
    tune: 0,
    bitDepth: 10,
    lossless: false,
  };
  const out = await withEmscripten(
    enc,
    WORKERD_CODEC_MODULES.avifEncoder,
    new WasmMemoryMeter(),
    (m) => m.encode(new Uint8Array(samples.buffer), w, h, options)?.slice(),
  );
  if (!out) throw new Error("libavif encoded nothing");
  return out;
}
