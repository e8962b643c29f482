import type { RgbaImage } from "./codec-glue";

/**
 * Separable Lanczos3 downscaler on 8-bit RGBA with 14-bit fixed-point weights.
 *
 * Why not @jsquash/resize: its Rust `resize` crate keeps a float RGBA intermediate of
 * out_width x in_height (16 bytes a pixel), so 12 MP -> 2048 px peaked at 384 MiB of WASM
 * memory. Here the intermediate is 8-bit (4 bytes a pixel), like libvips' reduceh/reducev, and
 * lives in the JS heap where it is freed as soon as the call returns.
 */

const FIXED_BITS = 14;
const FIXED_ONE = 1 << FIXED_BITS;
const ROUND = 1 << (FIXED_BITS - 1);

interface Taps {
  /** First source index per output index. */
  start: Int32Array;
  /** Tap count per output index. */
  count: Int32Array;
  /** Weights, `stride` per output index, summing to FIXED_ONE. */
  weights: Int32Array;
  stride: number;
}

function lanczos3(x: number): number {
  if (x === 0) return 1;
  if (x <= -3 || x >= 3) return 0;
  const px = Math.PI * x;
  return (3 * Math.sin(px) * Math.sin(px / 3)) / (px * px);
}

function buildTaps(inSize: number, outSize: number): Taps {
  const scale = inSize / outSize;
  const filterScale = Math.max(1, scale);
  const support = 3 * filterScale;
  const stride = Math.ceil(support * 2) + 2;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Int32Array(outSize * stride);
  const tmp = new Float64Array(stride);
  for (let i = 0; i < outSize; i++) {
    const center = (i + 0.5) * scale;
    const lo = Math.max(0, Math.floor(center - support));
    const hi = Math.min(inSize, Math.ceil(center + support));
    let n = Math.min(hi - lo, stride);
    let sum = 0;
    for (let k = 0; k < n; k++) {
      const w = lanczos3((lo + k + 0.5 - center) / filterScale);
      tmp[k] = w;
      sum += w;
    }
    // Trim zero-weight taps at the edges so inner loops stay short.
    let first = 0;
    while (first < n - 1 && tmp[first] === 0) first++;
    while (n - 1 > first && tmp[n - 1] === 0) n--;
    let isum = 0;
    let biggest = first;
    for (let k = first; k < n; k++) {
      const w = Math.round(((tmp[k] ?? 0) / sum) * FIXED_ONE);
      weights[i * stride + (k - first)] = w;
      isum += w;
      if ((tmp[k] ?? 0) > (tmp[biggest] ?? 0)) biggest = k;
    }
    // Put the rounding error on the centre tap so flat areas stay exactly flat.
    const bi = i * stride + (biggest - first);
    weights[bi] = (weights[bi] ?? 0) + FIXED_ONE - isum;
    start[i] = lo + first;
    count[i] = n - first;
  }
  return { start, count, weights, stride };
}

function fixedToInt(v: number): number {
  return (v + ROUND) >> FIXED_BITS;
}

