/** A parsed `Range` header against a known size. */
export type RangeRequest =
  | { kind: "full" }
  | { kind: "partial"; offset: number; length: number }
  | { kind: "unsatisfiable" };

/**
 * Parses a single-range `bytes=` header (RFC 9110 §14). Multi-range and malformed headers
 * are ignored (the whole body is served), as the RFC allows; out-of-range is unsatisfiable.
 */
export function parseRange(header: string | null, size: number): RangeRequest {
  if (header === null) return { kind: "full" };
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return { kind: "full" };
  const [, startText = "", endText = ""] = m;
  if (startText === "" && endText === "") return { kind: "full" };
  if (startText === "") {
    const suffix = Number(endText);
    if (suffix === 0 || size === 0) return { kind: "unsatisfiable" };
    const length = Math.min(suffix, size);
    return { kind: "partial", offset: size - length, length };
  }
  const start = Number(startText);
  if (start >= size) return { kind: "unsatisfiable" };
  const end = endText === "" ? size - 1 : Math.min(Number(endText), size - 1);
  if (end < start) return { kind: "full" };
  return { kind: "partial", offset: start, length: end - start + 1 };
}
