/**
 * JPEG decoding with libjpeg-turbo's TurboJPEG API (@cwasm/jpeg-turbo, a WASI build), driven
 * directly: the package's index.js reads its .wasm with fs and keeps one instance forever.
 *
 * Why this decoder: tjDecompress2 scales in the DCT domain (M/8), so a 24 MP photo that only
 * feeds 2048 px variants is decoded straight to ~2250x1500 RGB instead of a 96 MB RGBA frame
 * (libvips calls this shrink-on-load). It also decodes CMYK/YCCK, which mozjpeg's RGBA path
 * refuses.
 */
import { u16be } from "./bytes";
import { type RgbaImage, type WasmMemoryMeter, wasiStubs } from "./codec-glue";

/** TurboJPEG pixel formats (turbojpeg.h TJPF_*). */
const TJPF_RGB = 0;
const TJPF_CMYK = 11;
/** TurboJPEG colourspaces (turbojpeg.h TJCS_*). */
const TJCS_CMYK = 3;
const TJCS_YCCK = 4;

/** Exports of jpeg-turbo.wasm we use (pointers and sizes are i32). */
interface JpegTurboExports {
  memory: WebAssembly.Memory;
  malloc(size: number): number;
  free(ptr: number): void;
  tjInitDecompress(): number;
  tjDestroy(handle: number): number;
  tjDecompressHeader3(
    handle: number,
    src: number,
    size: number,
    width: number,
    height: number,
    subsamp: number,
    colorspace: number,
  ): number;
  tjDecompress2(
    handle: number,
    src: number,
    size: number,
    dst: number,
    width: number,
    pitch: number,
    height: number,
    pixelFormat: number,
    flags: number,
  ): number;
}

const EXPORTS = [
  "memory",
  "malloc",
  "free",
  "tjInitDecompress",
  "tjDestroy",
  "tjDecompressHeader3",
  "tjDecompress2",
] as const;

function isJpegTurbo(e: WebAssembly.Exports): e is WebAssembly.Exports & JpegTurboExports {
  return EXPORTS.every((n) => n in e);
}

/** libjpeg's error_exit ended in longjmp: the data is bad (the instance is discarded). */
export class JpegTurboError extends Error {}

/** Smallest box the decoded image must cover (stored orientation). */
export interface DecodeHint {
  minWidth: number;
  minHeight: number;
}

/** libjpeg's scaled size: ceil(dim * num / 8), as jdiv_round_up in jdmaster.c computes it. */
function scaled(dim: number, eighths: number): number {
  return Math.ceil((dim * eighths) / 8);
}

/**
 * Smallest DCT scale M/8 (M = 1..8) whose output still covers minWidth x minHeight, and that
 * output's size. Covering the box means no variant is made from fewer pixels than it has.
 */
export function jpegScaledSize(
  width: number,
  height: number,
  hint: DecodeHint | undefined,
): { width: number; height: number; eighths: number } {
  if (hint) {
    for (let m = 1; m < 8; m++) {
      const w = scaled(width, m);
      const h = scaled(height, m);
      if (w >= hint.minWidth && h >= hint.minHeight) return { width: w, height: h, eighths: m };
    }
  }
  return { width, height, eighths: 8 };
}

/**
 * True when an Adobe APP14 segment precedes the first scan. Photoshop and ImageMagick store
 * CMYK inverted (255 = no ink) and say so only by writing that marker; libvips and browsers
 * use the same rule.
 */
export function hasAdobeMarker(b: Uint8Array): boolean {
  let off = 2;
  // Headers only: stop at SOS, at anything that is not a marker, or after a bounded walk.
  for (let n = 0; n < 1000 && off + 4 <= b.length; n++) {
    if (b[off] !== 0xff) return false;
    const marker = b[off + 1] ?? 0;
    if (marker === 0xff) {
      off++;
      continue;
    }
    if (marker === 0xda || marker === 0xd9) return false;
    const len = u16be(b, off + 2);
    if (len < 2) return false;
    if (
      marker === 0xee &&
      len >= 7 &&
      b[off + 4] === 0x41 &&
      b[off + 5] === 0x64 &&
      b[off + 6] === 0x6f &&
      b[off + 7] === 0x62 &&
      b[off + 8] === 0x65
    ) {
      return true;
    }
    off += 2 + len;
  }
  return false;
}

const NO_ERROR = new TextEncoder().encode("No error\0");

/**
 * Address of TurboJPEG's static `errStr` buffer (initialised to "No error", 200 bytes), where
 * libjpeg's messages are formatted; the build exports no tjGetErrorStr, so we find the buffer
 * in the fresh instance's data segment. -1 if this build lays it out differently.
 */
function findErrStr(mem: Uint8Array): number {
  const limit = Math.min(mem.length, 1 << 20);
  outer: for (let p = mem.indexOf(0x4e); p >= 0 && p < limit; p = mem.indexOf(0x4e, p + 1)) {
    for (let k = 0; k < NO_ERROR.length; k++) if (mem[p + k] !== NO_ERROR[k]) continue outer;
    // The buffer, not the string literal: a writable array padded with zeros.
    let zeros = 0;
    while (zeros < 32 && mem[p + NO_ERROR.length + zeros] === 0) zeros++;
    if (zeros === 32) return p;
  }
  return -1;
}

function readCString(mem: Uint8Array, at: number): string {
  if (at < 0) return "";
  const end = mem.indexOf(0, at);
  return new TextDecoder().decode(mem.subarray(at, end < 0 ? at + 200 : Math.min(end, at + 200)));
}

