/** Image container formats recognised from magic bytes. */
export type ImageFormat = "jpeg" | "png" | "gif" | "webp" | "avif" | "heic";

/** Formats the pipeline writes for variants. */
export type OutputFormat = "jpeg" | "webp" | "avif" | "png";

/** Stable failure codes a transform can end with; all are permanent (never retried). */
export type TransformErrorCode =
  | "unsupported_format"
  | "too_many_pixels"
  | "corrupt_image"
  | "decode_failed"
  | "encode_failed";

/** A permanent failure with a stable code and a human detail. */
export interface TransformError {
  code: TransformErrorCode;
  detail: string;
}

import type { Result } from "../domain/result";

export type { Result };

/** What the header says, read before any pixel is decoded. */
export interface HeaderProbe {
  format: ImageFormat;
  width: number;
  height: number;
  /** Number of frames (1 for stills; >1 for animated GIF/WebP/AVIF sequences). */
  frames: number;
  /** EXIF orientation 1..8 (1 when absent). */
  orientation: number;
  hasAlpha: boolean;
  /** Progressive JPEG (SOF2/6/10); false for every other format. */
  progressive: boolean;
  /**
   * Memory libjpeg needs for the whole image's DCT coefficients when a JPEG has several scans
   * (every progressive one): 2 bytes a sample, full resolution even when decoding scaled.
   * 0 for single-scan JPEGs and other formats.
   */
  coefficientBytes: number;
  /** A lossless (VP8L) WebP bitstream: its decoder holds every source pixel (4 bytes each). */
  lossless?: boolean;
  /**
   * HEIF/AVIF whose primary image is a `grid` item: the size of its coded tiles (phones write
   * 512x512). A HEIC grid is decoded one tile at a time (heic-decode.ts).
   */
  tile?: { width: number; height: number };
  /** An Adam7 (interlaced) PNG: its decoder assembles the full RGBA frame before shrinking. */
  interlaced?: boolean;
  /**
   * Set for an AVIF that avif-dav1d.wasm decodes (one AV1 item, maybe an alpha item; see
   * avif-item.ts): bytes a source pixel dav1d's planes take, 1.5 for 8-bit 4:2:0 up to 3 for
   * 4:4:4, plus 1 for the alpha item, all doubled above 8 bits. Absent for every other AVIF
   * (libavif decodes those).
   */
  avifPlaneBytes?: number;
  /** A HEIC's decoded planes, bytes a pixel (from hvcC; 1.5 for 8-bit 4:2:0). */
  heicPlaneBytes?: number;
}

/** Named size preset: fit inside maxWidth x maxHeight, never upscale. */
export interface VariantPreset {
  name: "thumb" | "medium" | "large";
  maxWidth: number;
  maxHeight: number;
}

/** Privacy policy applied to every served byte. */
export interface MetadataPolicy {
  /** Keep copyright/artist/camera make+model (never GPS). */
  keepCopyrightAndCamera: boolean;
}

/** Options for one transform run. */
export interface TransformOptions {
  maxPixels: number;
  presets: readonly VariantPreset[];
  /** Which encoded formats to produce per preset (alpha sources replace jpeg by png). */
  formats: readonly OutputFormat[];
  /** Presets that also get AVIF (CPU budget). */
  avifPresets: readonly VariantPreset["name"][];
  quality: { jpeg: number; webp: number; avif: number };
  metadata: MetadataPolicy;
  /**
   * Whether to make the `original` rendition. A run that only adds variants to a processed
   * image (the AVIF stage) skips it, including the full-size re-encode of an AVIF fallback.
   */
  original: boolean;
}

/** One encoded output. */
export interface EncodedVariant {
  /** thumb | medium | large | original */
  name: string;
  format: OutputFormat | ImageFormat;
  contentType: string;
  width: number;
  height: number;
  bytes: Uint8Array;
}

/** Everything the processor stores after a successful transform. */
export interface TransformOutput {
  probe: HeaderProbe;
  /** Upright dimensions (after EXIF orientation). */
  width: number;
  height: number;
  /**
   * The `original` variant: container-level stripped bytes in the upload's format, or (an AVIF
   * whose metadata cannot be blanked in place) the decoded image as WebP/PNG. Null when
   * `TransformOptions.original` is false.
   */
  original: EncodedVariant | null;
  variants: EncodedVariant[];
  /** ThumbHash of the image, base64. */
  placeholder: string;
  /** Dominant colour as #rrggbb. */
  dominantColor: string;
  /**
   * What happened to the source's colours in the variants: "srgb" (no profile, or an sRGB one:
   * untouched), "converted:<profile description>" (converted to sRGB), or "unmanaged:<why>"
   * (a profile we cannot apply, e.g. CMYK, gray or LUT-only: pixels left as decoded).
   */
  colour: string;
  /**
   * Container repairs that made the upload decode in strict decoders (png-repair.ts:
   * "zlib_checksum", "palette_size"); the `original` is the repaired file. Empty for most.
   */
  originalRepairs: string[];
  timings: { decodeMs: number; resizeMs: number; encodeMs: number; totalMs: number };
}
