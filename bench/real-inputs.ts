/**
 * `npm run bench` (part 2): the uploads an image host actually gets — phone photos, 4K/5K
 * screenshots, camera WebP/AVIF, cutouts, scans — through transformImage's primary stage, with
 * acceptance, time against sharp (1 thread, same outputs) and peak WASM memory. Inputs are made
 * from the photo mosaic of bench/photos.ts and cached in bench/out/inputs.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import sharp from "sharp";
import { decodeMemoryProblem, estimateDecodeMemory } from "../src/pipeline/decode-memory";
import { decodedSize } from "../src/pipeline/decode-size";
import { DEFAULT_TRANSFORM_OPTIONS } from "../src/pipeline/presets";
import { probeHeader } from "../src/pipeline/probe";
import { fitInside, transformImage } from "../src/pipeline/transform";
import type { OutputFormat, TransformOptions } from "../src/pipeline/types";
import { syntheticHeicGrid } from "../test/helpers/synthetic-heic";
import { createNodeCodecs } from "./node-codecs";
import { ensureInputs } from "./photos";
import { type Output, timeSharp, warmUp } from "./sharp-ref";

const MIB = 2 ** 20;
const OUT = path.join(import.meta.dirname, "out", "inputs");
/** The primary stage (what `ready` waits for): WebP + JPEG/PNG for every preset. */
const PRIMARY: TransformOptions = { ...DEFAULT_TRANSFORM_OPTIONS, avifPresets: [] };

interface Case {
  label: string;
  /** The outcome before this work (issue "real inputs", measured the same way). */
  before: string;
  file: string;
  /** Null when this machine cannot make the input (no HEVC encoder): the row is skipped. */
  make: (photo: string) => Promise<Buffer | null>;
}

function photoAt(photo: string, w: number, h: number) {
  return sharp(photo).resize(w, h, { fit: "fill", kernel: "lanczos3" });
}

/** A screenshot: flat UI chrome, a photo panel and rows of "text" (dark bars). */
async function screenshot(photo: string, w: number, h: number, alpha: boolean): Promise<Buffer> {
  const panel = await photoAt(photo, Math.round(w * 0.55), Math.round(h * 0.6)).toBuffer();
  const lines: { input: Buffer; left: number; top: number }[] = [];
  const bar = await sharp({
    create: { width: Math.round(w * 0.3), height: 10, channels: 3, background: "#333" },
  })
    .png()
    .toBuffer();
  for (let y = Math.round(h * 0.12); y < h * 0.9; y += 28) {
    lines.push({ input: bar, left: Math.round(w * 0.64), top: y });
  }
  const base = sharp({ create: { width: w, height: h, channels: 3, background: "#f3f4f6" } })
    .composite([{ input: panel, left: Math.round(w * 0.05), top: Math.round(h * 0.12) }, ...lines])
    .png();
  if (!alpha) return base.toBuffer();
  // A window capture: transparent margin around the window, as macOS writes them.
  const { data, info } = await sharp(await base.toBuffer())
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const m = Math.round(Math.min(w, h) * 0.04);
  for (let y = 0; y < info.height; y++) {
    for (let x = 0; x < info.width; x++) {
      if (x < m || y < m || x >= info.width - m || y >= info.height - m) {
        data[(y * info.width + x) * 4 + 3] = 0;
      }
    }
  }
  return sharp(data, { raw: { width: info.width, height: info.height, channels: 4 } })
    .png()
    .toBuffer();
}

async function cutout(photo: string, size: number): Promise<Buffer> {
  const { data } = await photoAt(photo, size, size)
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const d = Math.hypot((x - size / 2) / (size * 0.42), (y - size / 2) / (size * 0.35));
      data[(y * size + x) * 4 + 3] =
        d < 0.97 ? 255 : d > 1 ? 0 : Math.round(255 * ((1 - d) / 0.03));
    }
  }
  return sharp(data, { raw: { width: size, height: size, channels: 4 } })
    .png()
    .toBuffer();
}

/** A scanned text page: 1-bit, black "words" on white. */
async function scan(size: number): Promise<Buffer> {
  const px = Buffer.alloc(size * size, 255);
  for (let line = 0; line * 60 + 300 < size - 300; line++) {
    const top = 300 + line * 60;
    for (let x = 300; x < size - 300; ) {
      const word = 40 + ((x * 7 + line * 13) % 160);
      for (let y = top; y < top + 30; y++)
        px.fill(0, y * size + x, y * size + Math.min(x + word, size - 300));
      x += word + 25;
    }
  }
  return sharp(px, { raw: { width: size, height: size, channels: 1 } })
    .png({ palette: true, colours: 2 })
    .toBuffer();
}

