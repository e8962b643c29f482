/**
 * A pull-based zlib (RFC 1950/1951) inflater in plain TypeScript, for decoders that must consume
 * decompressed bytes as they are made (png-stream.ts).
 *
 * Why not the runtime's DecompressionStream: neither runtime paces it. workerd's implementation
 * inflates each written piece completely into an unbounded buffer ("does not yet implement any
 * backpressure", src/workerd/api/streams/compression.c++), and Node 20's adapter keeps writing
 * into zlib whatever the reader does: a 19 KB zlib stream of 20 MB of zeros, written in 256 B to
 * 4 KiB pieces with each write awaited and a reader draining concurrently, still held 21.6 MB of
 * output in ArrayBuffers (node --expose-gc, gc() before each sample). A flat 1-bit scan
 * compresses ~1000:1, so that pile-up is the whole image. Here the caller asks for output and
 * at most one buffer's worth (128 KiB, 160 KiB on the first call) is made per call, whatever
 * the ratio: the inflater's whole state is that buffer and two Huffman tables (< 0.5 MiB).
 */

/** The zlib stream is malformed: bad header, bad codes, too short, or a wrong Adler-32. */
export class InflateError extends Error {}

const LEN_BASE = new Uint16Array([
  3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
  163, 195, 227, 258,
]);
const LEN_EXTRA = new Uint8Array([
  0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
]);
const DIST_BASE = new Uint16Array([
  1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049,
  3073, 4097, 6145, 8193, 12289, 16385, 24577,
]);
const DIST_EXTRA = new Uint8Array([
  0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13,
]);
const CODE_LENGTH_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

/** Deflate's history: a match reaches at most this far back. */
const WINDOW = 32768;
/** Output made per `next()` call at most (the first call, with no history yet, up to 160 KiB). */
const CHUNK = 131072;
/** The longest match: the decode loop stops this far from the buffer's end. */
const MAX_MATCH = 258;
/** Table entries any stream may fill before its output must pay for more (see dynamicCodes). */
const TABLE_WORK_BASE = 1 << 22;

/**
 * A canonical Huffman code as a lookup table indexed by the next `bits` input bits (LSB
 * first); each entry is symbol << 4 | code length, 0 where no code matches.
 */
interface Huffman {
  table: Int32Array;
  bits: number;
  /** Every bit pattern decodes (no gaps in the code space). */
  complete: boolean;
}

/** Builds the lookup table for code lengths `lens`; null for an over-subscribed code. */
function buildHuffman(lens: Uint8Array): Huffman | null {
  const count = new Uint16Array(16);
  let max = 0;
  for (const l of lens) {
    count[l] = (count[l] ?? 0) + 1;
    if (l > max) max = l;
  }
  count[0] = 0;
  let left = 1;
  for (let len = 1; len <= 15; len++) {
    left = (left << 1) - (count[len] ?? 0);
    if (left < 0) return null;
  }
  const bits = Math.max(1, max);
  const table = new Int32Array(1 << bits);
  const next = new Uint16Array(16);
  let code = 0;
  for (let len = 1; len <= 15; len++) {
    code = (code + (count[len - 1] ?? 0)) << 1;
    next[len] = code;
  }
  for (let sym = 0; sym < lens.length; sym++) {
    const len = lens[sym] ?? 0;
    if (len === 0) continue;
    const c = next[len] ?? 0;
    next[len] = c + 1;
    // Deflate sends codes most-significant bit first into an LSB-first stream: reverse them.
    let rev = 0;
    for (let i = 0; i < len; i++) rev |= ((c >> i) & 1) << (len - 1 - i);
    const entry = (sym << 4) | len;
    for (let i = rev; i < table.length; i += 1 << len) table[i] = entry;
  }
  return { table, bits, complete: left === 0 };
}

/**
 * Literal/length and distance codes must fill the code space, except the degenerate ones zlib
 * accepts: no codes at all (a block of literals only) and a single code of length 1.
 */
function usable(h: Huffman | null): h is Huffman {
  return h !== null && (h.complete || h.bits === 1);
}

let fixedCodes: { lit: Huffman; dist: Huffman } | null = null;

