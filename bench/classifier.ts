/**
 * The built-in moderation classifier (nsfwjs's MobileNetV2 on TensorFlow.js's CPU backend,
 * the code the processor runs) on Node's V8, per image: time and peak tensor memory, the model's
 * load cost and resident heap, and the blurred preview (photon) next to sharp's blur of the
 * same preview. Inputs: the test corpus's ordinary images, our page screenshots, and every
 * Debian KDE wallpaper (real photos and artworks) when apt can fetch them. It also reports how
 * many of those the default rules would hold or block: each one is a false positive.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import sharp from "sharp";
import { classify, DEFAULT_CLASSIFIER_RULES } from "../src/domain/moderation";
import {
  loadNsfwModel,
  MODEL_INPUT,
  releaseNsfwModel,
  scoreFrame,
} from "../src/moderation/builtin-classifier";
import { blurredPreview } from "../src/pipeline/blur";
import { DEFAULT_TRANSFORM_OPTIONS } from "../src/pipeline/presets";
import { transformImage } from "../src/pipeline/transform";
import { createNodeCodecs } from "./node-codecs";
import { wallpapers } from "./photos";
import { median } from "./sharp-ref";

const ROOT = path.join(import.meta.dirname, "..");
const MIB = 2 ** 20;

function corpus(): { label: string; file: string }[] {
  const fixtures = [
    "jpeg/full-metadata.jpg",
    "jpeg/progressive.jpg",
    "heic/photo.heic",
    "webp/lossy.webp",
    "png/rgb.png",
    "png/palette.png",
    "jpeg/orientation-1.jpg",
    "gif/static.gif",
  ].map((f) => ({ label: `corpus ${f}`, file: path.join(ROOT, "test/fixtures", f) }));
  const shots = readdirSync(path.join(ROOT, "docs/screenshots")).map((f) => ({
    label: `screenshot ${f}`,
    file: path.join(ROOT, "docs/screenshots", f),
  }));
  const photos = wallpapers().map((file) => ({
    label: `wallpaper ${path.basename(path.dirname(path.dirname(path.dirname(file))))}`,
    file,
  }));
  return [...fixtures, ...shots, ...photos];
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? Number.NaN;
}

async function main(): Promise<void> {
  const codecs = await createNodeCodecs();
  const options = {
    ...DEFAULT_TRANSFORM_OPTIONS,
    presets: DEFAULT_TRANSFORM_OPTIONS.presets.filter((p) => p.name === "thumb"),
    formats: ["jpeg" as const],
    avifPresets: [],
    maxPixels: Number.MAX_SAFE_INTEGER,
  };
  global.gc?.();
  const heapBefore = process.memoryUsage();
  const loadStart = performance.now();
  await loadNsfwModel();
  const loadMs = performance.now() - loadStart;
  global.gc?.();
  const heapAfter = process.memoryUsage();
  const modelTensors = tf.memory();
  await releaseNsfwModel();
  const afterRelease = tf.memory();

  const inputs = corpus();
  const classifyMs: number[] = [];
  const perImageMs: number[] = [];
  const peaks: number[] = [];
  const blurMs: number[] = [];
  const sharpBlurMs: number[] = [];
  const flagged: string[] = [];
  const tops = new Map<string, number>();
  for (const { label, file } of inputs) {
    const out = await transformImage(new Uint8Array(readFileSync(file)), options, codecs);
    if (!out.ok) throw new Error(`${label}: ${out.error.code}`);
    const thumb = out.value.variants.find((v) => v.name === "thumb" && v.format === "jpeg");
    if (!thumb) throw new Error(`${label}: no thumb`);
    // What the classifier does per image: decode the thumb, resample to 224x224, predict.
    const t = performance.now();
    await loadNsfwModel();
    const loaded = performance.now();
    const decoded = await codecs.decode(thumb.bytes, "jpeg");
    if (!decoded.ok) throw new Error(label);
    const frame = await codecs.resize(decoded.value, MODEL_INPUT, MODEL_INPUT, false);
    if (!frame.ok) throw new Error(label);
    let scores: Record<string, number> = {};
    const profile = await tf.profile(async () => {
      scores = await scoreFrame(frame.value);
      return tf.scalar(0);
    });
    classifyMs.push(performance.now() - loaded);
    await releaseNsfwModel();
    perImageMs.push(performance.now() - t);
    peaks.push(profile.peakBytes);
    const top = Object.entries(scores).sort((a, b) => b[1] - a[1])[0]?.[0] ?? "?";
    tops.set(top, (tops.get(top) ?? 0) + 1);
    const verdict = classify(scores, DEFAULT_CLASSIFIER_RULES);
    if (verdict.action !== "allow") flagged.push(`${label}: ${verdict.action} (${verdict.reason})`);

    const b = performance.now();
    const preview = await blurredPreview(codecs, thumb.bytes, "jpeg");
    blurMs.push(performance.now() - b);
    if (!preview.ok) throw new Error(`${label}: blur ${preview.error.code}`);
    const s = performance.now();
    await sharp(thumb.bytes)
      .resize(96, 96, { fit: "inside" })
      .blur(3)
      .webp({ quality: 60 })
      .toBuffer();
    sharpBlurMs.push(performance.now() - s);
  }

  const row = (name: string, xs: number[]) =>
    `| ${name} | ${median(xs).toFixed(1)} | ${percentile(xs, 95).toFixed(1)} | ${Math.max(...xs).toFixed(1)} |`;
  console.log(
    `\nModeration classifier (tfjs-core ${tf.version_core}, backend ${tf.getBackend()}, Node ${process.version}), ${inputs.length} images`,
  );
  console.log(
    `model load: ${loadMs.toFixed(0)} ms; resident: ${(modelTensors.numBytes / MIB).toFixed(1)} MiB of weights in ${modelTensors.numTensors} tensors, JS heap +${((heapAfter.heapUsed - heapBefore.heapUsed) / MIB).toFixed(1)} MiB, RSS +${((heapAfter.rss - heapBefore.rss) / MIB).toFixed(1)} MiB`,
  );
  console.log("| per image | median ms | p95 ms | max ms |");
  console.log("|---|---|---|---|");
  console.log(row("classify (decode thumb, resample 224x224, predict)", classifyMs));
  console.log(row("as the processor runs it (load model, classify, dispose)", perImageMs));
  console.log(row("blurred preview, photon (decode, 96 px, gaussian r6, WebP)", blurMs));
  console.log(row("same preview with sharp (native, for reference)", sharpBlurMs));
  console.log(
    `peak tensor memory per prediction: ${(Math.max(...peaks) / MIB).toFixed(1)} MiB (weights included: ${(modelTensors.numBytes / MIB).toFixed(1)} MiB); tensors left after dispose: ${afterRelease.numTensors} (${afterRelease.numBytes} bytes)`,
  );
  console.log(`top class: ${[...tops].map(([k, v]) => `${k} ${v}`).join(", ")}`);
  console.log(
    `held or blocked by the default rules: ${flagged.length} of ${inputs.length}${flagged.length ? `\n  ${flagged.join("\n  ")}` : ""}`,
  );
  console.log(
    JSON.stringify({
      bench: "classifier",
      images: inputs.length,
      loadMs,
      classifyMedianMs: median(classifyMs),
      classifyP95Ms: percentile(classifyMs, 95),
      perImageMedianMs: median(perImageMs),
      peakTensorBytes: Math.max(...peaks),
      modelBytes: modelTensors.numBytes,
      blurMedianMs: median(blurMs),
      sharpBlurMedianMs: median(sharpBlurMs),
      flagged: flagged.length,
    }),
  );
}

await main();