/** A single-image HEIC from Debian's heif-enc (libheif-examples), when it is installed. */
async function heicSingle(photo: string, w: number, h: number): Promise<Buffer | null> {
  const png = path.join(OUT, `heic-src-${w}x${h}.png`);
  const heic = path.join(OUT, `heic-single-${w}x${h}.heic`);
  await photoAt(photo, w, h).png().toFile(png);
  try {
    execFileSync("heif-enc", ["-q", "50", "-o", heic, png], { stdio: "ignore" });
  } catch {
    return null;
  }
  return readFile(heic);
}

/**
 * A phone-style grid (512 px HEVC tiles) from the test suite's builder: every tile is the same
 * committed 512x512 tile, padded to a phone file's size. Decoding repeats one tile, so its time
 * flatters; memory is what a real grid of that size and file size needs.
 */
async function heicGrid(width: number, height: number, fileBytes: number): Promise<Buffer> {
  const tile = new Uint8Array(
    await readFile(
      path.join(import.meta.dirname, "..", "test", "fixtures", "heic", "grid-tile-512.heic"),
    ),
  );
  const bare = syntheticHeicGrid(tile, { width, height });
  return Buffer.from(syntheticHeicGrid(tile, { width, height, padBytes: fileBytes - bare.length }));
}

const jpeg =
  (w: number, h: number, progressive = false) =>
  (photo: string) =>
    photoAt(photo, w, h).jpeg({ quality: 92, chromaSubsampling: "4:2:0", progressive }).toBuffer();

const CASES: Case[] = [
  {
    label: "JPEG 5712x4284 (24.5 MP phone default)",
    before: "refused (24 MP cap)",
    file: "phone-24mp.jpg",
    make: jpeg(5712, 4284),
  },
  {
    label: "HEIC grid 5712x4284 (24 MP phone)*",
    before: "refused (179 MiB est.)",
    file: "phone-24mp-grid.heic",
    make: () => heicGrid(5712, 4284, 4_000_000),
  },
  {
    label: "HEIC grid 8064x6048 (48 MP phone)*",
    before: "refused (355 MiB est.)",
    file: "phone-48mp-grid.heic",
    make: () => heicGrid(8064, 6048, 8_000_000),
  },
  {
    label: "HEIC grid 4032x3024 (12 MP phone)*",
    before: "accepted",
    file: "phone-12mp-grid.heic",
    make: () => heicGrid(4032, 3024, 2_500_000),
  },
  {
    label: "HEIC single 4032x3024 (heif-enc)",
    before: "accepted",
    file: "single-12mp.heic",
    make: (p) => heicSingle(p, 4032, 3024),
  },
  ...(
    [
      [1920, 1080, "accepted"],
      [2560, 1440, "accepted"],
      [3840, 2160, "refused"],
      [5120, 2880, "refused"],
      [6016, 3384, "refused"],
    ] as const
  ).flatMap(([w, h, before]) =>
    [false, true].map((alpha) => ({
      label: `PNG screenshot ${w}x${h} ${alpha ? "RGBA" : "RGB"}`,
      before,
      file: `screen-${w}x${h}-${alpha ? "rgba" : "rgb"}.png`,
      make: (photo: string) => screenshot(photo, w, h, alpha),
    })),
  ),
  {
    label: "WebP 4000x3000 lossy",
    before: "refused",
    file: "camera-12mp.webp",
    make: (p) => photoAt(p, 4000, 3000).webp({ quality: 85 }).toBuffer(),
  },
  {
    label: "WebP 6000x4000 lossy",
    before: "refused",
    file: "camera-24mp.webp",
    make: (p) => photoAt(p, 6000, 4000).webp({ quality: 85 }).toBuffer(),
  },
  // Phones and cameras export 4:2:0; sharp's own default is 4:4:4 (twice the chroma planes).
  ...(
    [
      [4032, 3024, "4:2:0", "12mp"],
      [6000, 4000, "4:2:0", "24mp"],
      [4032, 3024, "4:4:4", "12mp-444"],
      [6000, 4000, "4:4:4", "24mp-444"],
    ] as const
  ).map(([w, h, chroma, name]) => ({
    label: `AVIF ${w}x${h} 8-bit ${chroma}`,
    before: "refused",
    file: `camera-${name}-q50.avif`,
    make: (p: string) =>
      photoAt(p, w, h).avif({ quality: 50, effort: 4, chromaSubsampling: chroma }).toBuffer(),
  })),
  {
    label: "JPEG baseline 12 MP",
    before: "accepted",
    file: "baseline-12mp.jpg",
    make: jpeg(4000, 3000),
  },
  {
    label: "JPEG baseline 24 MP",
    before: "accepted",
    file: "baseline-24mp.jpg",
    make: jpeg(6000, 4000),
  },
  {
    label: "JPEG baseline 8064x6048 (48 MP)",
    before: "refused (24 MP cap)",
    file: "baseline-48mp.jpg",
    make: jpeg(8064, 6048),
  },
  {
    label: "JPEG baseline 8160x6120 (50 MP)",
    before: "refused (24 MP cap)",
    file: "baseline-50mp.jpg",
    make: jpeg(8160, 6120),
  },
  {
    label: "JPEG baseline 10000x10000 (100 MP)",
    before: "refused (24 MP cap)",
    file: "baseline-100mp.jpg",
    make: jpeg(10000, 10000),
  },
  {
    label: "JPEG progressive 12 MP",
    before: "accepted",
    file: "progressive-12mp.jpg",
    make: jpeg(4000, 3000, true),
  },
  {
    label: "JPEG progressive 24 MP",
    before: "refused",
    file: "progressive-24mp.jpg",
    make: jpeg(6000, 4000, true),
  },
  {
    label: "JPEG progressive 48 MP",
    before: "refused",
    file: "progressive-48mp.jpg",
    make: jpeg(8064, 6048, true),
  },
  {
    label: "PNG RGBA 2048x2048 cutout",
    before: "accepted, WebP encode peak 126-151 MiB",
    file: "cutout-2048.png",
    make: (p) => cutout(p, 2048),
  },
  {
    label: "PNG 1-bit 10000x10000 scan",
    before: "refused",
    file: "scan-100mp.png",
    make: () => scan(10000),
  },
];

