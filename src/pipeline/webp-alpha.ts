/**
 * Transparent WebP without libwebp's alpha encoder. libwebp compresses the alpha plane with its
 * full VP8L encoder (hash chains, three backward-reference buffers, a cost model), which peaks at
 * ~38 bytes of WASM per pixel: 151 MiB for a 2048 x 2048 cutout, over the isolate's 128 MB. The
 * colour goes through libwebp's lossy VP8 encoder as an opaque image (~13 B/px) and the alpha
 * plane is coded here, in one byte a pixel plus the output: an ALPH chunk holding a VP8L image
 * stream of the (optionally gradient-filtered) plane in the green channel, with run copies from
 * the left and from the row above. Masks and soft edges are mostly runs, which is what it codes
 * well; the WebP container spec (RFC 9649) defines every field written here.
 */

/** LSB-first bit writer (VP8L packs bits from the least significant end). */
class BitWriter {
  private buf: Uint8Array;
  private pos = 0;
  private acc = 0;
  private nbits = 0;

  constructor(capacity: number) {
    this.buf = new Uint8Array(Math.max(64, capacity));
  }

  /** Writes the low `n` (<= 24) bits of `value`. */
  bits(value: number, n: number): void {
    this.acc |= (value & ((1 << n) - 1)) << this.nbits;
    this.nbits += n;
    while (this.nbits >= 8) {
      if (this.pos === this.buf.length) {
        const next = new Uint8Array(this.buf.length * 2);
        next.set(this.buf);
        this.buf = next;
      }
      this.buf[this.pos++] = this.acc & 0xff;
      this.acc >>>= 8;
      this.nbits -= 8;
    }
  }

  /** The bytes written, the last one zero-padded. */
  finish(): Uint8Array {
    if (this.nbits > 0) this.bits(0, 8 - this.nbits);
    return this.buf.slice(0, this.pos);
  }
}

