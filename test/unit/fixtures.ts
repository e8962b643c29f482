import { readFileSync } from "node:fs";
import path from "node:path";
import type { ImageFormat, TransformErrorCode } from "../../src/pipeline/types";

/** One row of test/fixtures/manifest.json. */
export interface ManifestEntry {
  file: string;
  expect: "ready" | TransformErrorCode;
  probe: "ok" | TransformErrorCode;
  strip: "ok" | TransformErrorCode;
  format: ImageFormat | null;
  width: number | null;
  height: number | null;
  frames: number | null;
  orientation: number | null;
  hasAlpha: boolean | null;
}

const root = path.join(import.meta.dirname, "..", "fixtures");

/** Reads a corpus file as bytes. */
export function fixture(file: string): Uint8Array {
  return new Uint8Array(readFileSync(path.join(root, file)));
}

/** The corpus manifest. */
export const manifest: ManifestEntry[] = JSON.parse(
  readFileSync(path.join(root, "manifest.json"), "utf8"),
);