function fixed(): { lit: Huffman; dist: Huffman } {
  if (fixedCodes) return fixedCodes;
  const lit = new Uint8Array(288);
  lit.fill(8, 0, 144);
  lit.fill(9, 144, 256);
  lit.fill(7, 256, 280);
  lit.fill(8, 280, 288);
  const litCode = buildHuffman(lit);
  const distCode = buildHuffman(new Uint8Array(30).fill(5));
  if (!litCode || !distCode) throw new Error("inflate: fixed codes are malformed");
  fixedCodes = { lit: litCode, dist: distCode };
  return fixedCodes;
}

/** Adler-32 update over b[start, end). */
function adler32(adler: number, b: Uint8Array, start: number, end: number): number {
  let a = adler & 0xffff;
  let s = adler >>> 16;
  let i = start;
  while (i < end) {
    // 5552 bytes is the most that can be summed before s could pass 2^32 (zlib's NMAX).
    const stop = Math.min(end, i + 5552);
    for (; i < stop; i++) {
      a += b[i] ?? 0;
      s += a;
    }
    a %= 65521;
    s %= 65521;
  }
  return ((s << 16) | a) >>> 0;
}

/**
 * Inflates a zlib stream given as consecutive pieces (a PNG's IDAT payloads, not copied).
 * `next()` returns the next run of output (a view valid until the following call) or null
 * once the stream has ended and its Adler-32 matched. Bytes after the zlib stream are
 * ignored, as libpng does by default.
 */
export class ZlibInflater {
  private readonly pieces: readonly Uint8Array[];
  private piece = 0;
  private cur: Uint8Array;
  private pos = 0;
  private bitBuf = 0;
  private bitCnt = 0;
  /** Zero bits appended past the end of the input; consuming one means the stream is short. */
  private pad = 0;

  private readonly out = new Uint8Array(WINDOW + CHUNK);
  private wpos = 0;
  private adler = 1;

  private started = false;
  private inBlock = false;
  private finalBlock = false;
  private ended = false;
  /** Bytes left in the current stored block; -1 in a Huffman block. */
  private stored = -1;
  private lit: Huffman | null = null;
  private dist: Huffman | null = null;

  /** Table entries filled for dynamic blocks, against the output they decode. */
  private tableWork = 0;
  /** Bytes output so far. */
  private produced = 0;

  /** The Adler-32 the stream ends with, once read. */
  storedChecksum: number | null = null;
  private readonly verify: boolean;

  /** `verifyChecksum: false` reads to the end whatever the Adler-32 says (png-repair.ts). */
  constructor(pieces: readonly Uint8Array[], options: { verifyChecksum?: boolean } = {}) {
    this.pieces = pieces;
    this.cur = pieces[0] ?? new Uint8Array(0);
    this.verify = options.verifyChecksum ?? true;
  }

  /** The Adler-32 of the output so far (of the whole output once `done`). */
  get computedChecksum(): number {
    return this.adler;
  }

  /** True once the whole stream, Adler-32 included, has been read. */
  get done(): boolean {
    return this.ended;
  }

  /** The next run of output, or null at the (verified) end of the stream. */
  next(): Uint8Array | null {
    if (this.ended) return null;
    if (!this.started) this.header();
    // Keep the last WINDOW bytes as history for matches, then fill the rest.
    if (this.wpos > WINDOW) {
      this.out.copyWithin(0, this.wpos - WINDOW, this.wpos);
      this.wpos = WINDOW;
    }
    const start = this.wpos;
    const limit = this.out.length - MAX_MATCH;
    while (this.wpos < limit) {
      if (!this.inBlock) {
        if (this.finalBlock) {
          this.trailer(start);
          return this.wpos > start ? this.out.subarray(start, this.wpos) : null;
        }
        this.blockHeader();
        continue;
      }
      if (this.stored >= 0) this.copyStored(limit);
      else this.decodeHuffman(limit);
    }
    this.adler = adler32(this.adler, this.out, start, this.wpos);
    this.produced += this.wpos - start;
    return this.out.subarray(start, this.wpos);
  }

  private fail(why: string): never {
    throw new InflateError(why);
  }

  private refill(): void {
    let b: number;
    if (this.pos < this.cur.length) {
      b = this.cur[this.pos++] ?? 0;
    } else {
      while (this.pos >= this.cur.length && this.piece + 1 < this.pieces.length) {
        this.piece++;
        this.cur = this.pieces[this.piece] ?? new Uint8Array(0);
        this.pos = 0;
      }
      if (this.pos < this.cur.length) {
        b = this.cur[this.pos++] ?? 0;
      } else {
        // Past the end: zeros, so a table lookup may peek; using them is an error (see drop).
        b = 0;
        this.pad += 8;
      }
    }
    this.bitBuf |= b << this.bitCnt;
    this.bitCnt += 8;
  }

