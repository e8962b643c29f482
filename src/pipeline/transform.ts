import { rgbaToThumbHash } from "thumbhash";
import { hasTransparency } from "./codec-glue";
import type { Codecs, DecodeHint, RgbaImage } from "./codecs";
import { decideColour, describeColour, readColourSource } from "./colour-source";
import { decodeMemoryProblem, estimateDecodeMemory } from "./decode-memory";
import { decodedSize } from "./decode-size";
import { encodeMemoryProblem, estimateEncodeMemory, estimateReencodeMemory } from "./encode-memory";
import { applyColourTransform } from "./icc";
import { applyOrientation, swapsAxes } from "./orient";
import { repairPng } from "./png-repair";
import { PALETTE_INDEX_ERROR } from "./png-stream";
import { probeHeader } from "./probe";
import { stripMetadata } from "./strip";
import type {
  EncodedVariant,
  ImageFormat,
  OutputFormat,
  Result,
  TransformError,
  TransformOptions,
  TransformOutput,
  VariantPreset,
} from "./types";

const CONTENT_TYPES: Record<OutputFormat | ImageFormat, string> = {
  jpeg: "image/jpeg",
  png: "image/png",
  gif: "image/gif",
  webp: "image/webp",
  avif: "image/avif",
  heic: "image/heic",
};

/** Formats we can decode to pixels (HEIC through libheif, see heic-decode.ts). */
const DECODABLE: ReadonlySet<ImageFormat> = new Set(["jpeg", "png", "gif", "webp", "avif", "heic"]);

/** ThumbHash wants at most 100 px per side. */
const PLACEHOLDER_MAX = 100;

function fail<T>(code: TransformError["code"], detail: string): Result<T, TransformError> {
  return { ok: false, error: { code, detail } };
}

/** Size that fits inside the box, keeping aspect ratio, never upscaling, at least 1 px. */
export function fitInside(
  width: number,
  height: number,
  maxWidth: number,
  maxHeight: number,
): { width: number; height: number } {
  const scale = Math.min(1, maxWidth / width, maxHeight / height);
  if (scale >= 1) return { width, height };
  return {
    width: Math.max(1, Math.round(width * scale)),
    height: Math.max(1, Math.round(height * scale)),
  };
}

function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

/**
 * Most populous colour among 4-bit-per-channel buckets (alpha-weighted), as the mean of that
 * bucket: a plain mean would turn a red-and-blue image into a colour it does not contain.
 */
export function dominantColor(img: RgbaImage): string {
  const count = new Float64Array(4096);
  const sums = new Float64Array(4096 * 3);
  const d = img.data;
  for (let i = 0; i + 3 < d.length; i += 4) {
    const r = d[i] ?? 0;
    const g = d[i + 1] ?? 0;
    const b = d[i + 2] ?? 0;
    const a = (d[i + 3] ?? 0) / 255;
    if (a === 0) continue;
    const k = ((r >> 4) << 8) | ((g >> 4) << 4) | (b >> 4);
    count[k] = (count[k] ?? 0) + a;
    sums[k * 3] = (sums[k * 3] ?? 0) + r * a;
    sums[k * 3 + 1] = (sums[k * 3 + 1] ?? 0) + g * a;
    sums[k * 3 + 2] = (sums[k * 3 + 2] ?? 0) + b * a;
  }
  let best = -1;
  let bestCount = 0;
  for (let k = 0; k < 4096; k++) {
    if ((count[k] ?? 0) > bestCount) {
      bestCount = count[k] ?? 0;
      best = k;
    }
  }
  if (best < 0) return "#000000";
  const hex = (v: number): string =>
    Math.round(v / bestCount)
      .toString(16)
      .padStart(2, "0");
  return `#${hex(sums[best * 3] ?? 0)}${hex(sums[best * 3 + 1] ?? 0)}${hex(sums[best * 3 + 2] ?? 0)}`;
}

