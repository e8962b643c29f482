import { avifPlaneBytes, findAvifItems } from "./avif-item";
import { fail, ok, type Parse } from "./bytes";
import { walkGif } from "./parse-gif";
import { walkIsobmff } from "./parse-isobmff";
import { walkJpeg } from "./parse-jpeg";
import { walkPng } from "./parse-png";
import { walkWebp } from "./parse-webp";
import { describeUnsupported, ftypBrands, sniffFormat } from "./sniff";
import type { HeaderProbe, ImageFormat } from "./types";

/** Largest side any accepted format may declare; beyond it the header is not believable. */
export const MAX_SIDE = 65535;

type Dims = Omit<HeaderProbe, "format">;

/** Coefficient buffering is a libjpeg matter; the other decoders hold whole frames anyway. */
const NOT_JPEG = { progressive: false, coefficientBytes: 0 } as const;

/**
 * Reads format, size, frame count, EXIF orientation and alpha from the container headers,
 * without decoding a pixel. Never throws; the caller applies the pixel-count policy.
 */
export function probeHeader(bytes: Uint8Array): Parse<HeaderProbe> {
  const format = sniffFormat(bytes);
  if (!format) return fail("unsupported_format", describeUnsupported(bytes));
  const dims = readDims(bytes, format);
  if (!dims.ok) return dims;
  const { width, height, frames } = dims.value;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    return fail("corrupt_image", `${format} declares a zero size`);
  }
  if (width > MAX_SIDE || height > MAX_SIDE) {
    return fail(
      "corrupt_image",
      `${format} declares ${width}x${height}, beyond ${MAX_SIDE} a side`,
    );
  }
  if (frames < 1) return fail("corrupt_image", `${format} has no frames`);
  return ok({ format, ...dims.value });
}

function readDims(b: Uint8Array, format: ImageFormat): Parse<Dims> {
  switch (format) {
    case "jpeg": {
      const r = walkJpeg(b);
      if (!r.ok) return r;
      const { width, height, orientation, progressive, scans } = r.value;
      const coefficientBytes = scans > 1 ? r.value.coefficientBytes : 0;
      return ok({
        width,
        height,
        frames: 1,
        orientation,
        hasAlpha: false,
        progressive,
        coefficientBytes,
      });
    }
    case "png": {
      const r = walkPng(b, false);
      if (!r.ok) return r;
      const { width, height, frames, orientation, hasAlpha, interlaced } = r.value;
      return ok({ ...NOT_JPEG, width, height, frames, orientation, hasAlpha, interlaced });
    }
    case "gif": {
      const r = walkGif(b);
      if (!r.ok) return r;
      const { width, height, frames, hasAlpha } = r.value;
      return ok({ ...NOT_JPEG, width, height, frames, orientation: 1, hasAlpha });
    }
    case "webp": {
      const r = walkWebp(b);
      if (!r.ok) return r;
      const { width, height, frames, orientation, hasAlpha } = r.value;
      const lossless = r.value.chunks.some((c) => c.fourcc === "VP8L");
      return ok({ ...NOT_JPEG, width, height, frames, orientation, hasAlpha, lossless });
    }
    case "avif":
    case "heic": {
      const r = walkIsobmff(b, ftypBrands(b) ?? []);
      if (!r.ok) return r;
      const { width, height, frames, orientation, hasAlpha, grid, hevcPlaneBytes } = r.value;
      const planes =
        format === "heic" && hevcPlaneBytes > 0 ? { heicPlaneBytes: hevcPlaneBytes } : {};
      const base = { ...NOT_JPEG, width, height, frames, orientation, hasAlpha, ...planes };
      const dims = grid
        ? { ...base, tile: { width: grid.tileWidth, height: grid.tileHeight } }
        : base;
      const items = format === "avif" ? findAvifItems(b, r.value) : null;
      if (!items?.ok) return ok(dims);
      return ok({ ...dims, avifPlaneBytes: avifPlaneBytes(items.value) });
    }
  }
}
