import { describe, expect, it } from "vitest";
import { describeUnsupported, sniffFormat } from "../../src/pipeline/sniff";
import { fixture, manifest } from "./fixtures";

const text = (s: string) => new TextEncoder().encode(s);

function ftyp(major: string, ...compatible: string[]): Uint8Array {
  const brands = [major, "\0\0\0\0", ...compatible].join("");
  const size = 8 + brands.length;
  return text(`\0\0\0${String.fromCharCode(size)}ftyp${brands}`);
}

describe("sniffFormat", () => {
  it("recognises every corpus image by its magic bytes", () => {
    for (const row of manifest.filter((r) => r.probe === "ok")) {
      expect(sniffFormat(fixture(row.file)), row.file).toBe(row.format);
    }
  });

  it("maps ISOBMFF brands to avif and heic", () => {
    expect(sniffFormat(ftyp("avif", "mif1"))).toBe("avif");
    expect(sniffFormat(ftyp("avis", "msf1"))).toBe("avif");
    expect(sniffFormat(ftyp("mif1", "avif"))).toBe("avif");
    expect(sniffFormat(ftyp("heic", "mif1"))).toBe("heic");
    expect(sniffFormat(ftyp("mif1", "heic"))).toBe("heic");
    expect(sniffFormat(ftyp("heix"))).toBe("heic");
    expect(sniffFormat(ftyp("mif1"))).toBeNull();
    expect(sniffFormat(ftyp("isom", "mp41"))).toBeNull();
  });

  it("rejects non-images, short inputs and near misses", () => {
    for (const s of ["", "\xff\xd8", "GIF88a", "RIFF\0\0\0\0WAVE", "%PDF-1.7", "<svg/>"]) {
      expect(sniffFormat(text(s))).toBeNull();
    }
    expect(sniffFormat(new Uint8Array([0x89, 0x50, 0x4e, 0x47]))).toBeNull();
  });

  it("names what an unsupported upload looks like", () => {
    expect(describeUnsupported(fixture("malformed/image.svg"))).toBe("SVG/XML is not accepted");
    expect(describeUnsupported(fixture("malformed/page.html"))).toBe("HTML is not accepted");
    expect(describeUnsupported(fixture("malformed/image.mvg"))).toMatch(/MVG/);
    expect(describeUnsupported(fixture("malformed/text.jpg"))).toMatch(/text/);
    expect(describeUnsupported(new Uint8Array())).toMatch(/empty/);
    expect(describeUnsupported(text("%PDF-1.4"))).toMatch(/PDF/);
    expect(describeUnsupported(text("PK\x03\x04zip"))).toMatch(/ZIP/);
  });
});