const MAX_CODE_LENGTH = 15;
/** Order in which code-length code lengths are stored (RFC 9649, 3.7.2.1.2). */
const CODE_LENGTH_ORDER = [17, 18, 0, 1, 2, 3, 4, 5, 16, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
const LENGTH_PREFIXES = 24;
const GREEN_ALPHABET = 256 + LENGTH_PREFIXES;
/** Distance codes 1 and 2 are the 2-D neighbours "row above" and "pixel to the left". */
const DIST_ABOVE = 1;
const DIST_LEFT = 2;
const MIN_COPY = 3;
const MAX_COPY = 4096;

/** Code lengths (<= maxLength) for the histogram; a symbol with count 0 gets length 0. */
export function huffmanLengths(counts: ArrayLike<number>, maxLength: number): Uint8Array {
  const n = counts.length;
  const lengths = new Uint8Array(n);
  // Flattening the counts until the tree fits keeps this simple; alphabets here are <= 280.
  for (let floor = 1; ; floor *= 2) {
    const nodes: { w: number; syms: number[] }[] = [];
    for (let s = 0; s < n; s++) {
      const c = counts[s] ?? 0;
      if (c > 0) nodes.push({ w: Math.max(c, floor), syms: [s] });
    }
    lengths.fill(0);
    if (nodes.length === 1) {
      const only = nodes[0]?.syms[0] ?? 0;
      lengths[only] = 1;
      return lengths;
    }
    while (nodes.length > 1) {
      nodes.sort((a, b) => a.w - b.w);
      const a = nodes.shift();
      const b = nodes.shift();
      if (!a || !b) break;
      for (const s of a.syms) lengths[s] = (lengths[s] ?? 0) + 1;
      for (const s of b.syms) lengths[s] = (lengths[s] ?? 0) + 1;
      nodes.push({ w: a.w + b.w, syms: a.syms.concat(b.syms) });
    }
    let max = 0;
    for (const l of lengths) max = Math.max(max, l);
    if (max <= maxLength) return lengths;
  }
}

/** Canonical codes for the lengths, bit-reversed so they can be written LSB-first. */
function canonicalCodes(lengths: Uint8Array): Uint16Array {
  const blCount = new Uint16Array(MAX_CODE_LENGTH + 1);
  for (const l of lengths) if (l > 0) blCount[l] = (blCount[l] ?? 0) + 1;
  const next = new Uint16Array(MAX_CODE_LENGTH + 2);
  let code = 0;
  for (let bits = 1; bits <= MAX_CODE_LENGTH; bits++) {
    code = (code + (blCount[bits - 1] ?? 0)) << 1;
    next[bits] = code;
  }
  const codes = new Uint16Array(lengths.length);
  for (let s = 0; s < lengths.length; s++) {
    const l = lengths[s] ?? 0;
    if (l === 0) continue;
    const c = next[l] ?? 0;
    next[l] = c + 1;
    let rev = 0;
    for (let i = 0; i < l; i++) rev |= ((c >> i) & 1) << (l - 1 - i);
    codes[s] = rev;
  }
  return codes;
}

interface PrefixCode {
  lengths: Uint8Array;
  codes: Uint16Array;
  /** A code with one used symbol is read with zero bits (libwebp and the spec agree). */
  zeroBits: boolean;
  /** That symbol, when it fits a "simple" code (< 256). */
  simple: number | null;
}

function buildCode(counts: Uint32Array): PrefixCode {
  const used: number[] = [];
  for (let s = 0; s < counts.length && used.length < 2; s++) if ((counts[s] ?? 0) > 0) used.push(s);
  const only = used.length === 0 ? 0 : used.length === 1 ? (used[0] ?? 0) : null;
  const lengths =
    only === null ? huffmanLengths(counts, MAX_CODE_LENGTH) : new Uint8Array(counts.length);
  if (only !== null) lengths[only] = 1;
  return {
    lengths,
    codes: canonicalCodes(lengths),
    zeroBits: only !== null,
    simple: only !== null && only < 256 ? only : null,
  };
}

function writeSymbol(w: BitWriter, code: PrefixCode, s: number): void {
  if (code.zeroBits) return;
  w.bits(code.codes[s] ?? 0, code.lengths[s] ?? 0);
}

/** Writes a prefix code: "simple" for a single symbol, else "normal" with run-length lengths. */
function writeCode(w: BitWriter, code: PrefixCode): void {
  if (code.simple !== null) {
    w.bits(1, 1); // simple
    w.bits(0, 1); // one symbol
    w.bits(1, 1); // 8-bit symbol
    w.bits(code.simple, 8);
    return;
  }
  w.bits(0, 1); // normal
  // Code lengths as symbols 0-15, zero runs as 17 (3-10) and 18 (11-138).
  const tokens: [number, number][] = [];
  const L = code.lengths;
  for (let i = 0; i < L.length; ) {
    const l = L[i] ?? 0;
    let run = 1;
    while (i + run < L.length && (L[i + run] ?? 0) === l) run++;
    if (l === 0 && run >= 3) {
      const take = Math.min(run, 138);
      tokens.push(take >= 11 ? [18, take - 11] : [17, take - 3]);
      i += take;
    } else {
      tokens.push([l, 0]);
      i++;
    }
  }
  const clCounts = new Uint32Array(19);
  for (const [s] of tokens) clCounts[s] = (clCounts[s] ?? 0) + 1;
  const clLengths = huffmanLengths(clCounts, 7);
  const clCodes = canonicalCodes(clLengths);
  let n = 19;
  while (n > 4 && (clLengths[CODE_LENGTH_ORDER[n - 1] ?? 0] ?? 0) === 0) n--;
  w.bits(n - 4, 4);
  for (let i = 0; i < n; i++) w.bits(clLengths[CODE_LENGTH_ORDER[i] ?? 0] ?? 0, 3);
  w.bits(0, 1); // max_symbol = alphabet size
  // A code-length alphabet with one used symbol has a zero-bit code (lengths 1 read as 0 bits).
  const oneCl = clLengths.filter((l) => l > 0).length === 1;
  for (const [s, extra] of tokens) {
    if (!oneCl) w.bits(clCodes[s] ?? 0, clLengths[s] ?? 0);
    if (s === 17) w.bits(extra, 3);
    else if (s === 18) w.bits(extra, 7);
  }
}

/** VP8L prefix coding of a value >= 1: [prefix symbol, extra bit count, extra bits]. */
export function prefixEncode(value: number): [number, number, number] {
  const d = value - 1;
  if (d < 4) return [d, 0, 0];
  const h = 31 - Math.clz32(d);
  const second = (d >> (h - 1)) & 1;
  const extraBits = h - 1;
  return [2 * h + second, extraBits, d & ((1 << extraBits) - 1)];
}

/** ALPH filtering methods (RFC 9649, 5.2.3): none and gradient are tried. */
const FILTER_NONE = 0;
const FILTER_GRADIENT = 3;

/** The gradient-filtered plane: residual = alpha - clip(left + above - aboveLeft), mod 256. */
export function gradientFilter(alpha: Uint8Array, width: number, height: number): Uint8Array {
  const out = new Uint8Array(alpha.length);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      const i = row + x;
      let pred: number;
      if (x === 0 && y === 0) pred = 0;
      else if (y === 0) pred = alpha[i - 1] ?? 0;
      else if (x === 0) pred = alpha[i - width] ?? 0;
      else {
        const g = (alpha[i - 1] ?? 0) + (alpha[i - width] ?? 0) - (alpha[i - width - 1] ?? 0);
        pred = Math.max(0, Math.min(255, g));
      }
      out[i] = ((alpha[i] ?? 0) - pred) & 0xff;
    }
  }
  return out;
}

