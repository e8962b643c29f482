import avifDecFactory from "@jsquash/avif/codec/dec/avif_dec.js";
import avifEncFactory from "@jsquash/avif/codec/enc/avif_enc.js";
import jpegEncFactory from "@jsquash/jpeg/codec/enc/mozjpeg_enc.js";
import webpDecFactory from "@jsquash/webp/codec/dec/webp_dec.js";
import webpEncFactory from "@jsquash/webp/codec/enc/webp_enc_simd.js";
import { AvifDecodeError, decodeAvifDav1d } from "./avif-dav1d";
import { findAvifItems } from "./avif-item";
import {
  CodecError,
  type EmAvifDecoderModule,
  type EmEncoderModule,
  type EmscriptenFactory,
  type EmWebpDecoderModule,
  encodePngWithSquoosh,
  hasTransparency,
  type RgbaImage,
  toRgba,
  WasmMemoryMeter,
  withEmscripten,
} from "./codec-glue";
import { decodeGifFirstFrame } from "./gif-decode";
import { decodeHeic } from "./heic-decode";
import { type DecodeHint, decodeJpegTurbo, JpegTurboError } from "./jpeg-turbo";
import { walkIsobmff } from "./parse-isobmff";
import { walkWebp } from "./parse-webp";
import { decodePngScaled, PngDecodeError } from "./png-stream";
import { resampleLanczos3 } from "./resample";
import { boxShrinkSize } from "./row-shrink";
import { ftypBrands } from "./sniff";
import type { ImageFormat, OutputFormat, Result, TransformError } from "./types";
import {
  assembleAlphaWebp,
  encodeAlphaPayload,
  restoreAlpha,
  takeAlpha,
  vp8Payload,
} from "./webp-alpha";
import { firstWebpFrame } from "./webp-frame";
import { decodeWebpScaled, WebpDecodeError, webpScaledSize } from "./webp-scaled";

export type { RgbaImage } from "./codec-glue";
export { WasmMemoryMeter } from "./codec-glue";
export type { DecodeHint } from "./jpeg-turbo";

/** Compiled codec modules; each runtime supplies them its own way (static imports, fs). */
export interface CodecModules {
  /** libjpeg-turbo (TurboJPEG API, WASI build): DCT-domain scaling and CMYK. */
  jpegDecoder: WebAssembly.Module;
  jpegEncoder: WebAssembly.Module;
  webpDecoder: WebAssembly.Module;
  /** libwebp 1.2.4 built here (wasm/webp-scaled): decodes still WebPs straight to a size. */
  webpScaledDecoder: WebAssembly.Module;
  /** The SIMD build of libwebp's encoder (workerd and Node both support wasm SIMD). */
  webpEncoder: WebAssembly.Module;
  /** libavif (libaom inside) from @jsquash/avif: AVIFs avif-dav1d does not take, full frame. */
  avifDecoder: WebAssembly.Module;
  /** dav1d 1.0.0 built here (wasm/avif-dav1d): single AV1 items (8-12 bit), box-shrunk on load. */
  avifDav1dDecoder: WebAssembly.Module;
  avifEncoder: WebAssembly.Module;
  /** squoosh's Rust png crate: PNG variants are encoded with it (decoding is png-stream.ts). */
  png: WebAssembly.Module;
  /** libheif (with libde265) from libheif-js; LGPL-3.0, used unmodified as a separate module. */
  heicDecoder: WebAssembly.Module;
}

/** Encoder knobs the transform controls; everything else is fixed here to match sharp. */
export interface EncodeSettings {
  quality: number;
}

