import { base64url, fromBase64url } from "../domain/ids";

/**
 * Credentials that are handed out once and stored only as a digest: share tokens and API keys
 * (a random secret of 128 or 256 bits: a fast hash is enough), and share passwords (chosen by
 * people: a slow KDF).
 */

/** A new random secret of `bytes` bytes, base64url. */
export function randomSecret(bytes: number): string {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** SHA-256 of a high-entropy secret, hex: what is stored instead of the secret. */
export async function secretDigest(secret: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(secret));
  return hex(new Uint8Array(digest));
}

function hex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

/** Compares two strings in time that depends only on their lengths. */
export function constantTimeEqual(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  const n = Math.max(x.length, y.length);
  for (let i = 0; i < n; i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

/** Whether `secret` hashes to `storedDigest`, compared in constant time. */
export async function secretMatches(secret: string, storedDigest: string): Promise<boolean> {
  return constantTimeEqual(await secretDigest(secret), storedDigest);
}

/**
 * PBKDF2-SHA256 iterations for passwords: the most workerd's WebCrypto accepts (it refuses
 * counts above 100,000), which is also OWASP's floor for this KDF. Attempts are rate-limited.
 */
export const PASSWORD_ITERATIONS = 100_000;
const SALT_BYTES = 16;
const HASH_BITS = 256;
const PREFIX = "pbkdf2-sha256";

async function pbkdf2(password: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(password),
    "PBKDF2",
    false,
    ["deriveBits"],
  );
  const bits = await crypto.subtle.deriveBits(
    { name: "PBKDF2", hash: "SHA-256", salt, iterations },
    key,
    HASH_BITS,
  );
  return new Uint8Array(bits);
}

/** A password's stored form: `pbkdf2-sha256${iterations}${salt}${hash}` (base64url). */
export async function hashPassword(password: string): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  const hash = await pbkdf2(password, salt, PASSWORD_ITERATIONS);
  return `${PREFIX}$${PASSWORD_ITERATIONS}$${base64url(salt)}$${base64url(hash)}`;
}

/** Whether `password` matches a stored hash; a malformed stored value never matches. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [prefix, iterationsText, saltText, hashText] = stored.split("$");
  const iterations = Number(iterationsText);
  const salt = fromBase64url(saltText ?? "");
  if (
    prefix !== PREFIX ||
    !Number.isInteger(iterations) ||
    iterations < 1 ||
    iterations > PASSWORD_ITERATIONS ||
    !salt ||
    hashText === undefined
  ) {
    return false;
  }
  const hash = await pbkdf2(password, salt, iterations);
  return constantTimeEqual(base64url(hash), hashText);
}