/**
 * The largest variant (or the placeholder, with no presets) in stored orientation: a JPEG is
 * decoded at the smallest DCT scale that still covers it, so every output is resampled from at
 * least as many pixels as it has, exactly as libvips' shrink-on-load does.
 */
function decodeHint(
  presets: readonly VariantPreset[],
  uprightW: number,
  uprightH: number,
  swap: boolean,
): DecodeHint {
  let w = 1;
  let h = 1;
  const boxes =
    presets.length > 0 ? presets : [{ maxWidth: PLACEHOLDER_MAX, maxHeight: PLACEHOLDER_MAX }];
  for (const p of boxes) {
    const fit = fitInside(uprightW, uprightH, p.maxWidth, p.maxHeight);
    w = Math.max(w, swap ? fit.height : fit.width);
    h = Math.max(h, swap ? fit.width : fit.height);
  }
  return { minWidth: w, minHeight: h };
}

/** libwebp's largest side; beyond it the fallback original is PNG. */
const WEBP_MAX_SIDE = 16383;
/** High enough that the stand-in original is visually the upload, as a "download" should be. */
const FALLBACK_ORIGINAL_QUALITY = 90;

/**
 * The `original` for an AVIF whose metadata strip.ts cannot blank losslessly (items by
 * reference, extents of unknown length): the decoded full frame, upright, as WebP q90 (PNG past
 * WebP's 16383 px side). Not AVIF: a full-size AVIF encode costs tens of seconds and ~25 bytes a
 * pixel of WASM here, while WebP keeps alpha, costs well under a second and no metadata at all.
 */
async function reencodedOriginal(
  frame: RgbaImage,
  orientation: number,
  codecs: Codecs,
): Promise<Result<EncodedVariant, TransformError>> {
  const upright = applyOrientation(frame, orientation);
  const format: OutputFormat =
    upright.width > WEBP_MAX_SIDE || upright.height > WEBP_MAX_SIDE ? "png" : "webp";
  const enc = await codecs.encode(upright, format, { quality: FALLBACK_ORIGINAL_QUALITY });
  if (!enc.ok) return enc;
  return {
    ok: true,
    value: {
      name: "original",
      format,
      contentType: CONTENT_TYPES[format],
      width: upright.width,
      height: upright.height,
      bytes: enc.value,
    },
  };
}

function formatsFor(
  preset: VariantPreset,
  options: TransformOptions,
  alpha: boolean,
): OutputFormat[] {
  const out: OutputFormat[] = [];
  for (const f of options.formats) {
    // JPEG has no alpha: flattening onto black (or any colour) would change the image.
    const chosen: OutputFormat = alpha && f === "jpeg" ? "png" : f;
    if (!out.includes(chosen)) out.push(chosen);
  }
  if (options.avifPresets.includes(preset.name) && !out.includes("avif")) out.push("avif");
  return out;
}

/**
 * Probe, check limits, decode once, cascade-downscale, orient, encode every preset, strip the
 * original and compute the placeholder. Never throws; every failure is a TransformError.
 */