/** Runtime-neutral codec set: every WASM call runs in a fresh instance; nothing throws. */
export interface Codecs {
  /**
   * Decodes the first frame of an image to 8-bit RGBA. With a hint, some formats come out
   * smaller but still covering it: the size is `decodedSize(probe, hint)` (decode-size.ts).
   */
  decode(
    bytes: Uint8Array,
    format: ImageFormat,
    hint?: DecodeHint,
  ): Promise<Result<RgbaImage, TransformError>>;
  /** Resamples RGBA to exactly width x height (Lanczos3; alpha-weighted when `alpha`). */
  resize(
    image: RgbaImage,
    width: number,
    height: number,
    alpha: boolean,
  ): Promise<Result<RgbaImage, TransformError>>;
  /** Encodes RGBA; JPEG ignores alpha, so callers must pick PNG/WebP for alpha sources. */
  encode(
    image: RgbaImage,
    format: OutputFormat,
    settings: EncodeSettings,
  ): Promise<Result<Uint8Array, TransformError>>;
  /** Peak WASM linear memory across live codec instances. */
  readonly memory: WasmMemoryMeter;
}

const webpDec = webpDecFactory as EmscriptenFactory<EmWebpDecoderModule>;
const avifDec = avifDecFactory as EmscriptenFactory<EmAvifDecoderModule>;

/**
 * mozjpeg settings mirroring sharp's `jpeg({ quality, mozjpeg: true })`: progressive, optimised
 * Huffman, trellis quantisation, ImageMagick quant table (3), 4:2:0.
 */
interface MozJpegOptions {
  quality: number;
  baseline: boolean;
  arithmetic: boolean;
  progressive: boolean;
  optimize_coding: boolean;
  smoothing: number;
  color_space: number;
  quant_table: number;
  trellis_multipass: boolean;
  trellis_opt_zero: boolean;
  trellis_opt_table: boolean;
  trellis_loops: number;
  auto_subsample: boolean;
  chroma_subsample: number;
  separate_chroma_quality: boolean;
  chroma_quality: number;
}

const jpegEnc = jpegEncFactory as EmscriptenFactory<EmEncoderModule<MozJpegOptions>>;

function mozjpegOptions(quality: number): MozJpegOptions {
  return {
    quality,
    baseline: false,
    arithmetic: false,
    progressive: true,
    optimize_coding: true,
    smoothing: 0,
    color_space: 3,
    quant_table: 3,
    trellis_multipass: false,
    trellis_opt_zero: false,
    trellis_opt_table: false,
    trellis_loops: 1,
    auto_subsample: false,
    chroma_subsample: 2,
    separate_chroma_quality: false,
    chroma_quality: quality,
  };
}

/** libwebp WebPConfig fields; values mirror sharp's defaults (effort 4 = method 4). */
interface WebpOptions {
  quality: number;
  target_size: number;
  target_PSNR: number;
  method: number;
  sns_strength: number;
  filter_strength: number;
  filter_sharpness: number;
  filter_type: number;
  partitions: number;
  segments: number;
  pass: number;
  show_compressed: number;
  preprocessing: number;
  autofilter: number;
  partition_limit: number;
  alpha_compression: number;
  alpha_filtering: number;
  alpha_quality: number;
  lossless: number;
  exact: number;
  image_hint: number;
  emulate_jpeg_size: number;
  thread_level: number;
  low_memory: number;
  near_lossless: number;
  use_delta_palette: number;
  use_sharp_yuv: number;
}

const webpEnc = webpEncFactory as EmscriptenFactory<EmEncoderModule<WebpOptions>>;

function webpOptions(quality: number): WebpOptions {
  return {
    quality,
    target_size: 0,
    target_PSNR: 0,
    method: 4,
    sns_strength: 50,
    filter_strength: 60,
    filter_sharpness: 0,
    filter_type: 1,
    partitions: 0,
    segments: 4,
    pass: 1,
    show_compressed: 0,
    preprocessing: 0,
    autofilter: 0,
    partition_limit: 0,
    alpha_compression: 1,
    alpha_filtering: 1,
    alpha_quality: 100,
    lossless: 0,
    exact: 0,
    image_hint: 0,
    emulate_jpeg_size: 0,
    thread_level: 0,
    low_memory: 0,
    near_lossless: 100,
    use_delta_palette: 0,
    use_sharp_yuv: 0,
  };
}