  private need(n: number): void {
    while (this.bitCnt < n) this.refill();
  }

  private drop(n: number): void {
    this.bitBuf >>>= n;
    this.bitCnt -= n;
    if (this.bitCnt < this.pad) this.fail("zlib stream is truncated");
  }

  private bits(n: number): number {
    if (n === 0) return 0;
    this.need(n);
    const v = this.bitBuf & ((1 << n) - 1);
    this.drop(n);
    return v;
  }

  private symbol(h: Huffman): number {
    this.need(h.bits);
    const e = h.table[this.bitBuf & ((1 << h.bits) - 1)] ?? 0;
    const len = e & 15;
    if (len === 0) this.fail("invalid Huffman code");
    this.drop(len);
    return e >> 4;
  }

  private header(): void {
    this.started = true;
    const cmf = this.bits(8);
    const flg = this.bits(8);
    if ((cmf & 15) !== 8 || cmf >> 4 > 7) this.fail("not a deflate zlib stream");
    if ((cmf * 256 + flg) % 31 !== 0) this.fail("zlib header check failed");
    if (flg & 32) this.fail("zlib stream needs a preset dictionary");
  }

  private blockHeader(): void {
    this.finalBlock = this.bits(1) === 1;
    const type = this.bits(2);
    this.inBlock = true;
    if (type === 0) {
      this.drop(this.bitCnt & 7);
      const len = this.bits(16);
      const nlen = this.bits(16);
      if ((len ^ 0xffff) !== nlen) this.fail("stored block length check failed");
      this.stored = len;
    } else if (type === 1) {
      const f = fixed();
      this.lit = f.lit;
      this.dist = f.dist;
      this.stored = -1;
    } else if (type === 2) {
      this.dynamicCodes();
      this.stored = -1;
    } else {
      this.fail("invalid block type");
    }
  }

  private dynamicCodes(): void {
    const nlit = this.bits(5) + 257;
    const ndist = this.bits(5) + 1;
    const nclen = this.bits(4) + 4;
    if (nlit > 286 || ndist > 30) this.fail("too many length or distance codes");
    const clens = new Uint8Array(19);
    for (let i = 0; i < nclen; i++) clens[CODE_LENGTH_ORDER[i] ?? 0] = this.bits(3);
    const cl = buildHuffman(clens);
    // zlib refuses an incomplete code-length code outright.
    if (!cl?.complete) this.fail("invalid code-length code");
    const lens = new Uint8Array(nlit + ndist);
    for (let i = 0; i < lens.length; ) {
      const sym = this.symbol(cl);
      if (sym < 16) {
        lens[i++] = sym;
        continue;
      }
      let repeat: number;
      let value = 0;
      if (sym === 16) {
        if (i === 0) this.fail("repeat with no previous length");
        value = lens[i - 1] ?? 0;
        repeat = 3 + this.bits(2);
      } else if (sym === 17) {
        repeat = 3 + this.bits(3);
      } else {
        repeat = 11 + this.bits(7);
      }
      if (i + repeat > lens.length) this.fail("code lengths overflow");
      lens.fill(value, i, i + repeat);
      i += repeat;
    }
    if (lens[256] === 0) this.fail("no end-of-block code");
    const lit = buildHuffman(lens.subarray(0, nlit));
    const dist = buildHuffman(lens.subarray(nlit));
    if (!usable(lit) || !usable(dist)) this.fail("invalid literal/length or distance code");
    // Each dynamic block costs a table fill of up to 2^15 entries even if it decodes nothing:
    // a stream of empty blocks would spin without output. Real encoders start a block every
    // few KiB of output at most, far inside this allowance.
    this.tableWork += lit.table.length + dist.table.length;
    if (this.tableWork > TABLE_WORK_BASE + 64 * this.produced) {
      this.fail("zlib stream builds far more Huffman tables than its output needs");
    }
    this.lit = lit;
    this.dist = dist;
  }

