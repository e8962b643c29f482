import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { type CodecModules, type Codecs, createCodecs } from "../src/pipeline/codecs";

const require = createRequire(import.meta.url);

// The project's global types are workerd's, which omit compile (workerd forbids it); Node has it.
interface NodeWasm {
  compile(bytes: Uint8Array): Promise<WebAssembly.Module>;
}
const nodeWasm = WebAssembly as unknown as NodeWasm;

const PATHS: Record<keyof CodecModules, string> = {
  jpegDecoder: "@cwasm/jpeg-turbo/jpeg-turbo.wasm",
  jpegEncoder: "@jsquash/jpeg/codec/enc/mozjpeg_enc.wasm",
  webpDecoder: "@jsquash/webp/codec/dec/webp_dec.wasm",
  webpScaledDecoder: "../wasm/webp-scaled/webp-scaled.wasm",
  webpEncoder: "@jsquash/webp/codec/enc/webp_enc_simd.wasm",
  avifDecoder: "@jsquash/avif/codec/dec/avif_dec.wasm",
  avifDav1dDecoder: "../wasm/avif-dav1d/avif-dav1d.wasm",
  avifEncoder: "@jsquash/avif/codec/enc/avif_enc.wasm",
  png: "@jsquash/png/codec/pkg/squoosh_png_bg.wasm",
  heicDecoder: "libheif-js/libheif-wasm/libheif.wasm",
};

/** Compiles the same .wasm files the processor imports, for running the pipeline in Node. */
export async function loadNodeCodecModules(): Promise<CodecModules> {
  const entries = await Promise.all(
    Object.entries(PATHS).map(async ([key, spec]) => {
      // Package paths resolve through node_modules; the project's own builds sit in wasm/.
      const bytes = await readFile(
        spec.startsWith(".") ? path.join(import.meta.dirname, spec) : require.resolve(spec),
      );
      return [key, await nodeWasm.compile(bytes)] as const;
    }),
  );
  return Object.fromEntries(entries) as unknown as CodecModules;
}

/** Codec set backed by Node-compiled modules (same code path as workerd after compile). */
export async function createNodeCodecs(): Promise<Codecs> {
  return createCodecs(await loadNodeCodecModules());
}
