import exifr from "exifr";
import { describe, expect, it } from "vitest";
import { walkPng } from "../../src/pipeline/parse-png";
import { walkWebp } from "../../src/pipeline/parse-webp";
import { probeHeader } from "../../src/pipeline/probe";
import { readOrientation, stripMetadata } from "../../src/pipeline/strip";
import type { ImageFormat, MetadataPolicy } from "../../src/pipeline/types";
import { fixture, manifest } from "./fixtures";

const PRIVATE: MetadataPolicy = { keepCopyrightAndCamera: false };
const KEEP: MetadataPolicy = { keepCopyrightAndCamera: true };
const EXIFR_ALL = {
  tiff: true,
  xmp: true,
  iptc: true,
  icc: false,
  jfif: false,
  ihdr: false,
  gps: true,
  exif: true,
  ifd1: true,
  interop: true,
  makerNote: true,
  mergeOutput: false,
};
// Strings planted by scripts/make-fixtures.sh that must never be served.
const SECRETS = [
  "Secret Photographer",
  "secret xmp",
  "Iptc Author",
  "iptc caption",
  "a private comment",
  "SN123456789",
  "home address",
  "2024:05:06",
  "png secret",
  "png xmp",
  "gif secret comment",
  "gif xmp",
  "alert(",
  "<html",
];

function strip(file: string, policy = PRIVATE): Uint8Array {
  const bytes = fixture(file);
  const probe = probeHeader(bytes);
  if (!probe.ok) throw new Error(`${file} does not probe`);
  const r = stripMetadata(bytes, probe.value.format, policy);
  if (!r.ok) throw new Error(`${file}: ${r.error.detail}`);
  return r.value;
}

function latin1(b: Uint8Array): string {
  return Buffer.from(b).toString("latin1");
}

async function tags(b: Uint8Array): Promise<Record<string, Record<string, unknown>>> {
  return (await exifr.parse(Buffer.from(b), EXIFR_ALL)) ?? {};
}

function riffChunk(b: Uint8Array, fourcc: string): Uint8Array | undefined {
  const w = walkWebp(b);
  if (!w.ok) return undefined;
  const c = w.value.chunks.find((x) => x.fourcc === fourcc);
  return c && b.subarray(c.data, c.data + c.size);
}

const stripOk = manifest.filter((r) => r.strip === "ok" && r.format);

describe("stripMetadata on the whole corpus", () => {
  it("matches the manifest's strip outcome for every file", () => {
    for (const row of manifest) {
      const format: ImageFormat = row.format ?? "jpeg";
      const r = stripMetadata(fixture(row.file), format, PRIVATE);
      expect(r.ok ? "ok" : r.error.code, row.file).toBe(row.strip);
    }
  });

  it("serves no planted secret, keeps the header facts, and is idempotent", () => {
    for (const row of stripOk) {
      for (const policy of [PRIVATE, KEEP]) {
        const out = strip(row.file, policy);
        const text = latin1(out);
        for (const s of SECRETS) expect(text, `${row.file} leaks ${s}`).not.toContain(s);
        const again = stripMetadata(out, row.format ?? "jpeg", policy);
        expect(again.ok && Buffer.from(again.value).equals(Buffer.from(out)), row.file).toBe(true);
        const probe = probeHeader(out);
        expect(probe.ok && probe.value.width, row.file).toBe(row.width);
        expect(probe.ok && probe.value.orientation, row.file).toBe(row.orientation);
        expect(probe.ok && probe.value.frames, row.file).toBe(row.frames);
      }
    }
  });
});

describe("JPEG", () => {
  it("drops GPS, EXIF, XMP, IPTC and comments but keeps the ICC profile", async () => {
    const out = strip("jpeg/full-metadata.jpg");
    expect(await tags(out)).toEqual({});
    expect(latin1(out)).toContain("ICC_PROFILE\0");
    expect(latin1(out)).not.toContain("FixtureCam");
  });

  it("keeps only copyright and camera when the policy says so", async () => {
    const t = await tags(strip("jpeg/full-metadata.jpg", KEEP));
    expect(t).toEqual({
      ifd0: {
        Make: "FixtureCam",
        Model: "FX-1 Pro",
        Artist: "Ada Example",
        Copyright: "(c) 2024 Ada Example",
      },
    });
  });

  it("writes back only the orientation, in either source byte order", async () => {
    for (let o = 1; o <= 8; o++) {
      const out = strip(`jpeg/orientation-${o}.jpg`);
      const t = await tags(out);
      if (o === 1) expect(t).toEqual({});
      else expect(Object.keys(t)).toEqual(["ifd0"]);
      expect(readOrientation(out, "jpeg")).toBe(o);
      const raw = await exifr.parse(Buffer.from(out), { translateValues: false });
      expect(raw?.Orientation ?? 1).toBe(o);
      expect(raw?.latitude).toBeUndefined();
    }
    const le = await tags(strip("jpeg/orientation-6-le.jpg", KEEP));
    expect(le).toEqual({ ifd0: { Make: "LeCam", Orientation: "Rotate 90 CW" } });
  });

  it("keeps the scans byte for byte and drops everything after EOI", () => {
    for (const file of ["jpeg/progressive.jpg", "jpeg/cmyk.jpg", "jpeg/html-after-eoi.jpg"]) {
      const input = fixture(file);
      const out = strip(file);
      const sos = (b: Uint8Array) => latin1(b).indexOf("\xff\xda");
      const eoi = latin1(input).lastIndexOf("\xff\xd9", input.length) + 2;
      const scans = latin1(input).slice(
        sos(input),
        latin1(input).indexOf("\xff\xd9", sos(input)) + 2,
      );
      expect(latin1(out).endsWith(scans), file).toBe(true);
      expect(eoi).toBeGreaterThan(0);
      expect(out.at(-2)).toBe(0xff);
      expect(out.at(-1)).toBe(0xd9);
    }
    expect(latin1(strip("jpeg/cmyk.jpg"))).toContain("Adobe");
    expect(latin1(strip("jpeg/progressive.jpg")).split("\xff\xda").length).toBe(
      latin1(fixture("jpeg/progressive.jpg")).split("\xff\xda").length,
    );
  });
});

