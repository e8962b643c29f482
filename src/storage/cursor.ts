import { base64url, fromBase64url } from "../domain/ids";

/**
 * Opaque page cursors: the sort key of the last row of a page, as base64url JSON. `shape`
 * says what each part must be (`n` a number, `s` a string); anything else decodes to null.
 */
export function encodeCursor(parts: readonly (string | number)[]): string {
  return base64url(new TextEncoder().encode(JSON.stringify(parts)));
}

/** The parts of a cursor of `shape`, or null when it is not one. */
export function decodeCursor<T extends (string | number)[]>(
  cursor: string,
  shape: string,
): T | null {
  try {
    const raw = fromBase64url(cursor);
    if (!raw) return null;
    const value: unknown = JSON.parse(new TextDecoder().decode(raw));
    if (!Array.isArray(value) || value.length !== shape.length) return null;
    const fits = [...shape].every((kind, i) =>
      // JSON.parse turns 1e999 into Infinity, which no database binds.
      kind === "n" ? Number.isFinite(value[i]) : typeof value[i] === "string",
    );
    return fits ? (value as T) : null;
  } catch {
    return null;
  }
}
