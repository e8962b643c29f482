import type { Result } from "../domain/result";

/** A small rendition to classify: the `thumb` variant's bytes (JPEG, or PNG when transparent). */
export interface ClassifierInput {
  bytes: Uint8Array;
  format: "jpeg" | "png" | "webp";
}

/** Scores per class, each in [0, 1]; class names are lower case (nsfwjs's: drawing, hentai, neutral, porn, sexy). */
export type Scores = Record<string, number>;

/** Anything that scores an image: the built-in model, an external service. */
export interface Classifier {
  /** Recorded with every decision it makes (`builtin:nsfwjs-mobilenet_v2`, `http:host`). */
  readonly name: string;
  classify(input: ClassifierInput): Promise<Result<Scores, string>>;
}

/** Accepts only finite scores in [0, 1] under well-formed class names. */
export function validScores(value: unknown): Scores | null {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return null;
  const out: Scores = {};
  for (const [name, score] of Object.entries(value)) {
    if (!/^[a-z][a-z0-9_]{0,31}$/.test(name)) return null;
    if (typeof score !== "number" || !Number.isFinite(score) || score < 0 || score > 1) return null;
    out[name] = score;
  }
  return Object.keys(out).length > 0 && Object.keys(out).length <= 64 ? out : null;
}
