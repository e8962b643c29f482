import "@tensorflow/tfjs-backend-cpu";
import * as tf from "@tensorflow/tfjs-core";
import { type LayersModel, loadLayersModel } from "@tensorflow/tfjs-layers";
import { MobileNetV2Model } from "nsfwjs/models/mobilenet_v2";
import type { RgbaImage } from "../pipeline/codec-glue";
import type { Codecs } from "../pipeline/codecs";
import type { Classifier } from "./classifier";

/** nsfwjs's five classes, in the order of the model's output. */
export const NSFW_CLASSES = ["drawing", "hentai", "neutral", "porn", "sexy"] as const;
export type NsfwClass = (typeof NSFW_CLASSES)[number];

/** The model's input side. */
export const MODEL_INPUT = 224;

interface WeightsManifest {
  paths: string[];
  weights: tf.io.WeightsManifestEntry[];
}

let loading: Promise<LayersModel> | null = null;

/**
 * nsfwjs's bundled MobileNetV2 (a layers model; weights base64 in a JS module). Loaded on
 * demand and shared until `releaseNsfwModel`.
 */
export function loadNsfwModel(): Promise<LayersModel> {
  loading ??= (async () => {
    // workerd's nodejs_compat makes tfjs think it runs in Node and advise tfjs-node; it does not.
    tf.env().set("IS_NODE", false);
    await tf.setBackend("cpu");
    const json = ((await MobileNetV2Model.modelJson()) as { default: unknown }).default as {
      modelTopology: object;
      weightsManifest: WeightsManifest[];
    };
    // nsfwjs names its weight bundles after the manifest's shard paths.
    const bundles = new Map<string, string>();
    for (const [i, load] of MobileNetV2Model.weightBundles.entries()) {
      const name = `group1-shard${i + 1}of${MobileNetV2Model.numOfWeightBundles}`;
      bundles.set(name, ((await load()) as { default: string }).default);
    }
    const shards: Uint8Array[] = [];
    const specs: tf.io.WeightsManifestEntry[] = [];
    for (const group of json.weightsManifest) {
      specs.push(...group.weights);
      for (const shard of group.paths) {
        const base64 = bundles.get(shard);
        if (base64 === undefined) throw new Error(`nsfwjs ships no weights for ${shard}`);
        shards.push(Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)));
      }
    }
    const total = shards.reduce((n, s) => n + s.length, 0);
    const weights = new Uint8Array(total);
    let offset = 0;
    for (const s of shards) {
      weights.set(s, offset);
      offset += s.length;
    }
    return loadLayersModel(
      tf.io.fromMemory({
        modelTopology: json.modelTopology,
        weightSpecs: specs,
        weightData: weights.buffer,
      }),
    );
  })();
  return loading;
}

/** Disposes the model's tensors (10 MiB of weights), so they never sit next to a decode. */
export async function releaseNsfwModel(): Promise<void> {
  const model = loading;
  loading = null;
  (await model?.catch(() => null))?.dispose();
}

/** Scores one 224x224 RGBA frame: a probability per class (they sum to 1). */
export async function scoreFrame(image: RgbaImage): Promise<Record<NsfwClass, number>> {
  if (image.width !== MODEL_INPUT || image.height !== MODEL_INPUT) {
    throw new Error(`the model takes ${MODEL_INPUT}x${MODEL_INPUT} frames`);
  }
  const model = await loadNsfwModel();
  const rgb = new Float32Array(MODEL_INPUT * MODEL_INPUT * 3);
  for (let p = 0, q = 0; p < image.data.length; p += 4, q += 3) {
    rgb[q] = (image.data[p] ?? 0) / 255;
    rgb[q + 1] = (image.data[p + 1] ?? 0) / 255;
    rgb[q + 2] = (image.data[p + 2] ?? 0) / 255;
  }
  const output = tf.tidy(() => {
    const input = tf.tensor4d(rgb, [1, MODEL_INPUT, MODEL_INPUT, 3]);
    return model.predict(input) as tf.Tensor;
  });
  const values = await output.data();
  output.dispose();
  const scores = {} as Record<NsfwClass, number>;
  NSFW_CLASSES.forEach((name, i) => {
    scores[name] = values[i] ?? 0;
  });
  return scores;
}

/** The model's name, as recorded with each decision it makes. */
export const BUILTIN_CLASSIFIER_NAME = "builtin:nsfwjs-mobilenet_v2";

/**
 * The built-in classifier: nsfwjs's MobileNetV2 on TensorFlow.js's CPU backend, fed the thumb
 * decoded and resampled to the model's 224x224 by the processor's own codecs. The model is
 * loaded for each classification and disposed after it.
 */
export function builtinClassifier(codecs: Pick<Codecs, "decode" | "resize">): Classifier {
  return {
    name: BUILTIN_CLASSIFIER_NAME,
    async classify(input) {
      const decoded = await codecs.decode(input.bytes, input.format);
      if (!decoded.ok) return { ok: false, error: `thumb did not decode: ${decoded.error.code}` };
      const frame = await codecs.resize(decoded.value, MODEL_INPUT, MODEL_INPUT, false);
      if (!frame.ok) return { ok: false, error: `thumb did not resize: ${frame.error.code}` };
      try {
        return { ok: true, value: await scoreFrame(frame.value) };
      } finally {
        // The processor's memory budget is for one job at a time: the next message may be a
        // 100 MP decode, so the weights go (reloading them costs ~250 ms, bench/classifier.ts).
        await releaseNsfwModel();
      }
    },
  };
}
