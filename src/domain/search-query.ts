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

/** FNV-1a, 32 bits, over UTF-16 code units: a cheap spread for an index token. */
function fnv1a(text: string, seed: number): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * The index token of an owner (any string): lower-case hex, one token for the tokenizer. Two
 * owners sharing a token would only widen the candidates; the query's own owner test decides.
 */
export function ownerKey(ownerId: string): string {
  const a = fnv1a(ownerId, 0x811c9dc5).toString(16).padStart(8, "0");
  const b = fnv1a(ownerId, 0x01234567).toString(16).padStart(8, "0");
  return `o${a}${b}`;
}

/** The index token of an album (its id's characters as hex: exact, one token). */
export function albumKey(albumId: string): string {
  return `a${[...albumId].map((ch) => ch.charCodeAt(0).toString(16).padStart(2, "0")).join("")}`;
}