export async function transformImage(
  upload: Uint8Array,
  options: TransformOptions,
  codecs: Codecs,
): Promise<Result<TransformOutput, TransformError>> {
  // Replaced by its repaired copy when a PNG needs one (see below).
  let input = upload;
  const started = performance.now();
  let decodeMs = 0;
  let resizeMs = 0;
  let encodeMs = 0;

  const probed = probeHeader(input);
  if (!probed.ok) return probed;
  const probe = probed.value;
  if (!DECODABLE.has(probe.format)) {
    return fail("unsupported_format", `${probe.format} uploads cannot be decoded here`);
  }
  const pixels = probe.width * probe.height;
  if (!(pixels > 0)) return fail("corrupt_image", "header declares an empty image");
  if (pixels > options.maxPixels) {
    return fail(
      "too_many_pixels",
      `${probe.width}x${probe.height} is ${pixels} pixels; the limit is ${options.maxPixels}`,
    );
  }

  const orientation = probe.orientation;
  const swap = swapsAxes(orientation);
  const uprightW = swap ? probe.height : probe.width;
  const uprightH = swap ? probe.width : probe.height;
  // Largest box first so each step resamples from the previous (smaller) result.
  const presets = [...options.presets].sort(
    (a, b) => b.maxWidth * b.maxHeight - a.maxWidth * a.maxHeight,
  );
  const hint = decodeHint(presets, uprightW, uprightH, swap);
  let decodeAt: DecodeHint | undefined = hint;
  let expected = decodedSize(probe, hint);
  // The pixel limit alone is not enough: what a decode costs depends on the format and, for
  // JPEG, on progressive vs baseline and chroma subsampling, all of which the header tells.
  const tooBig = decodeMemoryProblem(probe, estimateDecodeMemory(probe, input.length, expected));
  if (tooBig) return fail("too_many_pixels", tooBig);
  // Encoders hold their own peak (up to ~45 bytes an output pixel for AVIF): a preset set
  // configured too large is refused here, before any work, rather than killed mid-encode.
  for (const preset of presets) {
    const fit = fitInside(uprightW, uprightH, preset.maxWidth, preset.maxHeight);
    const formats = formatsFor(preset, options, probe.hasAlpha);
    const encodeCost = estimateEncodeMemory(
      fit.width,
      fit.height,
      formats,
      probe.hasAlpha,
      input.length,
    );
    const problem = encodeMemoryProblem(preset.name, encodeCost);
    if (problem) return fail("too_many_pixels", problem);
  }

  // The stripped original is made after the variants, so the decode holds the upload once in
  // JS. An AVIF is the exception: one whose metadata cannot be blanked in place is re-encoded
  // from the decoded frame, which has to be known before decoding (AVIF files are small).
  const early =
    options.original && probe.format === "avif"
      ? stripMetadata(input, probe.format, options.metadata)
      : null;
  const reencode = early !== null && !early.ok && early.error.code === "unsupported_format";
  if (early !== null && !early.ok && !reencode) return early;
  if (reencode) {
    const encode = estimateReencodeMemory(probe.width, probe.height, orientation);
    const tooBigToReencode = decodeMemoryProblem(probe, encode);
    if (tooBigToReencode) return fail("too_many_pixels", tooBigToReencode);
  }
  if (reencode && (expected.width !== probe.width || expected.height !== probe.height)) {
    // The stand-in original is the whole frame, so this decode cannot shrink on load.
    decodeAt = undefined;
    expected = { width: probe.width, height: probe.height };
    const whole = decodeMemoryProblem(probe, estimateDecodeMemory(probe, input.length, expected));
    if (whole) return fail("too_many_pixels", whole);
  }

  let t = performance.now();
  let decoded: Awaited<ReturnType<Codecs["decode"]>> | null = await codecs.decode(
    input,
    probe.format,
    decodeAt,
  );
  // Strict originals: a PNG only lenient decoders accept (wrong zlib checksum, palette index
  // past a short PLTE) is repaired at the container level, pixels untouched, and both the
  // variants and the `original` come from the repaired file.
  let originalRepairs: string[] = [];
  if (!decoded.ok && decoded.error.code === "corrupt_image" && probe.format === "png") {
    const repaired = repairPng(input, decoded.error.detail.includes(PALETTE_INDEX_ERROR));
    if (repaired) {
      const again = await codecs.decode(repaired.bytes, probe.format, decodeAt);
      if (again.ok) {
        input = repaired.bytes;
        originalRepairs = repaired.repairs;
        decoded = again;
      }
    }
  }
  decodeMs += performance.now() - t;
  if (!decoded.ok) return decoded;
  // Held in one mutable slot (and the result dropped) so the decoded frame can be collected
  // as soon as `large` exists, before the encoders take their own peak.
  let full: RgbaImage | null = decoded.value;
  decoded = null;
  if (full.width !== expected.width || full.height !== expected.height) {
    return fail(
      "corrupt_image",
      `header says ${probe.width}x${probe.height} (decode at ${expected.width}x${expected.height}) but pixels are ${full.width}x${full.height}`,
    );
  }
  const alpha = probe.hasAlpha && hasTransparency(full.data);
  // Variants carry no profile, so browsers show them as sRGB: a P3 or Adobe RGB source is
  // converted once here, on the decoded (already scaled) frame, before any preset. The stripped
  // `original` keeps its profile and needs nothing; a re-encoded one has none, so it is made
  // from the converted frame too. Counted in decodeMs: it is part of getting sRGB pixels.
  t = performance.now();
  const colour = decideColour(await readColourSource(input, probe.format));
  if (colour.kind === "convert") applyColourTransform(full, colour.transform);
  decodeMs += performance.now() - t;

  let original: EncodedVariant | null = null;
  if (reencode) {
    t = performance.now();
    const re = await reencodedOriginal(full, orientation, codecs);
    encodeMs += performance.now() - t;
    if (!re.ok) return re;
    original = re.value;
  }
  const variants: EncodedVariant[] = [];
  // The first preset is resized in stored orientation and turned upright once; later presets
  // cascade from that upright frame, so only one frame is alive while an encoder runs.
  let source: RgbaImage = full;
  let upright = orientation === 1;
  for (const preset of presets) {
    const fit = fitInside(uprightW, uprightH, preset.maxWidth, preset.maxHeight);
    const sideways = swap && !upright;
    const tw = sideways ? fit.height : fit.width;
    const th = sideways ? fit.width : fit.height;
    if (tw !== source.width || th !== source.height) {
      t = performance.now();
      const r = await codecs.resize(source, tw, th, alpha);
      resizeMs += performance.now() - t;
      if (!r.ok) return r;
      source = r.value;
    }
    full = null;
    // Reassigned, not kept in a second variable: the stored-orientation frame must be garbage
    // by the time the encoders run.
    if (!upright) source = applyOrientation(source, orientation);
    upright = true;
    for (const format of formatsFor(preset, options, alpha)) {
      t = performance.now();
      // PNG is lossless; its quality is unused.
      const quality = format === "png" ? 100 : options.quality[format];
      const enc = await codecs.encode(source, format, { quality });
      encodeMs += performance.now() - t;
      if (!enc.ok) return enc;
      variants.push({
        name: preset.name,
        format,
        contentType: CONTENT_TYPES[format],
        width: source.width,
        height: source.height,
        bytes: enc.value,
      });
    }
  }

  if (options.original && !reencode) {
    const stripped = early ?? stripMetadata(input, probe.format, options.metadata);
    if (!stripped.ok) return stripped;
    original = {
      name: "original",
      format: probe.format,
      contentType: CONTENT_TYPES[probe.format],
      width: uprightW,
      height: uprightH,
      bytes: stripped.value,
    };
  }

  t = performance.now();
  const tiny = fitInside(source.width, source.height, PLACEHOLDER_MAX, PLACEHOLDER_MAX);
  let placeholderSrc = source;
  if (tiny.width !== source.width || tiny.height !== source.height) {
    const r = await codecs.resize(source, tiny.width, tiny.height, alpha);
    if (!r.ok) return r;
    placeholderSrc = r.value;
  }
  resizeMs += performance.now() - t;
  const placeholderImg = upright ? placeholderSrc : applyOrientation(placeholderSrc, orientation);
  const placeholder = toBase64(
    rgbaToThumbHash(placeholderImg.width, placeholderImg.height, placeholderImg.data),
  );

  return {
    ok: true,
    value: {
      probe,
      width: uprightW,
      height: uprightH,
      original,
      variants,
      placeholder,
      dominantColor: dominantColor(placeholderImg),
      colour: describeColour(colour),
      originalRepairs,
      timings: { decodeMs, resizeMs, encodeMs, totalMs: performance.now() - started },
    },
  };
}
