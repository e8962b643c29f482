/**
 * `npm run bench`: the processor's transformImage (WASM codecs, Node loader) against sharp
 * (native libvips) on the same inputs, producing the same outputs (sizes, formats, quality),
 * in one run. Inputs are mosaics of real photos (see bench/photos.ts), cached in bench/out.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import sharp from "sharp";
import { decodeMemoryProblem, estimateDecodeMemory } from "../src/pipeline/decode-memory";
import { jpegScaledSize } from "../src/pipeline/jpeg-turbo";
import { DEFAULT_TRANSFORM_OPTIONS } from "../src/pipeline/presets";
import { probeHeader } from "../src/pipeline/probe";
import { fitInside, transformImage } from "../src/pipeline/transform";
import type { OutputFormat, TransformOptions } from "../src/pipeline/types";
import { createNodeCodecs } from "./node-codecs";
import { ensureInputs } from "./photos";
import { median, type Output, timeSharp, warmUp } from "./sharp-ref";

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 3);
const MIB = 2 ** 20;

/** The budgeted set (docs/architecture.md, "Budgets"): WebP + JPEG for every preset, no AVIF. */
const BUDGET_SET: TransformOptions = { ...DEFAULT_TRANSFORM_OPTIONS, avifPresets: [] };

async function main(): Promise<void> {
  const defaultThreads = sharp.concurrency();
  const inputs = await ensureInputs();
  const codecs = await createNodeCodecs();
  const first = inputs.files[0];
  if (first) await warmUp(await readFile(first.path), (b) => transformImage(b, BUDGET_SET, codecs));
  const rows: Record<string, unknown>[] = [];
  const sets: [string, TransformOptions][] = [
    ["webp+jpeg", BUDGET_SET],
    ["default(+avif thumb,medium)", DEFAULT_TRANSFORM_OPTIONS],
  ];
  console.log(`input photos: ${inputs.source}`);
  console.log(
    `sharp ${sharp.versions.sharp} / libvips ${sharp.versions.vips}; default concurrency ${defaultThreads}; iterations ${ITERATIONS}\n`,
  );
  for (const { label, path } of inputs.files) {
    const input = await readFile(path);
    const meta = await sharp(input).metadata();
    // WebP inputs: the budgeted set only (the AVIF stage does not depend on the input format).
    for (const [setName, opts] of meta.format === "webp" ? sets.slice(0, 1) : sets) {
      const options = { ...opts, maxPixels: Number.MAX_SAFE_INTEGER };
      const wasmTimes: number[] = [];
      let peak = 0;
      let outputs: Output[] = [];
      let timings = { decodeMs: 0, resizeMs: 0, encodeMs: 0 };
      for (let i = 0; i < ITERATIONS; i++) {
        codecs.memory.reset();
        const t = performance.now();
        const r = await transformImage(new Uint8Array(input), options, codecs);
        wasmTimes.push(performance.now() - t);
        if (!r.ok) throw new Error(`${label}: ${r.error.code} ${r.error.detail}`);
        peak = Math.max(peak, codecs.memory.peakBytes);
        timings = r.value.timings;
        outputs = r.value.variants.map((v) => ({
          name: v.name,
          format: v.format as OutputFormat,
          width: v.width,
          height: v.height,
          bytes: v.bytes.length,
        }));
      }
      const wasmMs = median(wasmTimes);
      const s1 = await timeSharp(input, outputs, opts, 1);
      const sN = await timeSharp(input, outputs, opts, defaultThreads);
      console.log(
        `== ${label} (${meta.width}x${meta.height}, ${(input.length / MIB).toFixed(1)} MiB) set=${setName}`,
      );
      console.log(
        `   wasm ${wasmMs.toFixed(0)} ms (decode ${timings.decodeMs.toFixed(0)}, resize ${timings.resizeMs.toFixed(0)}, encode ${timings.encodeMs.toFixed(0)})` +
          ` | sharp 1 thread ${s1.ms.toFixed(0)} ms -> ratio ${(wasmMs / s1.ms).toFixed(2)}x` +
          ` | sharp ${defaultThreads} threads ${sN.ms.toFixed(0)} ms -> ratio ${(wasmMs / sN.ms).toFixed(2)}x` +
          ` | peak WASM ${(peak / MIB).toFixed(1)} MiB`,
      );
      console.log("   output              wasm bytes   sharp bytes   ratio");
      for (const [i, o] of outputs.entries()) {
        const sb = s1.outputs[i]?.bytes ?? Number.NaN;
        console.log(
          `   ${`${o.name} ${o.format} ${o.width}x${o.height}`.padEnd(20)}${String(o.bytes).padStart(10)}${String(sb).padStart(14)}${(o.bytes / sb).toFixed(3).padStart(8)}`,
        );
      }
      rows.push({
        input: label,
        set: setName,
        width: meta.width,
        height: meta.height,
        wasmMs: Math.round(wasmMs),
        sharp1Ms: Math.round(s1.ms),
        sharpDefaultMs: Math.round(sN.ms),
        sharpDefaultThreads: defaultThreads,
        ratioVsSharp1: Number((wasmMs / s1.ms).toFixed(2)),
        ratioVsSharpDefault: Number((wasmMs / sN.ms).toFixed(2)),
        peakWasmMiB: Number((peak / MIB).toFixed(1)),
        outputs: outputs.map((o, i) => ({
          ...o,
          sharpBytes: s1.outputs[i]?.bytes,
          ratio: Number((o.bytes / (s1.outputs[i]?.bytes ?? Number.NaN)).toFixed(3)),
        })),
      });
    }
  }
  sharp.concurrency(defaultThreads);

  // Where is the limit? Decode is the peak step: sweep decode-only memory over sizes and JPEG
  // modes, next to the header-based estimate transformImage enforces.
  const sweep: Record<string, unknown>[] = [];
  const photo = inputs.files.filter((f) => f.path.endsWith(".jpg")).at(-1)?.path;
  if (photo && existsSync(photo)) {
    console.log(
      "\ndecode memory (MiB) by size: WASM peak, JS RGBA frame, header estimate (WASM / all), accepted",
    );
    for (const mp of [12, 16, 20, 24, 48]) {
      // Past 24 MP only baseline: progressive is already refused at 24 MP by its coefficients.
      for (const progressive of mp > 24 ? [false] : [false, true]) {
        for (const chroma of ["4:2:0", "4:4:4"]) {
          const w = Math.round(Math.sqrt((mp * 1e6 * 3) / 2));
          const h = Math.round((w * 2) / 3);
          const jpg = new Uint8Array(
            await sharp(photo)
              .resize(w, h, { fit: "fill" })
              .jpeg({ quality: 92, progressive, chromaSubsampling: chroma })
              .toBuffer(),
          );
          const probed = probeHeader(jpg);
          if (!probed.ok) throw new Error(probed.error.detail);
          const fit = fitInside(w, h, 2048, 2048);
          const hint = { minWidth: fit.width, minHeight: fit.height };
          codecs.memory.reset();
          const d = await codecs.decode(jpg, "jpeg", hint);
          const wasm = codecs.memory.peakBytes;
          const js = d.ok ? d.value.data.byteLength : Number.NaN;
          const est = estimateDecodeMemory(probed.value, jpg.length, jpegScaledSize(w, h, hint));
          const row = {
            megapixels: mp,
            mode: `${progressive ? "progressive" : "baseline"} ${chroma}`,
            inputMiB: Number((jpg.length / MIB).toFixed(1)),
            peakWasmMiB: Number((wasm / MIB).toFixed(1)),
            jsFrameMiB: Number((js / MIB).toFixed(1)),
            estWasmMiB: Number((est.wasmBytes / MIB).toFixed(1)),
            estTotalMiB: Number(((est.wasmBytes + est.jsBytes) / MIB).toFixed(1)),
            accepted: decodeMemoryProblem(probed.value, est) === null,
          };
          sweep.push(row);
          console.log(
            `   ${`${mp} MP ${row.mode}`.padEnd(24)} in ${String(row.inputMiB).padStart(4)}  wasm ${String(row.peakWasmMiB).padStart(6)}  js ${String(row.jsFrameMiB).padStart(5)}  est ${String(row.estWasmMiB).padStart(6)} / ${String(row.estTotalMiB).padStart(6)}  ${row.accepted ? "accepted" : "too_many_pixels"}`,
          );
        }
      }
    }
  }
  console.log(
    "\nratio = wasm time / sharp time; the budget ratio uses sharp with concurrency(1) (the processor is single-threaded); bytes ratio = wasm / sharp(1 thread) bytes",
  );
  console.log(JSON.stringify({ bench: "transform", iterations: ITERATIONS, rows, sweep }));
}

await main();
