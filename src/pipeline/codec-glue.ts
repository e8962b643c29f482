/**
 * Minimal instantiation glue for the emscripten (mozjpeg encoder, libwebp, libavif) and wasm-bindgen
 * (squoosh png, used to encode only) codecs.
 *
 * The packages' own wrappers cache one instance per module for the life of the isolate. We
 * deliberately do not: WASM linear memory never shrinks and a trap can leave an instance in an
 * undefined state, so every call gets a fresh instance that is dropped afterwards.
 * Instantiating from an already-compiled WebAssembly.Module is cheap (see bench/).
 */

/** Pixels as the codecs hand them out: 8-bit RGBA, row-major, no padding. */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** True when any pixel of an RGBA buffer is not fully opaque. */
export function hasTransparency(rgba: Uint8Array): boolean {
  for (let i = 3; i < rgba.length; i += 4) if (rgba[i] !== 255) return true;
  return false;
}

/** What the emscripten JS glue returns for a decoded image (an ImageData or its polyfill). */
interface ImageDataLike {
  width: number;
  height: number;
  data: Uint8ClampedArray | Uint8Array;
}

/** Options we pass to a MODULARIZE=1 emscripten factory. */
interface EmscriptenOptions {
  noInitialRun: boolean;
  print: (text: string) => void;
  printErr: (text: string) => void;
  instantiateWasm: (
    imports: WebAssembly.Imports,
    done: (instance: WebAssembly.Instance) => void,
  ) => WebAssembly.Exports;
}

/** A MODULARIZE=1 emscripten factory, typed for what we use. */
export type EmscriptenFactory<M> = (options: EmscriptenOptions) => Promise<M>;

/** webp_dec embind surface. */
export interface EmWebpDecoderModule {
  decode(data: Uint8Array): ImageDataLike | null;
}

/** avif_dec embind surface (8-bit output only is requested). */
export interface EmAvifDecoderModule {
  decode(data: Uint8Array, bitDepth: 8): ImageDataLike | null;
}

/** mozjpeg_enc / webp_enc / avif_enc embind surface. */
export interface EmEncoderModule<O> {
  encode(data: Uint8Array, width: number, height: number, options: O): Uint8Array | null;
}

/**
 * Tracks the linear memory of every live codec instance so the pipeline can report (and tests
 * can assert) the peak sum of WASM memory, which is what competes for the 128 MB isolate.
 */
export class WasmMemoryMeter {
  #live = new Set<WebAssembly.Memory>();
  #peak = 0;

  /** Peak of the summed byteLength of all live instance memories since the last reset. */
  get peakBytes(): number {
    return this.#peak;
  }

  /** Starts a new measurement window (peak := current). */
  reset(): void {
    this.#peak = this.currentBytes();
  }