/** A packed token: a literal (< 256), or COPY | dist << 13 | length (length <= 4096). */
const COPY = 0x8000_0000;

/**
 * Greedy run copies from the left pixel or the row above, literals otherwise, packed 4 bytes a
 * token (a plane without runs has one token a pixel: objects would cost ~25 bytes each).
 */
function tokenize(plane: Uint8Array, width: number): Uint32Array {
  const tokens = new Uint32Array(plane.length);
  let count = 0;
  const n = plane.length;
  for (let i = 0; i < n; ) {
    let left = 0;
    if (i >= 1) {
      const v = plane[i - 1];
      while (left < MAX_COPY && i + left < n && plane[i + left] === v) left++;
    }
    let above = 0;
    if (i >= width) {
      while (above < MAX_COPY && i + above < n && plane[i + above] === plane[i + above - width]) {
        above++;
      }
    }
    const best = Math.max(left, above);
    if (best >= MIN_COPY) {
      tokens[count++] = (COPY | ((above > left ? DIST_ABOVE : DIST_LEFT) << 13) | best) >>> 0;
      i += best;
    } else {
      tokens[count++] = plane[i] ?? 0;
      i++;
    }
  }
  return tokens.subarray(0, count);
}

/** A VP8L image stream (no header: the ALPH chunk implies the size) with the plane as green. */
function encodeImageStream(plane: Uint8Array, width: number): Uint8Array {
  const tokens = tokenize(plane, width);
  const green = new Uint32Array(GREEN_ALPHABET);
  const dist = new Uint32Array(40);
  for (const t of tokens) {
    if (t < COPY) green[t] = (green[t] ?? 0) + 1;
    else {
      const [p] = prefixEncode(t & 0x1fff);
      green[256 + p] = (green[256 + p] ?? 0) + 1;
      const [d] = prefixEncode((t >>> 13) & 0x3);
      dist[d] = (dist[d] ?? 0) + 1;
    }
  }
  const greenCode = buildCode(green);
  const distCode = buildCode(dist);
  const zero = buildCode(new Uint32Array(256));
  const w = new BitWriter(plane.length >> 3);
  w.bits(0, 1); // no transform
  w.bits(0, 1); // no colour cache
  w.bits(0, 1); // one prefix-code group (no meta prefix image)
  writeCode(w, greenCode);
  writeCode(w, zero); // red
  writeCode(w, zero); // blue
  writeCode(w, zero); // alpha
  writeCode(w, distCode);
  for (const t of tokens) {
    if (t < COPY) {
      writeSymbol(w, greenCode, t);
      continue;
    }
    const [lp, lbits, lextra] = prefixEncode(t & 0x1fff);
    writeSymbol(w, greenCode, 256 + lp);
    w.bits(lextra, lbits);
    const [dp, dbits, dextra] = prefixEncode((t >>> 13) & 0x3);
    writeSymbol(w, distCode, dp);
    w.bits(dextra, dbits);
  }
  return w.finish();
}

