import type { RgbaImage } from "./codec-glue";
import type { DecodeHint } from "./jpeg-turbo";

/**
 * Shrink-on-load for decoders that produce rows (PNG) or bands of tiles (HEIC grids): the frame
 * is box-averaged by an integer factor while it is decoded, so memory follows the output, not
 * the input. The largest factor that still covers the biggest variant is used and the Lanczos3
 * cascade does the rest, as libvips does (vips_shrink for the integer part, then reduce).
 */

/** The integer factor (and resulting size) that keeps the frame at least as large as the hint. */
export function boxShrinkSize(
  width: number,
  height: number,
  hint: DecodeHint | undefined,
): { width: number; height: number; factor: number } {
  let factor = 1;
  if (hint) {
    const fw = Math.floor(width / Math.max(1, hint.minWidth));
    const fh = Math.floor(height / Math.max(1, hint.minHeight));
    factor = Math.max(1, Math.min(fw, fh));
  }
  return { width: Math.ceil(width / factor), height: Math.ceil(height / factor), factor };
}

/**
 * Accumulates RGBA rows into a frame `factor` times smaller in each direction. Colour is
 * averaged weighted by alpha, so transparent pixels do not bleed their (often black) colour
 * into edges; for opaque images this is the plain mean.
 */
export class RowShrinker {
  readonly width: number;
  readonly height: number;
  private readonly out: Uint8Array;
  /** One output row's sums: r*a, g*a, b*a, a, per output pixel. */
  private readonly sums: Float64Array;
  private readonly counts: Float64Array;
  private row = 0;

  constructor(
    private readonly srcWidth: number,
    private readonly srcHeight: number,
    private readonly factor: number,
  ) {
    this.width = Math.ceil(srcWidth / factor);
    this.height = Math.ceil(srcHeight / factor);
    this.out = new Uint8Array(this.width * this.height * 4);
    this.sums = new Float64Array(this.width * 4);
    this.counts = new Float64Array(this.width);
  }

  /** Source rows pushed so far. */
  get rowsDone(): number {
    return this.row;
  }

  /** Adds the next source row: `srcWidth` RGBA pixels starting at `offset` in `data`. */
  push(data: Uint8Array | Uint8ClampedArray, offset = 0): void {
    if (this.row >= this.srcHeight) throw new RangeError("RowShrinker: more rows than the frame");
    const f = this.factor;
    const sums = this.sums;
    const counts = this.counts;
    const w = this.srcWidth;
    for (let x = 0, ox = 0; x < w; ox++) {
      const start = x;
      const end = Math.min(w, x + f);
      let r = 0;
      let g = 0;
      let b = 0;
      let a = 0;
      for (; x < end; x++) {
        const i = offset + x * 4;
        const al = data[i + 3] ?? 0;
        r += (data[i] ?? 0) * al;
        g += (data[i + 1] ?? 0) * al;
        b += (data[i + 2] ?? 0) * al;
        a += al;
      }
      const s = ox * 4;
      sums[s] = (sums[s] ?? 0) + r;
      sums[s + 1] = (sums[s + 1] ?? 0) + g;
      sums[s + 2] = (sums[s + 2] ?? 0) + b;
      sums[s + 3] = (sums[s + 3] ?? 0) + a;
      counts[ox] = (counts[ox] ?? 0) + (end - start);
    }
    this.row++;
    if (this.row % f === 0 || this.row === this.srcHeight) this.flush();
  }

  private flush(): void {
    const oy = Math.ceil(this.row / this.factor) - 1;
    const base = oy * this.width * 4;
    const sums = this.sums;
    const counts = this.counts;
    for (let ox = 0; ox < this.width; ox++) {
      const s = ox * 4;
      const a = sums[s + 3] ?? 0;
      const o = base + s;
      if (a > 0) {
        this.out[o] = Math.round((sums[s] ?? 0) / a);
        this.out[o + 1] = Math.round((sums[s + 1] ?? 0) / a);
        this.out[o + 2] = Math.round((sums[s + 2] ?? 0) / a);
        this.out[o + 3] = Math.round(a / (counts[ox] ?? 1));
      }
    }
    sums.fill(0);
    counts.fill(0);
  }

  /** The shrunk frame; every source row must have been pushed. */
  finish(): RgbaImage {
    if (this.row !== this.srcHeight) {
      throw new RangeError(`RowShrinker: ${this.row} of ${this.srcHeight} rows pushed`);
    }
    return { width: this.width, height: this.height, data: this.out };
  }
}