  /** Sum of the byteLength of all live instance memories now. */
  currentBytes(): number {
    let sum = 0;
    for (const m of this.#live) sum += m.buffer.byteLength;
    return sum;
  }

  /** Registers a memory as live and samples. */
  track(memory: WebAssembly.Memory): void {
    this.#live.add(memory);
    this.sample();
  }

  /** Records the current sum; memory only grows, so sampling after each call sees its peak. */
  sample(): void {
    const now = this.currentBytes();
    if (now > this.#peak) this.#peak = now;
  }

  /** Samples one last time and forgets the memory (the instance is about to be dropped). */
  release(memory: WebAssembly.Memory | null): void {
    if (!memory) return;
    this.sample();
    this.#live.delete(memory);
  }
}

function findMemory(exports: WebAssembly.Exports): WebAssembly.Memory | null {
  for (const value of Object.values(exports)) {
    if (value instanceof WebAssembly.Memory) return value;
  }
  return null;
}

/** A codec failure with the codec's own last stderr line (e.g. libjpeg's message). */
export class CodecError extends Error {
  constructor(
    message: string,
    readonly trapped: boolean,
  ) {
    super(message);
  }
}

function describe(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (typeof e === "number") return `native exception ${e}`;
  const s = String(e);
  return s === "[object Object]" ? "native exception" : s;
}

/**
 * Runs `use` against a fresh emscripten instance of `module`, then drops it.
 * The instance's memory is tracked by `meter` for the duration. Anything it throws comes out
 * as a CodecError; `trapped` tells a WASM trap/abort (instance dead) from a reported error.
 */
export async function withEmscripten<M, T>(
  factory: EmscriptenFactory<M>,
  module: WebAssembly.Module,
  meter: WasmMemoryMeter,
  use: (m: M) => T,
): Promise<T> {
  let memory: WebAssembly.Memory | null = null;
  // Codecs report why they failed on stderr only; keep the last line for the error detail.
  let lastErr = "";
  const keep = (text: string): void => {
    lastErr = text;
  };
  try {
    return await runEmscripten(factory, module, meter, use, keep, (m) => {
      memory = m;
    });
  } catch (e) {
    const trapped = e instanceof WebAssembly.RuntimeError;
    const detail =
      lastErr && !describe(e).includes(lastErr) ? `${lastErr} (${describe(e)})` : describe(e);
    throw new CodecError(detail, trapped);
  } finally {
    meter.release(memory);
  }
}

async function runEmscripten<M, T>(
  factory: EmscriptenFactory<M>,
  module: WebAssembly.Module,
  meter: WasmMemoryMeter,
  use: (m: M) => T,
  log: (text: string) => void,
  onMemory: (m: WebAssembly.Memory) => void,
): Promise<T> {
  const instance = await factory({
    noInitialRun: true,
    print: log,
    printErr: log,
    instantiateWasm: (imports, done) => {
      const inst = new WebAssembly.Instance(module, imports);
      const memory = findMemory(inst.exports);
      if (memory) {
        meter.track(memory);
        onMemory(memory);
      }
      done(inst);
      return inst.exports;
    },
  });
  return use(instance);
}

/** Copies an ImageData-like result into a plain RGBA image without another full copy. */
export function toRgba(img: ImageDataLike): RgbaImage {
  const d = img.data;
  const data = d instanceof Uint8Array ? d : new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
  return { width: img.width, height: img.height, data };
}

/** Exports of squoosh_png_bg.wasm (wasm-bindgen). */
interface PngExports {
  memory: WebAssembly.Memory;
  encode(retptr: number, ptr: number, len: number, w: number, h: number, depth: number): void;
  decode(ptr: number, len: number): number;
  __wbindgen_add_to_stack_pointer(delta: number): number;
  __wbindgen_malloc(size: number, align: number): number;
  __wbindgen_free(ptr: number, size: number, align: number): void;
}

function isExports<T>(
  exports: WebAssembly.Exports,
  names: readonly string[],
): exports is T & WebAssembly.Exports {
  return names.every((n) => n in exports);
}

function passBytes(
  memory: WebAssembly.Memory,
  malloc: (size: number, align: number) => number,
  bytes: Uint8Array,
): number {
  const ptr = malloc(bytes.length, 1) >>> 0;
  new Uint8Array(memory.buffer, ptr, bytes.length).set(bytes);
  return ptr;
}

/** Encodes RGBA8 as PNG with a fresh squoosh_png instance. */
export function encodePngWithSquoosh(
  module: WebAssembly.Module,
  meter: WasmMemoryMeter,
  img: RgbaImage,
): Uint8Array {
  let memory: WebAssembly.Memory | null = null;
  const wbg: Record<string, (...args: number[]) => unknown> = {};
  for (const imp of WebAssembly.Module.imports(module)) {
    if (imp.module !== "wbg") continue;
    wbg[imp.name] =
      imp.name === "__wbindgen_throw"
        ? (ptr = 0, len = 0) => {
            const buf = memory ? new Uint8Array(memory.buffer, ptr, len) : new Uint8Array();
            throw new Error(new TextDecoder().decode(buf));
          }
        : () => {
            throw new Error(`squoosh_png: unexpected import ${imp.name} during encode`);
          };
  }
  const inst = new WebAssembly.Instance(module, { wbg });
  const ex = inst.exports;
  if (!isExports<PngExports>(ex, ["memory", "encode", "__wbindgen_malloc"])) {
    throw new Error("squoosh_png: unexpected exports");
  }
  memory = ex.memory;
  meter.track(ex.memory);
  try {
    const retptr = ex.__wbindgen_add_to_stack_pointer(-16);
    const ptr = passBytes(ex.memory, ex.__wbindgen_malloc, img.data);
    ex.encode(retptr, ptr, img.data.length, img.width, img.height, 8);
    const ret = new Int32Array(ex.memory.buffer, retptr, 2);
    const outPtr = (ret[0] ?? 0) >>> 0;
    const outLen = (ret[1] ?? 0) >>> 0;
    return new Uint8Array(ex.memory.buffer, outPtr, outLen).slice();
  } finally {
    meter.release(ex.memory);
  }
}

/** What every standalone build in wasm/ exports besides its own functions. */
interface StandaloneExports {
  memory: WebAssembly.Memory;
  _initialize(): void;
}

/**
 * Instantiates one of our standalone codec builds (wasm/*): WASI stubs, `_initialize`, and its
 * memory tracked by `meter` (the caller releases it when done).
 */
export function instantiateStandalone<T extends StandaloneExports>(
  module: WebAssembly.Module,
  meter: WasmMemoryMeter,
  hasExports: (e: WebAssembly.Exports) => e is WebAssembly.Exports & T,
  name: string,
  exitError: (code: number) => Error,
): T {
  let memory: WebAssembly.Memory | null = null;
  const inst = new WebAssembly.Instance(module, {
    env: { emscripten_notify_memory_growth: () => meter.sample() },
    wasi_snapshot_preview1: wasiStubs(() => memory, exitError),
  });
  const ex = inst.exports;
  if (!hasExports(ex)) throw new Error(`${name}: unexpected exports`);
  memory = ex.memory;
  ex._initialize();
  meter.track(ex.memory);
  return ex;
}

/**
 * WASI imports for standalone codec builds: an empty environment, no files (nothing in a
 * decode path writes one; if something does, it is dropped), and `proc_exit` as an error.
 */
export function wasiStubs(
  memory: () => WebAssembly.Memory | null,
  exitError: (code: number) => Error,
): WebAssembly.ModuleImports {
  const nosys = 52;
  return {
    environ_sizes_get: (countPtr: number, sizePtr: number) => {
      const m = memory();
      if (m) {
        const v = new DataView(m.buffer);
        v.setUint32(countPtr, 0, true);
        v.setUint32(sizePtr, 0, true);
      }
      return 0;
    },
    environ_get: () => 0,
    fd_write: () => nosys,
    fd_close: () => nosys,
    fd_seek: () => nosys,
    proc_exit: (code: number) => {
      throw exitError(code);
    },
  };
}
