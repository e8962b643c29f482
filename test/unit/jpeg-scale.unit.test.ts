import { describe, expect, it } from "vitest";
import { hasAdobeMarker, jpegScaledSize } from "../../src/pipeline/jpeg-turbo";
import { fitInside } from "../../src/pipeline/transform";
import { fixture } from "./fixtures";

describe("jpegScaledSize (shrink-on-load scale choice)", () => {
  it("picks the smallest M/8 that still covers the largest variant", () => {
    expect(jpegScaledSize(4000, 3000, { minWidth: 2048, minHeight: 1536 })).toEqual({
      width: 2500,
      height: 1875,
      eighths: 5,
    });
    expect(jpegScaledSize(6000, 4000, { minWidth: 2048, minHeight: 1365 })).toEqual({
      width: 2250,
      height: 1500,
      eighths: 3,
    });
    // Portrait phone photo stored sideways: the box is in stored orientation.
    expect(jpegScaledSize(4032, 3024, { minWidth: 2048, minHeight: 1536 }).eighths).toBe(5);
  });

  it("decodes at full size without a hint or when the image is already small", () => {
    expect(jpegScaledSize(4000, 3000, undefined)).toEqual({
      width: 4000,
      height: 3000,
      eighths: 8,
    });
    expect(jpegScaledSize(1200, 900, { minWidth: 1200, minHeight: 900 }).eighths).toBe(8);
  });

  it("never makes a variant smaller than it would be from the full image", () => {
    for (let w = 17; w < 9000; w += 373) {
      for (let h = 13; h < 9000; h += 611) {
        const fit = fitInside(w, h, 2048, 2048);
        const s = jpegScaledSize(w, h, { minWidth: fit.width, minHeight: fit.height });
        expect(s.width).toBeGreaterThanOrEqual(fit.width);
        expect(s.height).toBeGreaterThanOrEqual(fit.height);
        // And it is the smallest such scale.
        if (s.eighths > 1) {
          const m = s.eighths - 1;
          const smaller =
            Math.ceil((w * m) / 8) >= fit.width && Math.ceil((h * m) / 8) >= fit.height;
          expect(smaller).toBe(false);
        }
      }
    }
  });
});

describe("hasAdobeMarker", () => {
  it("finds APP14 Adobe in the CMYK fixture and not in a plain JFIF", () => {
    expect(hasAdobeMarker(fixture("jpeg/cmyk.jpg"))).toBe(true);
    expect(hasAdobeMarker(fixture("jpeg/progressive.jpg"))).toBe(false);
  });

  it("stops at a malformed segment instead of reading past it", () => {
    expect(hasAdobeMarker(new Uint8Array([0xff, 0xd8, 0xff, 0xee, 0, 1]))).toBe(false);
    expect(hasAdobeMarker(new Uint8Array([0xff, 0xd8, 0x00, 0x00]))).toBe(false);
  });
});
