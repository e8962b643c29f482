import { describe, expect, it } from "vitest";
import { encodeMemoryProblem, estimateEncodeMemory } from "../../src/pipeline/encode-memory";

describe("estimateEncodeMemory", () => {
  it("admits the default presets at their largest, transparent or not", () => {
    for (const alpha of [false, true]) {
      const formats = alpha ? (["webp", "png"] as const) : (["webp", "jpeg"] as const);
      const m = estimateEncodeMemory(2048, 2048, formats, alpha);
      expect(encodeMemoryProblem("large", m)).toBeNull();
      expect(estimateEncodeMemory(1024, 1024, ["avif", ...formats], alpha).format).toBe("avif");
    }
  });

  it("refuses AVIF for a 2048 px variant: aom needs ~45 bytes an output pixel", () => {
    const m = estimateEncodeMemory(2048, 2048, ["webp", "avif"], false);
    expect(m.format).toBe("avif");
    expect(encodeMemoryProblem("large", m)).toMatch(
      /large variant in avif would need ~18\d\.\d MiB/,
    );
  });

  it("counts a transparent WebP's opaque copy and alpha plane in JS", () => {
    const opaque = estimateEncodeMemory(1000, 1000, ["webp"], false);
    const alpha = estimateEncodeMemory(1000, 1000, ["webp"], true);
    expect(alpha.jsBytes - opaque.jsBytes).toBe(5_000_000);
  });
});
