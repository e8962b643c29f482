/** sharp (native libvips) producing exactly the outputs transformImage produced: the reference. */
import sharp from "sharp";
import { AVIF_SPEED } from "../src/pipeline/codecs";
import type { OutputFormat, TransformOptions } from "../src/pipeline/types";

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 3);

export interface Output {
  name: string;
  format: OutputFormat;
  width: number;
  height: number;
  bytes: number;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

/** sharp producing exactly the outputs transformImage produced (same sizes and settings). */
export async function runSharp(
  input: Buffer,
  outputs: readonly Output[],
  opts: TransformOptions,
  parallel: boolean,
): Promise<Output[]> {
  const one = async (o: Output): Promise<Output> => {
    let p = sharp(input).rotate().resize(o.width, o.height, { kernel: "lanczos3", fit: "fill" });
    if (o.format === "jpeg") p = p.jpeg({ quality: opts.quality.jpeg, mozjpeg: true });
    else if (o.format === "webp") p = p.webp({ quality: opts.quality.webp, effort: 4 });
    else if (o.format === "avif") {
      p = p.avif({
        quality: opts.quality.avif,
        effort: 9 - AVIF_SPEED,
        chromaSubsampling: "4:2:0",
      });
    } else p = p.png();
    const buf = await p.toBuffer();
    return { ...o, bytes: buf.length };
  };
  if (parallel) return Promise.all(outputs.map(one));
  const res: Output[] = [];
  for (const o of outputs) res.push(await one(o));
  return res;
}

export async function timeSharp(
  input: Buffer,
  outputs: readonly Output[],
  opts: TransformOptions,
  threads: number,
  iterations = ITERATIONS,
): Promise<{ ms: number; outputs: Output[] }> {
  sharp.concurrency(threads);
  const times: number[] = [];
  let last: Output[] = [];
  for (let i = 0; i < iterations; i++) {
    const t = performance.now();
    last = await runSharp(input, outputs, opts, threads !== 1);
    times.push(performance.now() - t);
  }
  return { ms: median(times), outputs: last };
}

/**
 * One untimed transform and one untimed sharp run first: V8 tiers WASM and JS up during the first
 * calls, which would otherwise land on whichever row is measured first.
 */
export async function warmUp(
  input: Buffer,
  transform: (bytes: Uint8Array) => Promise<unknown>,
): Promise<void> {
  await transform(new Uint8Array(input));
  await sharp(input).resize(1024, 1024, { fit: "inside" }).webp().toBuffer();
}