async function ensure(c: Case, photo: string): Promise<Buffer | null> {
  const file = path.join(OUT, c.file);
  if (!existsSync(file)) {
    const made = await c.make(photo);
    if (!made) return null;
    await writeFile(file, made);
  }
  return readFile(file);
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const inputs = await ensureInputs();
  const photo = inputs.files.find((f) => f.label === "24MP")?.path;
  if (!photo) throw new Error("no 24 MP photo input");
  const codecs = await createNodeCodecs();
  await warmUp(await readFile(photo), (b) => transformImage(b, PRIMARY, codecs));
  const rows: Record<string, unknown>[] = [];
  console.log(`\nreal inputs (primary stage; 1 run each; sharp 1 thread, same outputs)`);
  console.log(
    `${"input".padEnd(40)} ${"before".padEnd(22)} now              ms   sharp  ratio  wasm MiB  est MiB (wasm/all)`,
  );
  for (const c of CASES) {
    const input = await ensure(c, photo);
    if (!input) {
      console.log(`${c.label.padEnd(40)} skipped: no encoder for it on this machine`);
      continue;
    }
    const bytes = new Uint8Array(input);
    const probed = probeHeader(bytes);
    let est = "";
    if (probed.ok) {
      const p = probed.value;
      const fit = fitInside(p.width, p.height, 2048, 2048);
      const m = estimateDecodeMemory(
        p,
        bytes.length,
        decodedSize(p, { minWidth: fit.width, minHeight: fit.height }),
      );
      est = `${(m.wasmBytes / MIB).toFixed(0)}/${((m.wasmBytes + m.jsBytes) / MIB).toFixed(0)}${decodeMemoryProblem(p, m) ? " over" : ""}`;
    }
    codecs.memory.reset();
    const t = performance.now();
    const r = await transformImage(bytes, PRIMARY, codecs);
    const ms = performance.now() - t;
    const peak = codecs.memory.peakBytes / MIB;
    let sharpMs = Number.NaN;
    if (r.ok) {
      const outputs: Output[] = r.value.variants.map((v) => ({
        name: v.name,
        format: v.format as OutputFormat,
        width: v.width,
        height: v.height,
        bytes: v.bytes.length,
      }));
      try {
        sharpMs = (await timeSharp(input, outputs, PRIMARY, 1, 1)).ms;
      } catch {
        // sharp's prebuilt libvips has no HEVC decoder: no reference time for HEIC.
      }
    }
    const now = r.ok ? "accepted" : r.error.code;
    console.log(
      `${c.label.padEnd(40)} ${c.before.slice(0, 22).padEnd(22)} ${now.padEnd(15)} ${ms.toFixed(0).padStart(6)} ${Number.isNaN(sharpMs) ? "     -" : sharpMs.toFixed(0).padStart(6)}  ${Number.isNaN(sharpMs) ? "    -" : `${(ms / sharpMs).toFixed(2)}x`.padStart(5)}  ${peak.toFixed(1).padStart(8)}  ${est}`,
    );
    if (!r.ok) console.log(`   ${r.error.detail}`);
    rows.push({
      input: c.label,
      before: c.before,
      now,
      ms: Math.round(ms),
      sharp1Ms: Math.round(sharpMs),
      peakWasmMiB: Number(peak.toFixed(1)),
      estimate: est,
      inputMiB: Number((input.length / MIB).toFixed(2)),
    });
  }
  sharp.concurrency(0);
  console.log("* grids repeat one committed 512 px tile: memory is real, decode time flatters");
  console.log(JSON.stringify({ bench: "real-inputs", rows }));
}

await main();
