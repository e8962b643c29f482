/// <reference types="vite/client" />
import { describe, expect, it } from "vitest";
import { classify, DEFAULT_CLASSIFIER_RULES } from "../../src/domain/moderation";
import { builtinClassifier, NSFW_CLASSES } from "../../src/moderation/builtin-classifier";
import { createWorkerdCodecs } from "../../src/pipeline/codecs-workerd";
import { DEFAULT_TRANSFORM_OPTIONS } from "../../src/pipeline/presets";
import { transformImage } from "../../src/pipeline/transform";

// workerd has no fs: Vite inlines each image as a base64 data URL at bundle time.
const inlined = import.meta.glob<string>(
  ["../fixtures/**/*.{jpg,png,gif,webp,heic}", "../../docs/screenshots/*.png"],
  { eager: true, query: "?url&inline", import: "default" },
);

function bytesOf(file: string): Uint8Array {
  const url = inlined[file];
  if (!url) throw new Error(`no such image: ${file}`);
  return Uint8Array.from(atob(url.slice(url.indexOf(",") + 1)), (c) => c.charCodeAt(0));
}

/** Ordinary images we can ship: photo-like plasma pictures, drawings (the test card), screenshots of our own pages. */
const ORDINARY = [
  "../fixtures/jpeg/full-metadata.jpg",
  "../fixtures/jpeg/progressive.jpg",
  "../fixtures/heic/photo.heic",
  "../fixtures/webp/lossy.webp",
  "../fixtures/png/rgb.png",
  "../fixtures/png/palette.png",
  "../fixtures/jpeg/orientation-1.jpg",
  "../fixtures/gif/static.gif",
  "../../docs/screenshots/share-desktop.png",
  "../../docs/screenshots/share-album-desktop.png",
  "../../docs/screenshots/share-locked-phone.png",
];

const codecs = createWorkerdCodecs();
const classifier = builtinClassifier(codecs);
const options = {
  ...DEFAULT_TRANSFORM_OPTIONS,
  presets: DEFAULT_TRANSFORM_OPTIONS.presets.filter((p) => p.name === "thumb"),
  formats: ["jpeg" as const],
  avifPresets: [],
};

/** The thumb the processor would classify. */
async function thumbOf(file: string): Promise<Uint8Array> {
  const out = await transformImage(bytesOf(file), options, codecs);
  if (!out.ok) throw new Error(`${file}: ${out.error.code}`);
  const thumb = out.value.variants.find((v) => v.name === "thumb" && v.format === "jpeg");
  if (!thumb) throw new Error(`${file}: no JPEG thumb`);
  return thumb.bytes;
}

describe("built-in classifier (nsfwjs MobileNetV2 on TensorFlow.js in workerd)", () => {
  it("scores five classes that sum to 1, the same way every time", async () => {
    const bytes = await thumbOf("../fixtures/jpeg/full-metadata.jpg");
    const first = await classifier.classify({ bytes, format: "jpeg" });
    const second = await classifier.classify({ bytes, format: "jpeg" });
    if (!first.ok || !second.ok) throw new Error("classification failed");
    expect(Object.keys(first.value).sort()).toEqual([...NSFW_CLASSES].sort());
    for (const score of Object.values(first.value)) {
      expect(score).toBeGreaterThanOrEqual(0);
      expect(score).toBeLessThanOrEqual(1);
    }
    const sum = Object.values(first.value).reduce((a, b) => a + b, 0);
    expect(sum).toBeCloseTo(1, 4);
    expect(second.value).toEqual(first.value);
  });

  it("labels the corpus's ordinary photos, drawings and screenshots as safe", {
    timeout: 120_000,
  }, async () => {
    const verdicts: Record<string, { action: string; top: string }> = {};
    for (const file of ORDINARY) {
      const scored = await classifier.classify({ bytes: await thumbOf(file), format: "jpeg" });
      if (!scored.ok) throw new Error(`${file}: ${scored.error}`);
      const top = Object.entries(scored.value).sort((a, b) => b[1] - a[1])[0]?.[0] ?? "";
      verdicts[file] = { action: classify(scored.value, DEFAULT_CLASSIFIER_RULES).action, top };
    }
    for (const [file, verdict] of Object.entries(verdicts)) {
      expect(verdict.action, file).toBe("allow");
      expect(["neutral", "drawing"], `${file}: ${verdict.top}`).toContain(verdict.top);
    }
  });

  it("refuses bytes that are not the format they claim", async () => {
    const result = await classifier.classify({ bytes: new Uint8Array(64), format: "jpeg" });
    expect(result.ok).toBe(false);
  });
});