describe("PNG", () => {
  it("drops text, time and XMP, re-adds a minimal eXIf, and every CRC is valid", async () => {
    const out = strip("png/text-exif.png");
    const walked = walkPng(out, true);
    expect(walked.ok).toBe(true);
    const types = walked.ok ? walked.value.chunks.map((c) => c.type) : [];
    expect(types.slice(0, 2)).toEqual(["IHDR", "eXIf"]);
    for (const gone of ["tEXt", "zTXt", "iTXt", "tIME"]) expect(types).not.toContain(gone);
    expect(types.filter((t) => t === "eXIf")).toHaveLength(1);
    const t = await tags(out);
    expect(t.ifd0).toEqual({ Orientation: "Rotate 270 CW" });
    expect((await tags(strip("png/text-exif.png", KEEP))).ifd0).toEqual({
      Make: "PngCam",
      Orientation: "Rotate 270 CW",
      Copyright: "(c) png",
    });
  });

  it("rejects a bad chunk CRC", () => {
    const r = stripMetadata(fixture("malformed/bad-crc.png"), "png", PRIVATE);
    expect(r.ok ? "ok" : r.error.code).toBe("corrupt_image");
  });
});

describe("GIF", () => {
  it("drops comments and the XMP application extension, keeps NETSCAPE looping", () => {
    const out = strip("gif/comment-xmp.gif");
    expect(latin1(out)).not.toContain("XMP DataXMP");
    expect(latin1(strip("gif/animated.gif"))).toContain("NETSCAPE2.0");
    const poly = strip("malformed/polyglot.gif");
    expect(poly.at(-1)).toBe(0x3b);
    expect(poly.length).toBe(fixture("malformed/polyglot.gif").length - 14);
  });
});

describe("WebP", () => {
  it("drops XMP and rewrites EXIF, the VP8X flags and the RIFF size", async () => {
    const out = strip("webp/exif-xmp.webp");
    expect(riffChunk(out, "XMP ")).toBeUndefined();
    expect(new DataView(out.buffer, out.byteOffset).getUint32(4, true)).toBe(out.length - 8);
    const vp8x = riffChunk(out, "VP8X");
    expect(vp8x?.[0]).toBe(0x08);
    const exif = riffChunk(out, "EXIF") ?? new Uint8Array();
    expect(await tags(exif)).toEqual({ ifd0: { Orientation: "Rotate 90 CW" } });
    const kept = riffChunk(strip("webp/exif-xmp.webp", KEEP), "EXIF") ?? new Uint8Array();
    expect((await tags(kept)).ifd0).toEqual({
      Make: "WebpCam",
      Orientation: "Rotate 90 CW",
      Copyright: "(c) webp",
    });
  });

  it("leaves a file without metadata byte-identical", () => {
    for (const file of ["webp/lossy.webp", "webp/animated.webp", "webp/lossless-alpha.webp"]) {
      expect(Buffer.from(strip(file)).equals(Buffer.from(fixture(file))), file).toBe(true);
    }
  });
});

describe("AVIF and HEIC (in-place blanking)", () => {
  for (const file of ["avif/exif-xmp.avif", "heic/exif.heic"]) {
    it(`${file}: no EXIF or XMP by default, kept fields on request, offsets unchanged`, async () => {
      const input = fixture(file);
      const out = strip(file);
      expect(out.length).toBe(input.length);
      const t = await tags(out);
      expect(t.ifd0).toBeUndefined();
      expect(t.gps).toBeUndefined();
      expect(t.xmp).toBeUndefined();
      const kept = await tags(strip(file, KEEP));
      expect(kept.gps).toBeUndefined();
      expect(kept.ifd0?.Make).toMatch(/Cam$/);
      expect(kept.ifd0?.Orientation).toBeUndefined();
    });
  }
});
