import jpegDecoder from "@cwasm/jpeg-turbo/jpeg-turbo.wasm";
import avifDecoder from "@jsquash/avif/codec/dec/avif_dec.wasm";
import avifEncoder from "@jsquash/avif/codec/enc/avif_enc.wasm";
import jpegEncoder from "@jsquash/jpeg/codec/enc/mozjpeg_enc.wasm";
import png from "@jsquash/png/codec/pkg/squoosh_png_bg.wasm";
import webpDecoder from "@jsquash/webp/codec/dec/webp_dec.wasm";
import webpEncoder from "@jsquash/webp/codec/enc/webp_enc_simd.wasm";
import heicDecoder from "libheif-js/libheif-wasm/libheif.wasm";
import avifDav1dDecoder from "../../wasm/avif-dav1d/avif-dav1d.wasm";
import webpScaledDecoder from "../../wasm/webp-scaled/webp-scaled.wasm";
import { type CodecModules, type Codecs, createCodecs } from "./codecs";

/**
 * Codec modules for workerd. Workers cannot compile WASM from bytes at run time, so the
 * modules come from static `.wasm` imports that wrangler uploads as compiled modules.
 * Only the processor Worker may import this file: it pulls ~6 MB of WASM into the bundle.
 */
export const WORKERD_CODEC_MODULES: CodecModules = {
  jpegDecoder,
  jpegEncoder,
  webpDecoder,
  webpScaledDecoder,
  webpEncoder,
  avifDecoder,
  avifDav1dDecoder,
  avifEncoder,
  png,
  heicDecoder,
};

/** A codec set for the processor Worker (cheap: instances are created per call). */
export function createWorkerdCodecs(): Codecs {
  return createCodecs(WORKERD_CODEC_MODULES);
}
