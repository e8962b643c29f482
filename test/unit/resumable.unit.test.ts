import { describe, expect, it } from "vitest";
import { PartPacker } from "../../src/domain/part-packer";
import { parseByteCount, parseUploadChecksum, parseUploadMetadata } from "../../src/domain/tus";
import { PREFIX_PROBE_LIMIT, probePrefix } from "../../src/pipeline/prefix-probe";
import { fixture, manifest } from "./fixtures";

const MP100 = 100_000_000;

function bytes(n: number, seed = 0): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i + seed) & 0xff);
}

describe("PartPacker", () => {
  it("cuts chunks of any size into equal parts and keeps the tail", () => {
    const packer = new PartPacker(10);
    const input = bytes(57);
    const parts: Uint8Array[] = [];
    for (const size of [3, 1, 15, 0, 9, 20, 9]) {
      const start = parts.length * 10 + packer.tailBytes;
      parts.push(...packer.push(input.subarray(start, start + size)));
    }
    expect(parts.map((p) => p.length)).toEqual([10, 10, 10, 10, 10]);
    expect(packer.tailBytes).toBe(7);
    const tail = packer.tail();
    const resumed = new PartPacker(10, tail);
    expect(resumed.tailBytes).toBe(7);
    const last = resumed.drain();
    expect(Buffer.concat([...parts, last])).toEqual(Buffer.from(input));
    expect(resumed.tailBytes).toBe(0);
  });

  it("emits several parts from one large chunk", () => {
    const packer = new PartPacker(4, [bytes(3)]);
    expect(packer.push(bytes(13, 3)).map((p) => p.length)).toEqual([4, 4, 4, 4]);
    expect(packer.tailBytes).toBe(0);
  });
});

describe("tus headers", () => {
  it("parses Upload-Metadata pairs and refuses malformed ones", () => {
    const b64 = (s: string) => Buffer.from(s).toString("base64");
    expect(
      parseUploadMetadata(`filename ${b64("día.jpg")},title ${b64("Beach")},is_confidential`),
    ).toEqual({ ok: true, value: { filename: "día.jpg", title: "Beach" } });
    expect(parseUploadMetadata(null)).toEqual({ ok: true, value: {} });
    for (const bad of [
      "a b c",
      "a !!!",
      `a ${b64("x")},a ${b64("y")}`,
      "ü x",
      `a ${b64("\xff")}=`,
    ]) {
      expect(parseUploadMetadata(bad).ok, bad).toBe(false);
    }
    expect(parseUploadMetadata(`a ${"A".repeat(9000)}`).ok).toBe(false);
  });

  it("parses Upload-Checksum for sha256 only", () => {
    const digest = Buffer.alloc(32, 7).toString("base64");
    const parsed = parseUploadChecksum(`sha256 ${digest}`);
    expect(parsed.ok && parsed.value?.digest.length).toBe(32);
    expect(parseUploadChecksum(null)).toEqual({ ok: true, value: null });
    for (const bad of [`md5 ${digest}`, "sha256 abc", `sha256 ${digest} x`, "sha256"]) {
      const r = parseUploadChecksum(bad);
      expect(r.ok, bad).toBe(false);
      if (!r.ok) expect(r.error.code).toBe("bad_request");
    }
  });

  it("reads byte counts in plain decimal only", () => {
    expect(parseByteCount("0")).toBe(0);
    expect(parseByteCount("31457280")).toBe(31457280);
    for (const bad of [null, "", "-1", "1e3", "0x10", "12345678901234567", " "]) {
      expect(parseByteCount(bad), String(bad)).toBeNull();
    }
  });
});

describe("prefix probe", () => {
  const valid = manifest.filter((m) => m.probe === "ok" && m.format !== null);

  it.each(valid.map((m) => [m.file, m] as const))(
    "%s: never refused, and sizes agree with the full probe",
    (_file, entry) => {
      const file = fixture(entry.file);
      for (const length of [16, 64, 512, 4096, 65536, file.length]) {
        const head = file.subarray(0, Math.min(length, file.length));
        const verdict = probePrefix(head, head.length === file.length, MP100);
        if (verdict.kind === "refused") {
          // Only what the processor refuses for its size may be refused early, for the same.
          expect(entry.expect, `${length} bytes`).toBe("too_many_pixels");
          expect(verdict.code).toBe("too_many_pixels");
        }
        if (verdict.kind === "accepted") {
          expect(verdict.format).toBe(entry.format);
          if (verdict.width !== null && verdict.height !== null && entry.width && entry.height) {
            // Stored orientation may swap the sides. HEIF takes its largest extent, which a
            // padded tile grid can make a little larger than the image: never smaller.
            const early = verdict.width * verdict.height;
            const full = entry.width * entry.height;
            if (entry.format === "heic" || entry.format === "avif") {
              expect(early).toBeGreaterThanOrEqual(full);
              expect(early).toBeLessThanOrEqual(full * 1.5);
            } else {
              expect(early).toBe(full);
            }
          }
        }
      }
    },
  );

  it("refuses a non-image from its first bytes", () => {
    const html = new TextEncoder().encode(`<!doctype html><html>${"x".repeat(100)}`);
    expect(probePrefix(html, false, MP100)).toMatchObject({
      kind: "refused",
      code: "unsupported_format",
      detail: "HTML is not accepted",
    });
    expect(probePrefix(bytes(10), false, MP100).kind).toBe("need_more");
    expect(probePrefix(bytes(10), true, MP100).kind).toBe("refused");
  });

  it("refuses a header over the pixel limit as soon as it has arrived", () => {
    const jpeg = fixture("jpeg/full-metadata.jpg");
    const verdict = probePrefix(jpeg.subarray(0, 8192), false, 320 * 240 - 1);
    expect(verdict).toMatchObject({ kind: "refused", code: "too_many_pixels" });
    const png = new Uint8Array(64);
    png.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 73, 72, 68, 82]);
    new DataView(png.buffer).setUint32(16, 70000);
    new DataView(png.buffer).setUint32(20, 10);
    expect(probePrefix(png, false, MP100)).toMatchObject({
      kind: "refused",
      code: "too_many_pixels",
    });
  });

  it("gives up waiting for a header after the limit and lets the processor decide", () => {
    const jpeg = new Uint8Array(PREFIX_PROBE_LIMIT + 10);
    jpeg.set([0xff, 0xd8, 0xff, 0xe1, 0xff, 0xff]);
    // One APP1 segment of 64 KiB after another: the frame header never arrives in the prefix.
    for (let o = 2; o + 4 < jpeg.length; o += 0xffff + 2) jpeg.set([0xff, 0xe1, 0xff, 0xff], o);
    expect(probePrefix(jpeg.subarray(0, 100_000), false, MP100).kind).toBe("need_more");
    expect(probePrefix(jpeg, false, MP100)).toMatchObject({ kind: "accepted", width: null });
  });
});
