import type { AvifItems } from "./avif-item";
import { instantiateStandalone, type RgbaImage, type WasmMemoryMeter } from "./codec-glue";

/** dav1d reported bad data, or the picture is not what the container declared. */
export class AvifDecodeError extends Error {}

/** Exports of avif-dav1d.wasm (wasm/avif-dav1d: dav1d 1.0.0 and a small C shim). */
interface AvifDav1dExports {
  memory: WebAssembly.Memory;
  _initialize(): void;
  malloc(size: number): number;
  free(ptr: number): void;
  avif_open(
    color: number,
    colorLen: number,
    alpha: number,
    alphaLen: number,
    width: number,
    height: number,
    factor: number,
    matrix: number,
    fullRange: number,
  ): number;
  avif_read_rows(dst: number, maxRows: number): number;
}

const EXPORTS = ["memory", "_initialize", "malloc", "free", "avif_open", "avif_read_rows"] as const;

/** Output rows handed over per call: a band of ~256 KiB, so WASM never holds the frame. */
const BAND_BYTES = 256 * 1024;

function isAvifDav1d(e: WebAssembly.Exports): e is WebAssembly.Exports & AvifDav1dExports {
  return EXPORTS.every((n) => n in e);
}

/** The shim's AVIF_* statuses (wasm/avif-dav1d/shim.c). */
const OUT_OF_MEMORY = 1;
const STATUS = [
  "ok",
  "out of memory",
  "bitstream error",
  "unsupported picture",
  "picture size differs from the container's",
  "invalid argument",
];

function copyIn(ex: AvifDav1dExports, bytes: Uint8Array): number {
  const ptr = ex.malloc(bytes.length) >>> 0;
  if (ptr === 0) throw new WebAssembly.RuntimeError("avif-dav1d: out of memory");
  new Uint8Array(ex.memory.buffer, ptr, bytes.length).set(bytes);
  return ptr;
}

function check(status: number): void {
  // dav1d's own allocation failure is the instance reaching its cap, not bad data.
  if (status === OUT_OF_MEMORY) throw new WebAssembly.RuntimeError("avif-dav1d: out of memory");
  if (status !== 0) {
    throw new AvifDecodeError(`avif-dav1d: ${STATUS[status] ?? `status ${status}`}`);
  }
}

/**
 * Decodes an AVIF's AV1 item(s) with dav1d in a fresh instance dropped afterwards, and copies
 * the picture out as RGBA box-shrunk by `factor` (ceil(width / factor) x ceil(height / factor)
 * pixels), converted a band of rows at a time. WASM memory is the items, dav1d's planes (1.5
 * bytes a pixel for 4:2:0, 1 more for alpha) and its frame state; the RGBA frame exists only
 * in the JS heap.
 */
export function decodeAvifDav1d(
  module: WebAssembly.Module,
  meter: WasmMemoryMeter,
  items: AvifItems,
  width: number,
  height: number,
  factor: number,
): RgbaImage {
  const ex = instantiateStandalone(
    module,
    meter,
    isAvifDav1d,
    "avif-dav1d.wasm",
    (code) => new AvifDecodeError(`dav1d exited with ${code}`),
  );
  try {
    const color = copyIn(ex, items.color);
    const alpha = items.alpha ? copyIn(ex, items.alpha) : 0;
    check(
      ex.avif_open(
        color,
        items.color.length,
        alpha,
        items.alpha?.length ?? 0,
        width,
        height,
        factor,
        items.nclx ? items.nclx.matrix : -1,
        items.nclx ? Number(items.nclx.fullRange) : -1,
      ),
    );
    meter.sample();
    const outW = Math.ceil(width / factor);
    const outH = Math.ceil(height / factor);
    const rowBytes = outW * 4;
    const bandRows = Math.max(1, Math.floor(BAND_BYTES / rowBytes));
    const band = ex.malloc(bandRows * rowBytes) >>> 0;
    if (band === 0) throw new WebAssembly.RuntimeError("avif-dav1d: out of memory");
    meter.sample();
    const data = new Uint8Array(outW * outH * 4);
    for (let row = 0; row < outH; ) {
      const n = ex.avif_read_rows(band, Math.min(bandRows, outH - row));
      if (n < 0) check(-n);
      if (n <= 0) throw new AvifDecodeError("avif-dav1d: picture ended early");
      // The memory cannot grow while rows are converted, so the view stays valid.
      data.set(new Uint8Array(ex.memory.buffer, band, n * rowBytes), row * rowBytes);
      row += n;
    }
    return { width: outW, height: outH, data };
  } finally {
    meter.release(ex.memory);
  }
}
