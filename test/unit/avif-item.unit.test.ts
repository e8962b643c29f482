import { describe, expect, it } from "vitest";
import { type AvifItems, avifPlaneBytes, findAvifItems } from "../../src/pipeline/avif-item";
import type { Parse } from "../../src/pipeline/bytes";
import { walkIsobmff } from "../../src/pipeline/parse-isobmff";
import { ftypBrands } from "../../src/pipeline/sniff";
import { fixture } from "./fixtures";

function find(bytes: Uint8Array): Parse<AvifItems> {
  const layout = walkIsobmff(bytes, ftypBrands(bytes) ?? []);
  if (!layout.ok) throw new Error(layout.error.detail);
  return findAvifItems(bytes, layout.value);
}

function outcome(bytes: Uint8Array): string {
  const r = find(bytes);
  return r.ok ? "ok" : `${r.error.code}: ${r.error.detail}`;
}

/** Offset of the first occurrence of a four-character box type. */
function at(bytes: Uint8Array, type: string): number {
  const t = new TextEncoder().encode(type);
  for (let i = 0; i + 4 <= bytes.length; i++) {
    if (t.every((c, k) => bytes[i + k] === c)) return i;
  }
  throw new Error(`no ${type}`);
}

/** A copy with `type` (a box or item type) renamed to `to`. */
function renamed(bytes: Uint8Array, type: string, to: string): Uint8Array {
  const out = bytes.slice();
  out.set(new TextEncoder().encode(to), at(out, type));
  return out;
}

describe("findAvifItems: which AVIFs avif-dav1d takes", () => {
  const plain = fixture("avif/irot-imir.avif");

  it("cuts out the primary item and reads av1C and nclx", () => {
    const r = find(plain);
    if (!r.ok) throw new Error(r.error.detail);
    // The item is the mdat payload (one extent).
    const mdat = at(plain, "mdat");
    expect(r.value.color).toEqual(plain.subarray(mdat + 4));
    expect(r.value.alpha).toBeNull();
    expect(r.value.nclx).toEqual({ matrix: 6, fullRange: true });
    expect(r.value.config).toEqual({
      bitDepth: 8,
      monochrome: false,
      subsamplingX: false,
      subsamplingY: false,
    });
    expect(avifPlaneBytes(r.value)).toBe(3);
  });

  it("finds the alpha auxiliary item", () => {
    const r = find(fixture("avif/alpha.avif"));
    if (!r.ok) throw new Error(r.error.detail);
    expect(r.value.alpha?.length).toBeGreaterThan(0);
    expect(avifPlaneBytes(r.value)).toBe(4);
  });

  it("counts 2 bytes a sample above 8 bits", () => {
    const twelve = find(fixture("avif/exif-xmp.avif"));
    if (!twelve.ok) throw new Error(twelve.error.detail);
    expect(twelve.value.config.bitDepth).toBe(12);
    expect(avifPlaneBytes(twelve.value)).toBe(6);
    const tenBit = plain.slice();
    tenBit[at(tenBit, "av1C") + 6] = (tenBit[at(tenBit, "av1C") + 6] ?? 0) | 0x40;
    const ten = find(tenBit);
    if (!ten.ok) throw new Error(ten.error.detail);
    expect([ten.value.config.bitDepth, avifPlaneBytes(ten.value)]).toEqual([10, 6]);
  });

  it("leaves grids, layered items and unknown matrices to libavif", () => {
    // A grid primary item never gets here without its ImageGrid data: the walk refuses it.
    const grid = renamed(plain, "av01", "grid");
    const walked = walkIsobmff(grid, ftypBrands(grid) ?? []);
    expect(walked.ok ? "ok" : walked.error.detail).toBe("HEIF grid item has no ImageGrid data");
    expect(outcome(renamed(plain, "irot", "a1lx"))).toMatch(/a1lx \(layered image\)/);
    const ictcp = plain.slice();
    new DataView(ictcp.buffer).setUint16(at(ictcp, "colr") + 12, 14);
    expect(outcome(ictcp)).toBe("unsupported_format: AVIF matrix 14");
  });

  it("calls an item reaching past the end of the file corrupt", () => {
    const layout = walkIsobmff(plain, ftypBrands(plain) ?? []);
    if (!layout.ok) throw new Error(layout.error.detail);
    const extent = layout.value.iloc[0]?.extents[0];
    if (!extent || layout.value.ilocLengthSize !== 4) throw new Error("unexpected iloc");
    const long = plain.slice();
    new DataView(long.buffer).setUint32(extent.lengthFieldAt, 10_000);
    expect(outcome(long)).toMatch(/^corrupt_image/);
  });
});