/** libavif options as exposed by @jsquash/avif. */
interface AvifOptions {
  quality: number;
  qualityAlpha: number;
  denoiseLevel: number;
  tileRowsLog2: number;
  tileColsLog2: number;
  speed: number;
  subsample: number;
  chromaDeltaQ: boolean;
  sharpness: number;
  enableSharpYUV: boolean;
  tune: number;
  bitDepth: number;
  lossless: boolean;
}

const avifEnc = avifEncFactory as EmscriptenFactory<EmEncoderModule<AvifOptions>>;

/**
 * AVIF speed (aom cpu-used). sharp maps `effort` e to speed 9 - e. Its default effort 4 (speed
 * 5) was measured against sharp at the same effort on wrangler 4.164, whose local queue no longer
 * stalls on long consumer runs: the pair took ~7.9 s instead of ~0.5 s (2.7x sharp) and the
 * bytes did not come closer (thumb 1.25-1.32x sharp's, medium 1.04-1.18x; at speed 8 1.15-1.28x
 * and 0.91-1.05x), so speed 8 (effort 1) stays; the bench compares against sharp at that effort.
 */
export const AVIF_SPEED = 8;

function avifOptions(quality: number): AvifOptions {
  return {
    quality,
    qualityAlpha: -1,
    denoiseLevel: 0,
    tileRowsLog2: 0,
    tileColsLog2: 0,
    speed: AVIF_SPEED,
    subsample: 1,
    chromaDeltaQ: false,
    sharpness: 0,
    enableSharpYUV: false,
    tune: 0,
    bitDepth: 8,
    lossless: false,
  };
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function fail<T>(code: TransformError["code"], detail: string): Result<T, TransformError> {
  return { ok: false, error: { code, detail } };
}

/** Builds the codec set from compiled modules; cheap, holds no instances. */
export function createCodecs(modules: CodecModules): Codecs {
  const meter = new WasmMemoryMeter();

  async function decode(
    bytes: Uint8Array,
    format: ImageFormat,
    hint?: DecodeHint,
  ): Promise<Result<RgbaImage, TransformError>> {
    try {
      let img: RgbaImage | null;
      switch (format) {
        case "jpeg":
          img = decodeJpegTurbo(modules.jpegDecoder, meter, bytes, hint);
          break;
        case "webp": {
          const frame = firstWebpFrame(bytes);
          const layout = frame === null && hint ? walkWebp(bytes) : null;
          if (layout?.ok && hint) {
            const size = webpScaledSize(layout.value.width, layout.value.height, hint);
            img = decodeWebpScaled(
              modules.webpScaledDecoder,
              meter,
              bytes,
              size.width,
              size.height,
            );
            break;
          }
          // Animated: the first frame, rewrapped as a still, at full size.
          img = await withEmscripten(webpDec, modules.webpDecoder, meter, (m) => {
            const r = m.decode(frame ?? bytes);
            return r ? toRgba(r) : null;
          });
          break;
        }
        case "avif": {
          const layout = walkIsobmff(bytes, ftypBrands(bytes) ?? []);
          const items = layout.ok ? findAvifItems(bytes, layout.value) : null;
          if (layout.ok && items?.ok) {
            const { width, height } = layout.value;
            const { factor } = boxShrinkSize(width, height, hint);
            img = decodeAvifDav1d(
              modules.avifDav1dDecoder,
              meter,
              items.value,
              width,
              height,
              factor,
            );
            break;
          }
          // Grids, layered items, sequences, premultiplied alpha: libavif at full size.
          img = await withEmscripten(avifDec, modules.avifDecoder, meter, (m) => {
            const r = m.decode(bytes, 8);
            return r ? toRgba(r) : null;
          });
          break;
        }
        case "png":
          // Pure TypeScript, row by row (png-stream.ts): no WASM instance, no full frame.
          img = decodePngScaled(bytes, hint);
          break;
        case "heic": {
          const r = await decodeHeic(modules.heicDecoder, bytes, { meter, hint });
          if (!r.ok) return r;
          img = r.value;
          break;
        }
        case "gif": {
          const r = decodeGifFirstFrame(bytes);
          if (!r.ok) return r;
          img = r.value;
          break;
        }
        default:
          return fail("unsupported_format", `no decoder for ${format}`);
      }
      if (!img || img.width === 0 || img.height === 0) {
        return fail("corrupt_image", `${format} decoder produced no image`);
      }
      if (img.data.length !== img.width * img.height * 4) {
        return fail("decode_failed", `${format} decoder returned a malformed buffer`);
      }
      return { ok: true, value: img };
    } catch (e) {
      // A trap or abort (OOM included) kills only the per-call instance, already dropped here.
      // Only a decoder's own report of bad data (libjpeg's error_exit, libwebp's and dav1d's
      // status codes, our PNG decoder, an emscripten decoder's error return) says the file is
      // corrupt; anything else (a trap, an allocation failure, a bug) says nothing about it.
      const badData =
        e instanceof JpegTurboError ||
        e instanceof WebpDecodeError ||
        e instanceof AvifDecodeError ||
        e instanceof PngDecodeError ||
        (e instanceof CodecError && !e.trapped);
      const trapped = !badData;
      const code = trapped ? "decode_failed" : "corrupt_image";
      return fail(code, `${format} decode failed: ${message(e)}`);
    }
  }

  async function resize(
    image: RgbaImage,
    width: number,
    height: number,
    alpha: boolean,
  ): Promise<Result<RgbaImage, TransformError>> {
    try {
      return { ok: true, value: resampleLanczos3(image, width, height, alpha) };
    } catch (e) {
      return fail("decode_failed", `resize failed: ${message(e)}`);
    }
  }

  async function encode(
    image: RgbaImage,
    format: OutputFormat,
    settings: EncodeSettings,
  ): Promise<Result<Uint8Array, TransformError>> {
    const { data, width, height } = image;
    try {
      let out: Uint8Array | null;
      switch (format) {
        case "jpeg":
          out = await withEmscripten(jpegEnc, modules.jpegEncoder, meter, (m) =>
            m.encode(data, width, height, mozjpegOptions(settings.quality)),
          );
          break;
        case "webp": {
          // A transparent image: colour through libwebp as opaque, alpha coded in webp-alpha.ts
          // (libwebp's own alpha encoder peaks at ~38 B/px, over the isolate at 2048 px).
          const alpha = hasTransparency(data) ? takeAlpha(data, width) : null;
          let lossy: Uint8Array | null;
          try {
            lossy = await withEmscripten(webpEnc, modules.webpEncoder, meter, (m) =>
              m.encode(data, width, height, webpOptions(settings.quality)),
            );
          } finally {
            if (alpha) restoreAlpha(data, alpha);
          }
          if (!alpha || !lossy) {
            out = lossy;
            break;
          }
          const vp8 = vp8Payload(lossy);
          if (!vp8) return fail("encode_failed", "webp encoder did not write a VP8 chunk");
          out = assembleAlphaWebp(width, height, encodeAlphaPayload(alpha, width, height), vp8);
          break;
        }
        case "avif":
          out = await withEmscripten(avifEnc, modules.avifEncoder, meter, (m) =>
            m.encode(data, width, height, avifOptions(settings.quality)),
          );
          break;
        case "png":
          out = encodePngWithSquoosh(modules.png, meter, image);
          break;
        default:
          return fail("encode_failed", `no encoder for ${String(format)}`);
      }
      if (!out || out.length === 0)
        return fail("encode_failed", `${format} encoder returned nothing`);
      // embind may hand back a view into the (soon dropped) instance memory; own the bytes.
      return { ok: true, value: out.buffer.byteLength === out.length ? out : out.slice() };
    } catch (e) {
      return fail("encode_failed", `${format} encode failed: ${message(e)}`);
    }
  }

  return { decode, resize, encode, memory: meter };
}
