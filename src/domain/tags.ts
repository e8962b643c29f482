import { fail, type Outcome, ok } from "./result";

/** Most tags one image may carry. */
export const MAX_TAGS = 20;
/** Longest tag, in characters after normalisation. */
export const MAX_TAG_LENGTH = 50;

const ALLOWED = /^[\p{L}\p{M}\p{N} _.+#&'-]+$/u;

/**
 * A tag as it is stored and compared: Unicode NFKC, case-folded (upper then lower case, so
 * `ß` and `SS` meet as `ss`), trimmed, inner white space collapsed to one space. Null when
 * nothing is left or it has characters a tag may not carry.
 */
export function normaliseTag(raw: string): string | null {
  const folded = raw.normalize("NFKC").toUpperCase().toLowerCase().normalize("NFKC");
  const tag = folded.trim().replace(/\s+/gu, " ");
  if (tag === "" || !ALLOWED.test(tag)) return null;
  return tag;
}

/** Normalises a whole list (deduplicated, in order) or says which entry is wrong. */
export function normaliseTags(raw: readonly string[]): Outcome<string[]> {
  if (raw.length > MAX_TAGS) return fail("validation_failed", `tags: at most ${MAX_TAGS}.`);
  const out: string[] = [];
  for (const [i, entry] of raw.entries()) {
    const tag = normaliseTag(entry);
    if (tag === null) {
      return fail(
        "validation_failed",
        `tags.${i}: letters, digits, spaces and - _ . + # & ' only, not empty.`,
      );
    }
    if ([...tag].length > MAX_TAG_LENGTH) {
      return fail("validation_failed", `tags.${i}: at most ${MAX_TAG_LENGTH} characters.`);
    }
    if (!out.includes(tag)) out.push(tag);
  }
  return ok(out);
}