  private copyStored(limit: number): void {
    while (this.stored > 0 && this.wpos < limit) {
      if (this.bitCnt - this.pad >= 8) {
        // Whole bytes already pulled into the bit buffer come first.
        this.out[this.wpos++] = this.bits(8);
        this.stored--;
        continue;
      }
      if (this.pos >= this.cur.length) {
        if (this.piece + 1 >= this.pieces.length) this.fail("zlib stream is truncated");
        this.piece++;
        this.cur = this.pieces[this.piece] ?? new Uint8Array(0);
        this.pos = 0;
        continue;
      }
      const n = Math.min(this.stored, limit - this.wpos, this.cur.length - this.pos);
      this.out.set(this.cur.subarray(this.pos, this.pos + n), this.wpos);
      this.pos += n;
      this.wpos += n;
      this.stored -= n;
    }
    if (this.stored === 0) this.inBlock = false;
  }

  /**
   * The hot loop: bit buffer and output position live in locals and the input is read straight
   * from the current piece; crossing a piece (or the end) goes through refill().
   */
  private decodeHuffman(limit: number): void {
    const out = this.out;
    const lit = this.lit;
    const dist = this.dist;
    if (!lit || !dist) this.fail("no codes for this block");
    const litTable = lit.table;
    const litMask = (1 << lit.bits) - 1;
    const distTable = dist.table;
    const distMask = (1 << dist.bits) - 1;
    let cur = this.cur;
    let pos = this.pos;
    let buf = this.bitBuf;
    let cnt = this.bitCnt;
    let w = this.wpos;
    // Pulls bytes until at least 24 bits are buffered (enough for any one code or extra).
    const fill = (): void => {
      while (cnt < 24) {
        if (pos < cur.length) {
          buf |= (cur[pos++] ?? 0) << cnt;
          cnt += 8;
        } else {
          this.bitBuf = buf;
          this.bitCnt = cnt;
          this.pos = pos;
          this.refill();
          cur = this.cur;
          pos = this.pos;
          buf = this.bitBuf;
          cnt = this.bitCnt;
        }
      }
    };
    try {
      while (w < limit) {
        if (cnt < 24) fill();
        let e = litTable[buf & litMask] ?? 0;
        let n = e & 15;
        if (n === 0) this.fail("invalid Huffman code");
        buf >>>= n;
        cnt -= n;
        const sym = e >> 4;
        if (sym < 256) {
          out[w++] = sym;
          if (cnt < this.pad) this.fail("zlib stream is truncated");
          continue;
        }
        if (sym === 256) {
          this.inBlock = false;
          break;
        }
        const li = sym - 257;
        if (li >= 29) this.fail("invalid length code");
        let len = LEN_BASE[li] ?? 0;
        n = LEN_EXTRA[li] ?? 0;
        if (n > 0) {
          if (cnt < 24) fill();
          len += buf & ((1 << n) - 1);
          buf >>>= n;
          cnt -= n;
        }
        if (cnt < 24) fill();
        e = distTable[buf & distMask] ?? 0;
        n = e & 15;
        if (n === 0) this.fail("invalid Huffman code");
        buf >>>= n;
        cnt -= n;
        const di = e >> 4;
        if (di >= 30) this.fail("invalid distance code");
        let d = DIST_BASE[di] ?? 0;
        n = DIST_EXTRA[di] ?? 0;
        if (n > 0) {
          if (cnt < 24) fill();
          d += buf & ((1 << n) - 1);
          buf >>>= n;
          cnt -= n;
        }
        if (cnt < this.pad) this.fail("zlib stream is truncated");
        // Before the first slide `w` is all the output so far; after it, a full window.
        if (d > w) this.fail("distance reaches before the start of the stream");
        if (d === 1) {
          out.fill(out[w - 1] ?? 0, w, w + len);
          w += len;
        } else if (len <= 16 || d < 8) {
          for (let from = w - d, end = w + len; w < end; ) out[w++] = out[from++] ?? 0;
        } else {
          // Long matches: copy in runs of at most `d` bytes (an overlapping match repeats).
          let left = len;
          while (left > 0) {
            const k = Math.min(left, d);
            out.copyWithin(w, w - d, w - d + k);
            w += k;
            left -= k;
          }
        }
      }
    } finally {
      this.bitBuf = buf;
      this.bitCnt = cnt;
      this.pos = pos;
      this.wpos = w;
    }
  }

  private trailer(start: number): void {
    this.adler = adler32(this.adler, this.out, start, this.wpos);
    this.drop(this.bitCnt & 7);
    let want = 0;
    // Stored most significant byte first.
    for (let i = 0; i < 4; i++) want = want * 256 + this.bits(8);
    this.storedChecksum = want;
    if (this.verify && want !== this.adler) this.fail("zlib Adler-32 mismatch");
    this.ended = true;
  }
}
