import { describe, expect, it } from "vitest";
import { crc32 } from "../../src/pipeline/bytes";
import { walkPng } from "../../src/pipeline/parse-png";
import { repairPng } from "../../src/pipeline/png-repair";
import { decodePngScaled, PngDecodeError } from "../../src/pipeline/png-stream";
import { fixture } from "./fixtures";

/** Rewrites one chunk's payload (and so its length and CRC). */
function withChunk(png: Uint8Array, type: string, edit: (data: Uint8Array) => Uint8Array) {
  const walked = walkPng(png, false);
  if (!walked.ok) throw new Error(walked.error.detail);
  const c = walked.value.chunks.find((x) => x.type === type);
  if (!c) throw new Error(`no ${type}`);
  const data = edit(png.slice(c.data, c.data + c.length));
  const chunk = new Uint8Array(12 + data.length);
  const view = new DataView(chunk.buffer);
  view.setUint32(0, data.length);
  chunk.set(
    [...type].map((ch) => ch.charCodeAt(0)),
    4,
  );
  chunk.set(data, 8);
  view.setUint32(8 + data.length, crc32(chunk, 4, 8 + data.length));
  const out = new Uint8Array(png.length - (c.end - c.start) + chunk.length);
  out.set(png.subarray(0, c.start));
  out.set(chunk, c.start);
  out.set(png.subarray(c.end), c.start + chunk.length);
  return out;
}

function strictFailure(png: Uint8Array): string {
  try {
    decodePngScaled(png);
    return "decoded";
  } catch (e) {
    return e instanceof PngDecodeError ? e.message : String(e);
  }
}

describe("repairPng (strict originals)", () => {
  const good = fixture("png/palette.png");

  it("recomputes a wrong zlib checksum; the pixels are the upload's", () => {
    // palette.png has one IDAT: flip a bit of the Adler-32 at its end.
    const bad = withChunk(good, "IDAT", (d) => {
      d[d.length - 1] = (d[d.length - 1] ?? 0) ^ 1;
      return d;
    });
    expect(strictFailure(bad)).toMatch(/Adler-32/);
    const fixed = repairPng(bad, false);
    expect(fixed?.repairs).toEqual(["zlib_checksum"]);
    if (!fixed) return;
    expect(Buffer.from(fixed.bytes).equals(Buffer.from(good))).toBe(true);
  });

  it("pads a short palette with black so every index decodes", () => {
    const reference = decodePngScaled(good);
    // Keep only the first two colours: indices past them now point nowhere.
    const bad = withChunk(good, "PLTE", (d) => d.slice(0, 6));
    expect(strictFailure(bad)).toMatch(/palette index \d+ is past its 2 entries/);
    const fixed = repairPng(bad, true);
    expect(fixed?.repairs).toEqual(["palette_size"]);
    if (!fixed) return;
    const img = decodePngScaled(fixed.bytes);
    let black = 0;
    for (let i = 0; i < img.data.length; i += 4) {
      const kept = [...reference.data.subarray(i, i + 3)];
      const now = [...img.data.subarray(i, i + 3)];
      if (now.every((v) => v === 0) && !kept.every((v) => v === 0)) black++;
      else expect(now).toEqual(kept);
    }
    expect(black).toBeGreaterThan(0);
  });

  it("does not hide transit damage: a wrong checksum in an IDAT whose CRC fails stays refused", () => {
    const bad = good.slice();
    const walked = walkPng(bad, false);
    if (!walked.ok) throw new Error(walked.error.detail);
    const idat = walked.value.chunks.find((c) => c.type === "IDAT");
    if (!idat) throw new Error("no IDAT");
    // Flip the Adler-32's last byte without fixing the chunk's CRC.
    const at = idat.data + idat.length - 1;
    bad[at] = (bad[at] ?? 0) ^ 1;
    expect(repairPng(bad, false)).toBeNull();
  });

  it("leaves a sound PNG, and a stream broken beyond its checksum, alone", () => {
    expect(repairPng(good, false)).toBeNull();
    const broken = withChunk(good, "IDAT", (d) => d.slice(0, Math.floor(d.length / 2)));
    expect(repairPng(broken, true)).toBeNull();
  });
});
