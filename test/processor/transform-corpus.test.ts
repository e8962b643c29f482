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
 * skipped) so a gap stays visible and this list must change when it is fixed. Empty since
 * CMYK/YCCK JPEGs decode through libjpeg-turbo's TJPF_CMYK (src/pipeline/jpeg-turbo.ts).
 */
const KNOWN_GAPS: Record<string, string> = {};

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
  it("renders the inverted (Adobe) CMYK JPEG like ImageMagick's -colorspace sRGB", async () => {
    const bytes = bytesOf("jpeg/cmyk.jpg");
    if (!bytes) throw new Error("cmyk.jpg not inlined");
    const r = await codecs.decode(bytes, "jpeg");
    if (!r.ok) throw new Error(r.error.detail);
    const img = r.value;
    // `convert cmyk.jpg -colorspace sRGB` at these pixels (ImageMagick 6, no ICC profile).
    const expected: [number, number, number, number, number][] = [
      [5, 5, 231, 179, 11],
      [314, 5, 248, 162, 6],
      [5, 234, 120, 5, 126],
      [314, 234, 138, 7, 126],
      [160, 120, 192, 82, 59],
    ];
    for (const [x, y, ...rgb] of expected) {
      const i = (y * img.width + x) * 4;
      const got = [img.data[i], img.data[i + 1], img.data[i + 2]].map((v) => v ?? -1);
      for (let k = 0; k < 3; k++) {
        expect(Math.abs((got[k] ?? -1) - (rgb[k] ?? 0)), `(${x},${y}) ${got}`).toBeLessThanOrEqual(
          2,
        );
      }
    }
  });

  it("found the corpus", () => {
    expect(Object.keys(inlined).length).toBeGreaterThan(20);
  });
});
