import { base64url, fromBase64url } from "../domain/ids";

/** A keyring for HMAC URL signatures: the current key id plus every accepted key. */
export interface SigningKeyring {
  currentKeyId: string;
  keys: ReadonlyMap<string, string>;
}

/**
 * What a signature grants: delivery (GET `/d`), upload (PUT `/upload`), a resumable upload
 * (`/v1/tus/{id}`), a share session cookie, or a delivery cookie. The purpose is part of the signed message, so a signature
 * made for one is never accepted for another.
 */
export type SignedPurpose = "view" | "upload" | "resumable" | "share-session" | "delivery-cookie";

/** Parses `kid:secret[,kid:secret]`; null when malformed or the current kid is missing. */
export function parseKeyring(spec: string, currentKeyId: string): SigningKeyring | null {
  const keys = new Map<string, string>();
  for (const part of spec.split(",")) {
    const trimmed = part.trim();
    if (trimmed === "") continue;
    const sep = trimmed.indexOf(":");
    if (sep <= 0 || sep === trimmed.length - 1) return null;
    keys.set(trimmed.slice(0, sep), trimmed.slice(sep + 1));
  }
  if (!keys.has(currentKeyId)) return null;
  return { currentKeyId, keys };
}

// Importing a key costs more than the HMAC itself; keep them for the isolate's lifetime.
const keyCache = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keyCache.get(secret);
  if (!key) {
    key = crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode(secret),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign", "verify"],
    );
    keyCache.set(secret, key);
  }
  return key;
}

function message(
  purpose: SignedPurpose,
  keyId: string,
  expires: number,
  subject: string,
): Uint8Array {
  return new TextEncoder().encode(`${purpose}\n${keyId}\n${expires}\n${subject}`);
}

/** A signature of `subject` (a path, or a cookie's payload) for `purpose` until `expires`. */
export interface Signature {
  kid: string;
  exp: string;
  sig: string;
}

/** Signs `subject` for `purpose` until `expires` (Unix s) with the current key. */
export async function signSubject(
  ring: SigningKeyring,
  purpose: SignedPurpose,
  subject: string,
  expires: number,
): Promise<Signature> {
  const secret = ring.keys.get(ring.currentKeyId);
  if (secret === undefined) throw new Error("current signing key missing");
  const mac = await crypto.subtle.sign(
    "HMAC",
    await hmacKey(secret),
    message(purpose, ring.currentKeyId, expires, subject),
  );
  return { kid: ring.currentKeyId, exp: String(expires), sig: base64url(new Uint8Array(mac)) };
}

/** Returns the query string (`kid`, `exp`, `sig`) that signs `path` until `expires` (Unix s). */
export async function signPath(
  ring: SigningKeyring,
  purpose: SignedPurpose,
  path: string,
  expires: number,
): Promise<string> {
  const { kid, exp, sig } = await signSubject(ring, purpose, path, expires);
  return new URLSearchParams({ kid, exp, sig }).toString();
}

/** Outcome of checking a signed URL. */
export type SignatureCheck = "valid" | "invalid" | "expired";

/**
 * Clock skew tolerated between the signer and the verifier when capping a URL's lifetime.
 * Signing and verifying run in the same deployment, so a minute is generous.
 */
export const SIGNATURE_CLOCK_SKEW_SECONDS = 60;

/**
 * Fallback lifetime cap for callers that do not pass one: fail closed rather than accept a
 * URL that claims to be valid for years.
 */
const DEFAULT_MAX_LIFETIME_SECONDS = 3600;

// The only accepted spellings: `exp` in decimal without leading zeros, `sig` the unpadded
// base64url of a 32-byte MAC (43 characters; re-encoding must give the same text, so the
// other final characters that decode to the same bytes are refused).
const EXPIRES = /^[1-9]\d{0,11}$/;
const SIGNATURE = /^[A-Za-z0-9_-]{43}$/;

/**
 * Verifies `sig` over purpose + key id + expiry + path (or any signed subject) in constant
 * time; expiry after MAC.
 * Only the canonical encoding is accepted, and an `exp` further ahead than
 * `maxLifetimeSeconds` (the TTL this deployment signs with) plus clock skew is invalid.
 */
export async function verifyPath(
  ring: SigningKeyring,
  purpose: SignedPurpose,
  path: string,
  params: { kid: string | undefined; exp: string | undefined; sig: string | undefined },
  nowSeconds: number,
  maxLifetimeSeconds: number = DEFAULT_MAX_LIFETIME_SECONDS,
): Promise<SignatureCheck> {
  const { kid, exp, sig } = params;
  if (kid === undefined || exp === undefined || sig === undefined) return "invalid";
  if (!EXPIRES.test(exp) || !SIGNATURE.test(sig)) return "invalid";
  const expires = Number(exp);
  if (expires > nowSeconds + maxLifetimeSeconds + SIGNATURE_CLOCK_SKEW_SECONDS) return "invalid";
  const secret = ring.keys.get(kid);
  const mac = fromBase64url(sig);
  if (secret === undefined || mac === null || mac.length !== 32 || base64url(mac) !== sig) {
    return "invalid";
  }
  const ok = await crypto.subtle.verify(
    "HMAC",
    await hmacKey(secret),
    mac,
    message(purpose, kid, expires, path),
  );
  if (!ok) return "invalid";
  return expires < nowSeconds ? "expired" : "valid";
}
