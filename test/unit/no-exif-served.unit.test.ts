import exifr from "exifr";
import { beforeAll, describe, expect, it } from "vitest";
import { createNodeCodecs } from "../../bench/node-codecs";
import type { Codecs } from "../../src/pipeline/codecs";
import { walkGif } from "../../src/pipeline/parse-gif";
import { walkWebp } from "../../src/pipeline/parse-webp";
import { DEFAULT_TRANSFORM_OPTIONS } from "../../src/pipeline/presets";
import { transformImage } from "../../src/pipeline/transform";
import { fixture, manifest } from "./fixtures";

/** Every segment exifr knows; a served byte may carry Orientation and nothing else. */
const READ_ALL = {
  gps: true,
  tiff: true,
  exif: true,
  xmp: true,
  iptc: true,
  icc: false,
  jfif: false,
  ihdr: false,
} as const;
const ALLOWED = new Set(["Orientation"]);

/** Fixtures that carry EXIF/GPS/XMP/IPTC, per test/fixtures/README.md. */
const WITH_METADATA = manifest.filter(
  (row) =>
    row.expect === "ready" &&
    /full-metadata|orientation-|exif|xmp/.test(row.file) &&
    !row.file.startsWith("heic/"),
);

async function exifrTags(bytes: Uint8Array): Promise<string[]> {
  const parsed: unknown = await exifr.parse(Buffer.from(bytes), READ_ALL);
  // `errors` is exifr's note of a block it could not parse: the strip blanks AVIF/HEIF EXIF
  // items to zeros in place, which is exactly what must not parse.
  return parsed && typeof parsed === "object"
    ? Object.keys(parsed).filter((k) => k !== "errors")
    : [];
}

const EXIF_PREFIX = [0x45, 0x78, 0x69, 0x66, 0, 0];

/**
 * exifr reads JPEG, PNG, TIFF and HEIF/AVIF but not WebP or GIF: for those, hand it the EXIF
 * chunk's TIFF payload and count any XMP chunk/extension as a finding.
 */
async function tags(bytes: Uint8Array, format: string): Promise<string[]> {
  if (format === "webp") {
    const layout = walkWebp(bytes);
    if (!layout.ok) throw new Error(layout.error.detail);
    const found: string[] = [];
    for (const c of layout.value.chunks) {
      if (c.fourcc === "XMP ") found.push("XMP chunk");
      if (c.fourcc !== "EXIF") continue;
      let tiff = bytes.subarray(c.data, c.data + c.size);
      if (EXIF_PREFIX.every((v, i) => tiff[i] === v)) tiff = tiff.subarray(EXIF_PREFIX.length);
      found.push(...(await exifrTags(tiff)));
    }
    return found;
  }
  if (format === "gif") {
    const layout = walkGif(bytes);
    if (!layout.ok) throw new Error(layout.error.detail);
    return layout.value.blocks
      .filter((b) => b.label === 0xff && b.app.startsWith("XMP Data"))
      .map(() => "XMP extension");
  }
  return exifrTags(bytes);
}

describe("no served byte carries GPS or EXIF (exifr)", () => {
  let codecs: Codecs;
  beforeAll(async () => {
    codecs = await createNodeCodecs();
  });

  it("has metadata-bearing fixtures, and exifr sees their GPS/EXIF", async () => {
    expect(WITH_METADATA.length).toBeGreaterThanOrEqual(10);
    const full = await tags(fixture("jpeg/full-metadata.jpg"), "jpeg");
    expect(full).toContain("latitude");
    expect(full.length).toBeGreaterThan(5);
    // The WebP/GIF paths must see what they look for, or passing would prove nothing.
    expect(await tags(fixture("webp/exif-xmp.webp"), "webp")).toContain("XMP chunk");
    expect((await tags(fixture("webp/exif-xmp.webp"), "webp")).length).toBeGreaterThan(1);
    expect(await tags(fixture("gif/comment-xmp.gif"), "gif")).toContain("XMP extension");
  });

  for (const row of WITH_METADATA) {
    it(`${row.file}: original and every variant`, async () => {
      // AVIF variants are skipped for speed; they are encoded from pixels like WebP/JPEG.
      const r = await transformImage(
        fixture(row.file),
        { ...DEFAULT_TRANSFORM_OPTIONS, avifPresets: [] },
        codecs,
      );
      if (!r.ok) throw new Error(`${r.error.code}: ${r.error.detail}`);
      if (!r.value.original) throw new Error("no original rendition");
      for (const v of [r.value.original, ...r.value.variants]) {
        const found = (await tags(v.bytes, v.format)).filter((t) => !ALLOWED.has(t));
        expect(found, `${v.name} ${v.format}`).toEqual([]);
      }
    });
  }
});