/** A clamped view stores Lanczos over/undershoot as 0..255 without a branch in our code. */
function clampedView(bytes: Uint8Array): Uint8ClampedArray {
  return new Uint8ClampedArray(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function horizontal(
  src: Uint8Array,
  srcW: number,
  rows: number,
  outW: number,
  taps: Taps,
  premultiply: boolean,
): Uint8Array {
  const out = new Uint8Array(outW * rows * 4);
  const outC = clampedView(out);
  const { start, count, weights, stride } = taps;
  for (let y = 0; y < rows; y++) {
    const rowIn = y * srcW * 4;
    const rowOut = y * outW * 4;
    for (let x = 0; x < outW; x++) {
      const n = count[x] ?? 0;
      const wBase = x * stride;
      let p = rowIn + (start[x] ?? 0) * 4;
      let r = 0;
      let g = 0;
      let b = 0;
      let a = 0;
      if (premultiply) {
        for (let k = 0; k < n; k++, p += 4) {
          const w = weights[wBase + k] ?? 0;
          const al = src[p + 3] ?? 0;
          const wa = (w * al) / 255;
          r += wa * (src[p] ?? 0);
          g += wa * (src[p + 1] ?? 0);
          b += wa * (src[p + 2] ?? 0);
          a += w * al;
        }
      } else {
        for (let k = 0; k < n; k++, p += 4) {
          const w = weights[wBase + k] ?? 0;
          r += w * (src[p] ?? 0);
          g += w * (src[p + 1] ?? 0);
          b += w * (src[p + 2] ?? 0);
          a += w * (src[p + 3] ?? 0);
        }
      }
      const o = rowOut + x * 4;
      outC[o] = fixedToInt(r);
      outC[o + 1] = fixedToInt(g);
      outC[o + 2] = fixedToInt(b);
      outC[o + 3] = fixedToInt(a);
    }
  }
  return out;
}

/** Clamps a 14-bit fixed-point sum (rounding already added) to 0..255. */
function clampFixed(v: number): number {
  const x = v >> FIXED_BITS;
  return x < 0 ? 0 : Math.min(x, 255);
}

/** RGBA bytes as one 32-bit word a pixel (copied only if the view is not 4-byte aligned). */
function pixelWords(src: Uint8Array): Uint32Array {
  const aligned = src.byteOffset % 4 === 0 ? src : src.slice();
  return new Uint32Array(aligned.buffer, aligned.byteOffset, aligned.length >> 2);
}

/**
 * Horizontal pass for opaque images: one 32-bit load per tap instead of four byte loads, no
 * alpha arithmetic (alpha is 255 everywhere, so it is written, not computed). This is the hot
 * loop of every JPEG.
 */
function horizontalOpaque(
  src: Uint8Array,
  srcW: number,
  rows: number,
  outW: number,
  taps: Taps,
): Uint8Array {
  const src32 = pixelWords(src);
  const out = new Uint8Array(outW * rows * 4);
  const out32 = new Uint32Array(out.buffer);
  const { start, count, weights, stride } = taps;
  for (let y = 0; y < rows; y++) {
    const rowIn = y * srcW;
    const rowOut = y * outW;
    for (let x = 0; x < outW; x++) {
      const n = count[x] ?? 0;
      const wBase = x * stride;
      const p = rowIn + (start[x] ?? 0);
      let r = ROUND;
      let g = ROUND;
      let b = ROUND;
      for (let k = 0; k < n; k++) {
        const w = weights[wBase + k] ?? 0;
        // Pixels are R,G,B,A bytes, so little-endian words read as 0xAABBGGRR.
        const px = src32[p + k] ?? 0;
        r += w * (px & 255);
        g += w * ((px >>> 8) & 255);
        b += w * ((px >>> 16) & 255);
      }
      out32[rowOut + x] = 0xff000000 | (clampFixed(b) << 16) | (clampFixed(g) << 8) | clampFixed(r);
    }
  }
  return out;
}

/**
 * Vertical pass for opaque images: per output pixel, the taps walk down one column of 32-bit
 * pixels (the few source rows involved stay in cache), so each output is written once and
 * alpha is not computed.
 */
function verticalOpaque(src: Uint8Array, width: number, outH: number, taps: Taps): Uint8Array {
  const src32 = pixelWords(src);
  const out = new Uint8Array(width * outH * 4);
  const out32 = new Uint32Array(out.buffer);
  const { start, count, weights, stride } = taps;
  for (let y = 0; y < outH; y++) {
    const n = count[y] ?? 0;
    const wBase = y * stride;
    const first = (start[y] ?? 0) * width;
    const rowOut = y * width;
    for (let x = 0; x < width; x++) {
      let r = ROUND;
      let g = ROUND;
      let b = ROUND;
      for (let k = 0, p = first + x; k < n; k++, p += width) {
        const w = weights[wBase + k] ?? 0;
        const px = src32[p] ?? 0;
        r += w * (px & 255);
        g += w * ((px >>> 8) & 255);
        b += w * ((px >>> 16) & 255);
      }
      out32[rowOut + x] = 0xff000000 | (clampFixed(b) << 16) | (clampFixed(g) << 8) | clampFixed(r);
    }
  }
  return out;
}

function vertical(
  src: Uint8Array,
  width: number,
  outH: number,
  taps: Taps,
  unpremultiply: boolean,
): Uint8Array {
  const rowBytes = width * 4;
  const out = new Uint8Array(rowBytes * outH);
  const outC = clampedView(out);
  const acc = new Int32Array(rowBytes);
  const { start, count, weights, stride } = taps;
  for (let y = 0; y < outH; y++) {
    acc.fill(ROUND);
    const n = count[y] ?? 0;
    const s0 = start[y] ?? 0;
    // Row-at-a-time accumulation walks memory linearly, which is what makes this pass fast.
    for (let k = 0; k < n; k++) {
      const w = weights[y * stride + k] ?? 0;
      const base = (s0 + k) * rowBytes;
      for (let i = 0; i < rowBytes; i++) acc[i] = (acc[i] ?? 0) + w * (src[base + i] ?? 0);
    }
    const o = y * rowBytes;
    for (let i = 0; i < rowBytes; i++) outC[o + i] = (acc[i] ?? 0) >> FIXED_BITS;
    if (unpremultiply) {
      for (let i = o; i < o + rowBytes; i += 4) {
        const al = out[i + 3] ?? 0;
        if (al === 0 || al === 255) continue;
        out[i] = Math.min(255, Math.round(((out[i] ?? 0) * 255) / al));
        out[i + 1] = Math.min(255, Math.round(((out[i + 1] ?? 0) * 255) / al));
        out[i + 2] = Math.min(255, Math.round(((out[i + 2] ?? 0) * 255) / al));
      }
    }
  }
  return out;
}

/**
 * Downscales (or resamples) RGBA to width x height with Lanczos3. When `alpha` is set, colour
 * is weighted by alpha so transparent pixels do not bleed dark fringes into edges.
 */
export function resampleLanczos3(
  img: RgbaImage,
  width: number,
  height: number,
  alpha: boolean,
): RgbaImage {
  const hTaps = buildTaps(img.width, width);
  const vTaps = buildTaps(img.height, height);
  const mid =
    width === img.width && !alpha
      ? img.data
      : alpha
        ? horizontal(img.data, img.width, img.height, width, hTaps, true)
        : horizontalOpaque(img.data, img.width, img.height, width, hTaps);
  const data =
    height === img.height && !alpha
      ? mid
      : alpha
        ? vertical(mid, width, height, vTaps, true)
        : verticalOpaque(mid, width, height, vTaps);
  return { width, height, data };
}
