/** Encodes bytes as unpadded base64url. */
export function base64url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** Decodes unpadded base64url; returns null for malformed input. */
export function fromBase64url(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return null;
  const b64 = text.replaceAll("-", "+").replaceAll("_", "/");
  try {
    const raw = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
    return Uint8Array.from(raw, (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

const IMAGE_ID_BYTES = 16;

/** A new random image id: 128 bits, URL-safe, never derived from user input. */
export function newImageId(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(IMAGE_ID_BYTES)));
}

/** Whether a string has the shape of an image id (checked before any lookup). */
export function isImageId(value: string): boolean {
  return /^[A-Za-z0-9_-]{22}$/.test(value);
}
