import { describe, expect, it } from "vitest";
import { probeHeader } from "../../src/pipeline/probe";
import { ihdr, join, PNG_SIG, png, pngChunk } from "./builders";
import { fixture, manifest } from "./fixtures";

const CODES = ["unsupported_format", "corrupt_image"];

/** AVIFs avif-dav1d decodes: 4:4:4 (3 samples a pixel), plus 1 for an alpha item. */
const AVIF_PLANE_BYTES: Record<string, number> = {
  "avif/alpha.avif": 4,
  "avif/irot-imir.avif": 3,
  // 12-bit: 2 bytes a sample.
  "avif/exif-xmp.avif": 6,
};

/** HEIC planes from hvcC: these heif-enc files are 4:4:4, 4:2:0 and monochrome, all 8-bit. */
const HEIC_PLANE_BYTES: Record<string, number> = {
  "heic/exif.heic": 3,
  "heic/photo.heic": 3,
  "heic/alpha.heic": 1.5,
  "heic/irot-orientation-6.heic": 1.5,
  "heic/gray.heic": 1,
};

describe("probeHeader on the corpus", () => {
  for (const row of manifest) {
    it(`${row.file} → ${row.probe}`, () => {
      const r = probeHeader(fixture(row.file));
      if (row.probe !== "ok") {
        expect(r.ok).toBe(false);
        if (!r.ok) {
          expect(r.error.code).toBe(row.probe);
          expect(r.error.detail.length).toBeGreaterThan(5);
        }
        return;
      }
      expect(r).toEqual({
        ok: true,
        value: {
          format: row.format,
          width: row.width,
          height: row.height,
          frames: row.frames,
          orientation: row.orientation,
          hasAlpha: row.hasAlpha,
          progressive: row.file === "jpeg/progressive.jpg",
          // 320x240 at 4:2:0: (40x30 + 2 x 20x15) blocks x 64 coefficients x 2 bytes.
          coefficientBytes: row.file === "jpeg/progressive.jpg" ? 1800 * 128 : 0,
          // A still WebP says whether its bitstream is lossless (VP8L); animations do not.
          ...(row.format === "webp" ? { lossless: row.file === "webp/lossless-alpha.webp" } : {}),
          // heif-enc stores the 64x48 image as a 1x1 grid of one 64x64 tile.
          ...(row.file === "heic/ten-bit.heic" ? { tile: { width: 64, height: 64 } } : {}),
          // A PNG says whether it is Adam7-interlaced (its decoder then holds the full frame).
          ...(row.format === "png" ? { interlaced: row.file === "png/interlaced.png" } : {}),
          ...(row.file in AVIF_PLANE_BYTES ? { avifPlaneBytes: AVIF_PLANE_BYTES[row.file] } : {}),
          ...(row.file in HEIC_PLANE_BYTES ? { heicPlaneBytes: HEIC_PLANE_BYTES[row.file] } : {}),
        },
      });
    });
  }
});

describe("probeHeader on crafted headers", () => {
  const code = (bytes: Uint8Array) => {
    const r = probeHeader(bytes);
    return r.ok ? "ok" : r.error.code;
  };

  it("rejects zero and absurd PNG dimensions as corrupt", () => {
    expect(code(png(0, 10))).toBe("corrupt_image");
    expect(code(png(70000, 10))).toBe("corrupt_image");
    expect(code(png(65535, 65535))).toBe("ok");
  });

  it("counts APNG frames from fcTL chunks, not the acTL claim", () => {
    const actl = pngChunk("acTL", new Uint8Array([0, 0, 0xff, 0xff, 0, 0, 0, 0]));
    const fctl = pngChunk("fcTL", new Uint8Array(26));
    const fdat = pngChunk("fdAT", new Uint8Array(8));
    const apng = join(
      PNG_SIG,
      pngChunk("IHDR", ihdr(4, 4)),
      actl,
      fctl,
      pngChunk("IDAT", new Uint8Array(4)),
      fctl,
      fdat,
      pngChunk("IEND"),
    );
    const r = probeHeader(apng);
    expect(r.ok && r.value.frames).toBe(2);
  });

  it("reads tRNS as alpha and rejects an unknown critical chunk", () => {
    const r = probeHeader(png(4, 4, pngChunk("tRNS", new Uint8Array(6))));
    expect(r.ok && r.value.hasAlpha).toBe(true);
    expect(code(png(4, 4, pngChunk("ZZZZ")))).toBe("corrupt_image");
  });

  it("rejects a JPEG frame header with a zero height or a wrong length", () => {
    const sof = (h: number, len: number) =>
      new Uint8Array([0xff, 0xd8, 0xff, 0xc0, 0, len, 8, h >> 8, h & 255, 0, 8, 1, 1, 0x11, 0]);
    expect(code(join(sof(0, 11), new Uint8Array([0xff, 0xd9])))).toBe("corrupt_image");
    expect(code(join(sof(8, 14), new Uint8Array([0xff, 0xd9])))).toBe("corrupt_image");
    expect(code(join(sof(8, 11), new Uint8Array([0xff, 0xd9])))).toBe("corrupt_image");
  });

  it("accepts a GIF without a trailer once a frame is complete", () => {
    const gif = fixture("gif/static.gif");
    expect(code(gif.subarray(0, gif.length - 1))).toBe("ok");
    expect(code(gif.subarray(0, 40))).toBe("corrupt_image");
  });

  it("never throws and never hangs on truncated or bit-flipped corpus files", () => {
    let seed = 42;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    for (const row of manifest.filter((r) => r.probe === "ok")) {
      const good = fixture(row.file);
      for (let cut = 0; cut < good.length; cut += Math.max(1, Math.floor(good.length / 40))) {
        const r = probeHeader(good.subarray(0, cut));
        if (!r.ok) expect(CODES).toContain(r.error.code);
      }
      for (let i = 0; i < 40; i++) {
        const bad = good.slice();
        for (let k = 0; k < 4; k++) bad[rand() % Math.min(bad.length, 600)] = rand() & 255;
        const r = probeHeader(bad);
        if (!r.ok) expect(CODES).toContain(r.error.code);
        else expect(r.value.width).toBeLessThanOrEqual(65535);
      }
    }
  });
});
