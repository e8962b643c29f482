import exifr from "exifr";
import { describe, expect, it } from "vitest";
import { buildMinimalTiff, readExifFields } from "../../src/pipeline/exif";

const enc = (s: string) => new TextEncoder().encode(s);

describe("minimal EXIF", () => {
  it("writes nothing when the orientation is 1 and nothing is kept", () => {
    expect(
      buildMinimalTiff({ orientation: 1, make: enc("Cam") }, { keepCopyrightAndCamera: false }),
    ).toBeNull();
  });

  it("round-trips through our reader and exifr", async () => {
    const fields = {
      orientation: 6,
      make: enc("Cam"),
      model: enc("A long model name"),
      artist: enc("Ada"),
      copyright: enc("(c) Ada"),
    };
    const tiff = buildMinimalTiff(fields, { keepCopyrightAndCamera: true });
    expect(tiff).not.toBeNull();
    const back = readExifFields(tiff ?? new Uint8Array());
    expect(back.orientation).toBe(6);
    expect(new TextDecoder().decode(back.model)).toBe("A long model name");
    const t = await exifr.parse(Buffer.from(tiff ?? []), { translateValues: false });
    expect(t).toEqual({
      Make: "Cam",
      Model: "A long model name",
      Orientation: 6,
      Artist: "Ada",
      Copyright: "(c) Ada",
    });
  });

  it("survives garbage, bad offsets and huge entry counts", () => {
    const evil = new Uint8Array([0x4d, 0x4d, 0, 0x2a, 0, 0, 0, 8, 0xff, 0xff, 1, 0x12, 0, 3]);
    expect(readExifFields(evil).orientation).toBe(1);
    expect(
      readExifFields(new Uint8Array([0x49, 0x49, 0x2a, 0, 0xff, 0xff, 0xff, 0xff])).orientation,
    ).toBe(1);
    expect(readExifFields(enc("Exif\0\0")).orientation).toBe(1);
  });
});
