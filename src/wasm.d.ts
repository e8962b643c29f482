declare module "*.wasm" {
  const m: WebAssembly.Module;
  export default m;
}

// This one ships a wasm-bindgen `.wasm.d.ts` describing instance exports; under wrangler's
// module rules the default import is the compiled module instead.
declare module "@jsquash/png/codec/pkg/squoosh_png_bg.wasm" {
  const m: WebAssembly.Module;
  export default m;
}
