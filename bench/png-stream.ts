/**
 * PNG shrink-on-load in Node: JS memory peak and time of png-stream.ts against the memory
 * model (decode-memory.ts) and against sharp resizing the same file to 2048 px.
 *
 *   flock /tmp/image-host-tests.lock node --expose-gc --import tsx bench/png-stream.ts
 *
 * The inputs come from test/helpers/synthetic-png.ts (the processor test's screenshots and
 * scan). Memory is V8's heapUsed + arrayBuffers above a gc()'d baseline, sampled every 32
 * source rows (through RowShrinker.push) and once after the decode, before any gc.
 *
 * 2026-12-02, this 2-core machine, Node 20.20, sharp with concurrency(1) (the Worker has one
 * thread), median of 3; JS peak is the largest of 3 runs, "model" the estimate without the
 * input copies (decode-memory.ts):
 *   3840x2160 RGB    0.28 MiB -> 3840x2160  peak 36.5 MiB (model 37.9)  564 ms, sharp  87 ms
 *   3840x2160 RGBA   0.31 MiB -> 3840x2160  peak 33.5 MiB (model 37.9)  421 ms, sharp 192 ms
 *   5120x2880 RGBA   0.49 MiB -> 2560x1440  peak 17.6 MiB (model 20.3)  554 ms, sharp 210 ms
 *   6016x3384 RGB    0.56 MiB -> 3008x1692  peak 25.3 MiB (model 25.6)  733 ms, sharp 116 ms
 *   6016x3384 RGBA   0.62 MiB -> 3008x1692  peak 24.8 MiB (model 25.6)  639 ms, sharp 226 ms
 *   10000^2 1-bit    0.17 MiB -> 2500x2500  peak 28.7 MiB (model 30.1)  941 ms, sharp 285 ms
 *   4000x3000 Adam7  0.42 MiB -> 4000x3000  peak 47.6 MiB (model 52.0)  314 ms, sharp 261 ms
 * sharp's time includes its Lanczos resize to 2048; ours is decode + box shrink only. Of the
 * scan's ~0.9 s, RowShrinker.push takes ~55 % (7 ns a source pixel), the inflate ~5 %.
 */
import sharp from "sharp";
import { estimateDecodeMemory } from "../src/pipeline/decode-memory";
import { decodedSize } from "../src/pipeline/decode-size";
import { decodePngScaled } from "../src/pipeline/png-stream";
import { probeHeader } from "../src/pipeline/probe";
import { RowShrinker } from "../src/pipeline/row-shrink";
import { fitInside } from "../src/pipeline/transform";
import { scanSpec, screenshotSpec, syntheticPng } from "../test/helpers/synthetic-png";

const MIB = 2 ** 20;

interface NodeGlobal {
  gc?: () => void;
}
const gc = (globalThis as NodeGlobal).gc;
if (!gc) throw new Error("run with node --expose-gc");

function used(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

let baseline = 0;
let peak = 0;
let pushes = 0;
const push = RowShrinker.prototype.push;
RowShrinker.prototype.push = function sampled(this: RowShrinker, ...args) {
  if (++pushes % 32 === 0) peak = Math.max(peak, used() - baseline);
  return push.apply(this, args);
};

async function sharpMs(png: Uint8Array): Promise<number> {
  const t = performance.now();
  await sharp(png).resize(2048, 2048, { fit: "inside" }).raw().toBuffer();
  return performance.now() - t;
}

async function run(label: string, png: Uint8Array): Promise<void> {
  const probe = probeHeader(png);
  if (!probe.ok) throw new Error(probe.error.detail);
  const { width, height } = probe.value;
  const fit = fitInside(width, height, 2048, 2048);
  const hint = { minWidth: fit.width, minHeight: fit.height };
  const size = decodedSize(probe.value, hint);
  const model = estimateDecodeMemory(probe.value, png.length, size);
  const times: number[] = [];
  let measured = 0;
  for (let i = 0; i < 3; i++) {
    gc?.();
    baseline = used();
    peak = 0;
    const t = performance.now();
    const img = decodePngScaled(png, hint);
    times.push(performance.now() - t);
    peak = Math.max(peak, used() - baseline);
    measured = Math.max(measured, peak);
    if (process.env.PER_RUN) console.log(`  run ${i}: ${(peak / MIB).toFixed(1)} MiB`);
    if (img.width !== size.width || img.height !== size.height) throw new Error("size mismatch");
  }
  const sharpTimes: number[] = [];
  for (let i = 0; i < 3; i++) sharpTimes.push(await sharpMs(png));
  const median = (v: number[]): number => [...v].sort((a, b) => a - b)[1] ?? 0;
  // The model counts two copies of the input (upload + stripped original) the decoder itself
  // does not allocate: compare the decoder's own part.
  const own = model.jsBytes - 2 * png.length;
  console.log(
    `${label.padEnd(28)} file ${(png.length / MIB).toFixed(2).padStart(6)} MiB -> ${size.width}x${size.height}` +
      ` | JS peak ${(measured / MIB).toFixed(1)} MiB (model ${(own / MIB).toFixed(1)} + input ${((2 * png.length) / MIB).toFixed(1)})` +
      ` | png-stream ${median(times).toFixed(0)} ms, sharp ${median(sharpTimes).toFixed(0)} ms`,
  );
}

sharp.concurrency(1);
const only = process.argv[2];
for (const [label, make] of [
  ["3840x2160 RGB", () => syntheticPng(screenshotSpec(3840, 2160, false))],
  ["3840x2160 RGBA", () => syntheticPng(screenshotSpec(3840, 2160, true))],
  ["5120x2880 RGBA", () => syntheticPng(screenshotSpec(5120, 2880, true))],
  ["6016x3384 RGB", () => syntheticPng(screenshotSpec(6016, 3384, false))],
  ["6016x3384 RGBA", () => syntheticPng(screenshotSpec(6016, 3384, true))],
  ["10000x10000 1-bit scan", () => syntheticPng(scanSpec(10000, 10000))],
  [
    "4000x3000 RGB Adam7 (sharp)",
    async () =>
      new Uint8Array(
        await sharp(await syntheticPng(screenshotSpec(4000, 3000, false)))
          .png({ progressive: true })
          .toBuffer(),
      ),
  ],
] as const) {
  if (!only || label.includes(only)) await run(label, await make());
}
