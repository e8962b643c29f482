import { base64url, fromBase64url } from "../domain/ids";

/** A keyring for HMAC URL signatures: the current key id plus every accepted key. */
export interface SigningKeyring {
  currentKeyId: string;
  keys: ReadonlyMap<string, string>;
}

/** What a signature grants: delivery (GET) or upload (PUT). */
export type SignedPurpose = "view" | "upload";

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

function message(purpose: SignedPurpose, keyId: string, expires: number, path: string): Uint8Array {
  return new TextEncoder().encode(`${purpose}\n${keyId}\n${expires}\n${path}`);
}

/** Returns the query string (`kid`, `exp`, `sig`) that signs `path` until `expires` (Unix s). */
export async function signPath(
  ring: SigningKeyring,
  purpose: SignedPurpose,
  path: string,
  expires: number,
): Promise<string> {
  const secret = ring.keys.get(ring.currentKeyId);
  if (secret === undefined) throw new Error("current signing key missing");
  const mac = await crypto.subtle.sign(
    "HMAC",
    await hmacKey(secret),
    message(purpose, ring.currentKeyId, expires, path),
  );
  const q = new URLSearchParams({
    kid: ring.currentKeyId,
    exp: String(expires),
    sig: base64url(new Uint8Array(mac)),
  });
  return q.toString();
}

/** Outcome of checking a signed URL. */
export type SignatureCheck = "valid" | "invalid" | "expired";

/** Verifies `sig` over purpose + key id + expiry + path in constant time; expiry after MAC. */
export async function verifyPath(
  ring: SigningKeyring,
  purpose: SignedPurpose,
  path: string,
  params: { kid: string | undefined; exp: string | undefined; sig: string | undefined },
  nowSeconds: number,
): Promise<SignatureCheck> {
  const { kid, exp, sig } = params;
  if (kid === undefined || exp === undefined || sig === undefined) return "invalid";
  if (!/^\d{1,12}$/.test(exp)) return "invalid";
  const secret = ring.keys.get(kid);
  const mac = fromBase64url(sig);
  if (secret === undefined || mac === null || mac.length !== 32) return "invalid";
  const expires = Number(exp);
  const ok = await crypto.subtle.verify(
    "HMAC",
    await hmacKey(secret),
    mac,
    message(purpose, kid, expires, path),
  );
  if (!ok) return "invalid";
  return expires < nowSeconds ? "expired" : "valid";
}
