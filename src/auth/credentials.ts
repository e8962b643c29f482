import { randomSecret } from "./secrets";

/**
 * Share tokens and API keys: a public id (the row's primary key, for lookups, revocation and
 * listings) followed by a secret that is stored only as a digest. Both parts have fixed
 * lengths, so no separator is needed and any other shape is refused before a lookup.
 */
export interface Credential {
  id: string;
  secret: string;
  /** What the holder is given (once). */
  text: string;
}

const ID_BYTES = 12; // 16 characters
const B64 = "[A-Za-z0-9_-]";

function make(prefix: string, secretBytes: number): Credential {
  const id = randomSecret(ID_BYTES);
  const secret = randomSecret(secretBytes);
  return { id, secret, text: `${prefix}${id}${secret}` };
}

function parser(prefix: string, secretChars: number) {
  const shape = new RegExp(`^${prefix}(${B64}{16})(${B64}{${secretChars}})$`);
  return (text: string): { id: string; secret: string } | null => {
    const m = shape.exec(text);
    return m?.[1] && m[2] ? { id: m[1], secret: m[2] } : null;
  };
}

/** What every API key starts with, so a leaked one is recognisable (secret scanners). */
export const API_KEY_PREFIX = "ihk_";

/** A new API key: `ihk_` + 16-character id + 256-bit secret. */
export function newApiKey(): Credential {
  return make(API_KEY_PREFIX, 32);
}

/** Splits an API key into id and secret; null for anything else. */
export const parseApiKey = parser(API_KEY_PREFIX, 43);

/** A new share token: 16-character id + 128-bit secret (38 URL-safe characters). */
export function newShareToken(): Credential {
  return make("", 16);
}

/** Splits a share token into id and secret; null for anything else. */
export const parseShareToken = parser("", 22);

/** Whether a string has the shape of a share or API key id (checked before any lookup). */
export function isCredentialId(value: string): boolean {
  return /^[A-Za-z0-9_-]{16}$/.test(value);
}
