import { newApiKey, parseApiKey } from "../auth/credentials";
import { secretDigest, secretMatches } from "../auth/secrets";
import type { Principal, Scope } from "../domain/access";
import { fail, type Outcome, ok } from "../domain/result";
import type { ApiKey, ApiKeyRepository } from "../storage/api-key-repository";
import type { Deps } from "./deps";

/** What the API key use cases use. */
export type ApiKeyDeps = Pick<Deps, "now" | "metrics"> & {
  apiKeys: ApiKeyRepository;
  background: (task: Promise<unknown>) => void;
};

/** Most live keys one user may hold: enough for every app, too few to hoard. */
export const MAX_KEYS_PER_USER = 50;
/** `last_used_at` is written at most this often per key. */
const LAST_USED_GRANULARITY_MS = 60_000;

/** Creates a key for the caller; the returned `secret` is the only time it is shown. */
export async function createApiKey(
  deps: ApiKeyDeps,
  input: { principal: Principal; name: string; scopes: Scope[]; expiresIn: number | null },
): Promise<Outcome<{ key: ApiKey; secret: string }>> {
  const now = deps.now();
  const live = (await deps.apiKeys.listForOwner(input.principal.userId)).filter(
    (k) => k.revokedAt === null && (k.expiresAt === null || k.expiresAt > now),
  );
  if (live.length >= MAX_KEYS_PER_USER) {
    return fail("validation_failed", `At most ${MAX_KEYS_PER_USER} live API keys per user.`);
  }
  const credential = newApiKey();
  const key: ApiKey = {
    id: credential.id,
    ownerId: input.principal.userId,
    name: input.name,
    scopes: [...new Set(input.scopes)],
    secretDigest: await secretDigest(credential.secret),
    createdAt: now,
    expiresAt: input.expiresIn === null ? null : now + input.expiresIn * 1000,
    lastUsedAt: null,
    revokedAt: null,
  };
  await deps.apiKeys.create(key);
  deps.metrics.record({ name: "api_key.create", outcome: "created" });
  return ok({ key, secret: credential.text });
}

/** The caller's keys (never their secrets). */
export function listApiKeys(deps: ApiKeyDeps, principal: Principal): Promise<ApiKey[]> {
  return deps.apiKeys.listForOwner(principal.userId);
}

/** Revokes one of the caller's keys: its next call is refused. */
export async function revokeApiKey(
  deps: ApiKeyDeps,
  input: { principal: Principal; id: string },
): Promise<Outcome<null>> {
  const revoked = await deps.apiKeys.revoke(input.id, input.principal.userId, deps.now());
  if (!revoked) return fail("not_found", "No such API key.");
  deps.metrics.record({ name: "api_key.revoke", outcome: "revoked" });
  return ok(null);
}

/**
 * The principal an API key acts as: its owner, with at most the key's scopes, never an admin;
 * null for anything that is not a live key (unknown, wrong secret, revoked, expired).
 */
export async function authenticateApiKey(
  deps: ApiKeyDeps,
  text: string,
): Promise<Principal | null> {
  const parts = parseApiKey(text);
  if (!parts) return null;
  const key = await deps.apiKeys.get(parts.id);
  // The digest is compared even for an unknown id, so both fail alike.
  const matches = await secretMatches(parts.secret, key?.secretDigest ?? "");
  const now = deps.now();
  if (!key || !matches || key.revokedAt !== null) return null;
  if (key.expiresAt !== null && key.expiresAt <= now) return null;
  deps.background(deps.apiKeys.touch(key.id, now, LAST_USED_GRANULARITY_MS));
  return { userId: key.ownerId, admin: false, scopes: key.scopes, apiKeyId: key.id };
}