/** The ALPH chunk payload: header byte + lossless stream, the smaller of unfiltered and gradient. */
export function encodeAlphaPayload(alpha: Uint8Array, width: number, height: number): Uint8Array {
  let best: Uint8Array | null = null;
  let bestFilter = FILTER_NONE;
  for (const filter of [FILTER_NONE, FILTER_GRADIENT]) {
    const plane = filter === FILTER_NONE ? alpha : gradientFilter(alpha, width, height);
    const stream = encodeImageStream(plane, width);
    if (!best || stream.length < best.length) {
      best = stream;
      bestFilter = filter;
    }
  }
  const body = best ?? new Uint8Array(0);
  const out = new Uint8Array(1 + body.length);
  // Reserved 0, no pre-processing, filtering method, compression 1 (lossless).
  out[0] = (bestFilter << 2) | 1;
  out.set(body, 1);
  return out;
}

function fourcc(s: string): number[] {
  return [...s].map((c) => c.charCodeAt(0));
}

function u32le(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}

function u24le(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff];
}

/** The `VP8 ` chunk payload of a simple-format lossy WebP, or null when there is none. */
export function vp8Payload(webp: Uint8Array): Uint8Array | null {
  for (let off = 12; off + 8 <= webp.length; ) {
    const tag = String.fromCharCode(...webp.subarray(off, off + 4));
    const size =
      ((webp[off + 4] ?? 0) |
        ((webp[off + 5] ?? 0) << 8) |
        ((webp[off + 6] ?? 0) << 16) |
        ((webp[off + 7] ?? 0) << 24)) >>>
      0;
    if (off + 8 + size > webp.length) return null;
    if (tag === "VP8 ") return webp.subarray(off + 8, off + 8 + size);
    off += 8 + size + (size & 1);
  }
  return null;
}

/** An extended-format WebP: VP8X (alpha flag) + ALPH + VP8. */
export function assembleAlphaWebp(
  width: number,
  height: number,
  alph: Uint8Array,
  vp8: Uint8Array,
): Uint8Array {
  const vp8x = Uint8Array.from([0x10, 0, 0, 0, ...u24le(width - 1), ...u24le(height - 1)]);
  const chunks: [string, Uint8Array][] = [
    ["VP8X", vp8x],
    ["ALPH", alph],
    ["VP8 ", vp8],
  ];
  // Each chunk: tag, little-endian size, payload, a zero pad byte when the size is odd.
  const bodyLen = chunks.reduce((n, [, p]) => n + 8 + p.length + (p.length & 1), 0);
  const out = new Uint8Array(12 + bodyLen);
  out.set([...fourcc("RIFF"), ...u32le(4 + bodyLen), ...fourcc("WEBP")]);
  let off = 12;
  for (const [tag, payload] of chunks) {
    out.set([...fourcc(tag), ...u32le(payload.length)], off);
    out.set(payload, off + 8);
    off += 8 + payload.length + (payload.length & 1);
  }
  return out;
}

/**
 * Makes `rgba` opaque in place for the lossy encoder and returns its alpha plane (give it back
 * with restoreAlpha). Each fully transparent pixel takes its left neighbour's colour, so hidden
 * areas cost almost nothing (libwebp's non-`exact` mode also flattens them); that colour is
 * never seen, and the alpha-weighted resampler gives it no weight, so it is not restored. In
 * place, because a copy would cost 4 bytes a pixel next to the encoder's peak.
 */
export function takeAlpha(rgba: Uint8Array, width: number): Uint8Array {
  const alpha = new Uint8Array(rgba.length >> 2);
  for (let i = 0, p = 0; i < rgba.length; i += 4, p++) {
    const a = rgba[i + 3] ?? 0;
    alpha[p] = a;
    if (a === 0 && p % width !== 0) {
      rgba[i] = rgba[i - 4] ?? 0;
      rgba[i + 1] = rgba[i - 3] ?? 0;
      rgba[i + 2] = rgba[i - 2] ?? 0;
    }
    rgba[i + 3] = 255;
  }
  return alpha;
}

/** Puts the alpha plane takeAlpha took back into `rgba`. */
export function restoreAlpha(rgba: Uint8Array, alpha: Uint8Array): void {
  for (let i = 3, p = 0; i < rgba.length; i += 4, p++) rgba[i] = alpha[p] ?? 0;
}
