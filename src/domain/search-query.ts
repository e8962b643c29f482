/**
 * Turns what a person types into an FTS5 query that can only mean "these words": each word is
 * a quoted string (so `OR`, `NEAR(`, `*`, `-`, column filters and quotes in the input are
 * plain text or dropped), all of them required, the last one also as a prefix. The input is
 * never spliced into SQL: the result is bound as the MATCH parameter.
 */

/** Longest query accepted (characters). */
export const MAX_QUERY_LENGTH = 200;
/** Most words a query keeps. */
export const MAX_QUERY_WORDS = 12;

/** The words of a query as the index's tokenizer sees them (letters, marks, digits). */
export function queryWords(q: string): string[] {
  return q
    .normalize("NFKC")
    .toLowerCase()
    .split(/[^\p{L}\p{M}\p{N}]+/u)
    .filter((w) => w !== "")
    .slice(0, MAX_QUERY_WORDS);
}

/** The FTS5 MATCH expression for `q`, or null when it has no words. */
export function ftsQuery(q: string): string | null {
  const words = queryWords(q);
  if (words.length === 0) return null;
  return words.map((w, i) => (i === words.length - 1 ? `"${w}"*` : `"${w}"`)).join(" ");
}