/** RGB (3 bytes a pixel in WASM) to a fresh RGBA buffer in the JS heap. */
function rgbToRgba(src: Uint8Array, pixels: number): Uint8Array {
  const out = new Uint8Array(pixels * 4);
  // 32-bit stores: one write per pixel, alpha set in the same word (little-endian ABGR).
  const out32 = new Uint32Array(out.buffer);
  for (let i = 0, s = 0; i < pixels; i++, s += 3) {
    out32[i] = 0xff000000 | ((src[s + 2] ?? 0) << 16) | ((src[s + 1] ?? 0) << 8) | (src[s] ?? 0);
  }
  return out;
}

/**
 * CMYK to RGBA. Inverted (Adobe) CMYK stores 255 - ink, so R = C * K / 255 on the stored
 * values; plain CMYK stores ink, so R = (255 - C) * (255 - K) / 255. No ICC transform: this
 * matches ImageMagick's `-colorspace sRGB` and libvips without a profile.
 */
function cmykToRgba(src: Uint8Array, pixels: number, inverted: boolean): Uint8Array {
  const out = new Uint8Array(pixels * 4);
  const flip = inverted ? 0 : 255;
  for (let i = 0, s = 0, o = 0; i < pixels; i++, s += 4, o += 4) {
    const k = flip ^ (src[s + 3] ?? 0);
    out[o] = Math.round(((flip ^ (src[s] ?? 0)) * k) / 255);
    out[o + 1] = Math.round(((flip ^ (src[s + 1] ?? 0)) * k) / 255);
    out[o + 2] = Math.round(((flip ^ (src[s + 2] ?? 0)) * k) / 255);
    out[o + 3] = 255;
  }
  return out;
}

/**
 * Decodes a JPEG with a fresh libjpeg-turbo instance at the smallest DCT scale that covers
 * `hint` (full size without one), to 8-bit RGBA in the JS heap. Throws JpegTurboError when
 * libjpeg rejects the data and WebAssembly.RuntimeError on a trap (out of memory included).
 */
export function decodeJpegTurbo(
  module: WebAssembly.Module,
  meter: WasmMemoryMeter,
  bytes: Uint8Array,
  hint?: DecodeHint,
): RgbaImage {
  let memory: WebAssembly.Memory | null = null;
  let errStr = -1;
  const lastMessage = (): string =>
    memory ? readCString(new Uint8Array(memory.buffer), errStr) : "";
  const env = {
    // setjmp always "returns 0"; libjpeg's error_exit longjmps, which unwinds as a JS exception
    // through the WASM frames. The instance is then in an undefined state and never reused.
    setjmp: () => 0,
    longjmp: () => {
      throw new JpegTurboError(lastMessage() || "libjpeg-turbo rejected the data");
    },
  };
  const inst = new WebAssembly.Instance(module, {
    env,
    wasi_snapshot_preview1: wasiStubs(
      () => memory,
      (code) => new JpegTurboError(`libjpeg-turbo exited with ${code}`),
    ),
  });
  const ex = inst.exports;
  if (!isJpegTurbo(ex)) throw new Error("jpeg-turbo.wasm: unexpected exports");
  memory = ex.memory;
  errStr = findErrStr(new Uint8Array(ex.memory.buffer));
  meter.track(ex.memory);
  try {
    const src = ex.malloc(bytes.length) >>> 0;
    const meta = ex.malloc(16) >>> 0;
    if (src === 0 || meta === 0) throw new WebAssembly.RuntimeError("jpeg-turbo: out of memory");
    new Uint8Array(ex.memory.buffer, src, bytes.length).set(bytes);
    const handle = ex.tjInitDecompress();
    if (handle === 0) throw new WebAssembly.RuntimeError("jpeg-turbo: no decompressor");
    if (ex.tjDecompressHeader3(handle, src, bytes.length, meta, meta + 4, meta + 8, meta + 12)) {
      throw new JpegTurboError(lastMessage() || "libjpeg-turbo could not read the JPEG header");
    }
    const view = new DataView(ex.memory.buffer);
    const width = view.getInt32(meta, true);
    const height = view.getInt32(meta + 4, true);
    const colorspace = view.getInt32(meta + 12, true);
    const size = jpegScaledSize(width, height, hint);
    const cmyk = colorspace === TJCS_CMYK || colorspace === TJCS_YCCK;
    const channels = cmyk ? 4 : 3;
    const pixels = size.width * size.height;
    const dst = ex.malloc(pixels * channels) >>> 0;
    if (dst === 0) throw new WebAssembly.RuntimeError("jpeg-turbo: out of memory for pixels");
    // Asking for exactly the scaled size makes TurboJPEG pick that M/8 factor.
    const rc = ex.tjDecompress2(
      handle,
      src,
      bytes.length,
      dst,
      size.width,
      size.width * channels,
      size.height,
      cmyk ? TJPF_CMYK : TJPF_RGB,
      0,
    );
    // Fatal errors longjmp (thrown above); -1 without one is a warning (or an argument error,
    // which our arguments rule out). Like libvips' fail_on=truncated, missing data (libjpeg
    // filled the rest with grey) is corrupt, while e.g. extraneous bytes are tolerated as
    // browsers tolerate them.
    if (rc !== 0) {
      const why = lastMessage();
      // "tj…" messages are TurboJPEG API errors (no pixels written); unknown means unsure.
      const unsure = why === "" || why === "No error" || why.startsWith("tj");
      if (rc !== -1 || unsure || /premature end/i.test(why)) {
        throw new JpegTurboError(why || `tjDecompress2 returned ${rc}`);
      }
    }
    meter.sample();
    const raw = new Uint8Array(ex.memory.buffer, dst, pixels * channels);
    const data = cmyk ? cmykToRgba(raw, pixels, hasAdobeMarker(bytes)) : rgbToRgba(raw, pixels);
    return { width: size.width, height: size.height, data };
  } finally {
    meter.release(ex.memory);
  }
}
