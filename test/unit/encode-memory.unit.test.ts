import { describe, expect, it } from "vitest";
import { encodeMemoryProblem, estimateEncodeMemory } from "../../src/pipeline/encode-memory";

describe("estimateEncodeMemory", () => {
  it("admits the default presets at their largest, transparent or not", () => {
    for (const alpha of [false, true]) {
      const formats = alpha ? (["webp", "png"] as const) : (["webp", "jpeg"] as const);
      const m = estimateEncodeMemory(2048, 2048, formats, alpha, 12 * 2 ** 20);
      expect(encodeMemoryProblem("large", m)).toBeNull();
      expect(estimateEncodeMemory(1024, 1024, ["avif", ...formats], alpha, 0).format).toBe("avif");
    }
  });

  it("refuses AVIF for a 2048 px variant: aom needs ~45 bytes an output pixel", () => {
    const m = estimateEncodeMemory(2048, 2048, ["webp", "avif"], false, 0);
    expect(m.format).toBe("avif");
    expect(encodeMemoryProblem("large", m)).toMatch(
      /large variant in avif would need ~18\d\.\d MiB/,
    );
  });

  it("counts a transparent WebP's alpha plane next to the encoder, its tokens after it", () => {
    const opaque = estimateEncodeMemory(2000, 2000, ["webp"], false, 0);
    const alpha = estimateEncodeMemory(2000, 2000, ["webp"], true, 0);
    expect(alpha.jsBytes - opaque.jsBytes).toBe(4_000_000);
  });
});
