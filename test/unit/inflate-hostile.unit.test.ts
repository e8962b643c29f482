import { describe, expect, it } from "vitest";
import { InflateError, ZlibInflater } from "../../src/pipeline/inflate";

/** LSB-first bit writer, as deflate packs its fields. */
class Bits {
  private bytes: number[] = [];
  private acc = 0;
  private n = 0;
  put(value: number, count: number): void {
    for (let i = 0; i < count; i++) {
      this.acc |= ((value >> i) & 1) << this.n;
      if (++this.n === 8) {
        this.bytes.push(this.acc);
        this.acc = 0;
        this.n = 0;
      }
    }
  }
  /** A Huffman code: sent most significant bit first. */
  code(code: number, length: number): void {
    for (let i = length - 1; i >= 0; i--) this.put((code >> i) & 1, 1);
  }
  align(): void {
    if (this.n > 0) this.put(0, 8 - this.n);
  }
  done(): Uint8Array {
    this.align();
    return Uint8Array.from(this.bytes);
  }
}

/** Canonical deflate codes for the lengths (symbol -> [code, length]). */
function canonical(lengths: Map<number, number>): Map<number, [number, number]> {
  const byLength = [...lengths].sort((a, b) => a[1] - b[1] || a[0] - b[0]);
  const out = new Map<number, [number, number]>();
  let code = 0;
  let prev = 0;
  for (const [sym, len] of byLength) {
    code <<= len - prev;
    prev = len;
    out.set(sym, [code, len]);
    code++;
  }
  return out;
}

const ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

/**
 * A zlib stream of `blocks` dynamic blocks that decode nothing: each declares a complete
 * literal code up to 15 bits long (a 32768-entry table to fill) and holds only end-of-block.
 */
function emptyDynamicBlocks(blocks: number): Uint8Array {
  // Literal lengths: symbols 0..13 get 1..14 bits, 14 and 256 (end of block) get 15.
  const lit = new Map<number, number>();
  for (let s = 0; s < 14; s++) lit.set(s, s + 1);
  lit.set(14, 15);
  lit.set(256, 15);
  const litCodes = canonical(lit);
  // Code-length code: lengths 1..15 at 4 bits, 0 and 18 (a zero run) at 5: complete.
  const cl = new Map<number, number>();
  for (let v = 1; v <= 15; v++) cl.set(v, 4);
  cl.set(0, 5);
  cl.set(18, 5);
  const clCodes = canonical(cl);
  const w = new Bits();
  w.put(0x78, 8);
  w.put(0x01, 8);
  for (let b = 0; b < blocks; b++) {
    w.put(0, 1); // not final
    w.put(2, 2); // dynamic
    w.put(0, 5); // 257 literal/length codes
    w.put(0, 5); // 1 distance code
    w.put(15, 4); // all 19 code-length code lengths
    for (const sym of ORDER) w.put(cl.get(sym) ?? 0, 3);
    const send = (sym: number) => {
      const [c, l] = clCodes.get(sym) ?? [0, 0];
      w.code(c, l);
    };
    for (let s = 0; s < 15; s++) send(lit.get(s) ?? 0);
    // Symbols 15..255 are unused: 241 zeros as runs of 138 and 103.
    send(18);
    w.put(138 - 11, 7);
    send(18);
    w.put(103 - 11, 7);
    send(15); // end of block
    send(0); // the one distance code: unused
    const [eob, eobLen] = litCodes.get(256) ?? [0, 0];
    w.code(eob, eobLen);
  }
  // A final empty stored block, then the Adler-32 of nothing (1).
  w.put(1, 1);
  w.put(0, 2);
  w.align();
  w.put(0, 16);
  w.put(0xffff, 16);
  w.put(0, 8);
  w.put(0, 8);
  w.put(0, 8);
  w.put(1, 8);
  return w.done();
}

describe("ZlibInflater against hostile streams", () => {
  it("decodes a few empty dynamic blocks (the crafted stream is valid deflate)", () => {
    const z = new ZlibInflater([emptyDynamicBlocks(3)]);
    expect(z.next()).toBeNull();
    expect(z.done).toBe(true);
  });

  it("stops a stream of empty dynamic blocks long before it fills tables for all of them", () => {
    // 20,000 blocks x 32,770 entries would be 655M table writes for no output.
    const z = new ZlibInflater([emptyDynamicBlocks(20_000)]);
    expect(() => z.next()).toThrow(InflateError);
    expect(() => new ZlibInflater([emptyDynamicBlocks(20_000)]).next()).toThrow(
      /far more Huffman tables/,
    );
  });
});
