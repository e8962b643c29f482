/**
 * The gateway's rate limits: each is a Workers rate-limiting binding whose limit and period
 * are configured in wrangler.toml (the platform allows periods of 10 or 60 s); they are
 * repeated here so responses can state them. test/unit/rate-limit.unit.test.ts keeps the two
 * in step.
 */
export const RATE_LIMITS = {
  /** The API, per user token, per API key, or per client IP when anonymous. */
  api: { name: "api", binding: "API_LIMITER", limit: 1200, periodSeconds: 60 },
  /**
   * Delivery (/i, /d, /s) per client IP, counted where a request costs something: each view
   * the edge cache does not answer (D1 and R2 reads), each share page and password form.
   */
  delivery: { name: "delivery", binding: "DELIVERY_LIMITER", limit: 6000, periodSeconds: 60 },
  /** Share password attempts, per share and client. */
  shareUnlockClient: {
    name: "share-unlock-client",
    binding: "SHARE_UNLOCK_CLIENT_LIMITER",
    limit: 5,
    periodSeconds: 60,
  },
  /** Share password attempts, per share from anywhere. */
  shareUnlock: {
    name: "share-unlock",
    binding: "SHARE_UNLOCK_LIMITER",
    limit: 20,
    periodSeconds: 60,
  },
} as const;

/** One of the limits above. */
export type RateLimitPolicy = (typeof RATE_LIMITS)[keyof typeof RATE_LIMITS];

/**
 * The headers of the IETF RateLimit fields draft (structured fields): `RateLimit-Policy` on
 * every limited response, and on a refusal also `RateLimit` with nothing remaining and
 * `Retry-After`. The binding reports only its decision, not what remains, so a response it
 * allowed states the policy alone; a refusal waits out one whole period, the longest the
 * window can still hold.
 */
export function rateLimitHeaders(
  policy: RateLimitPolicy,
  refused: boolean,
): Record<string, string> {
  const headers: Record<string, string> = {
    "RateLimit-Policy": `"${policy.name}";q=${policy.limit};w=${policy.periodSeconds}`,
  };
  if (refused) {
    headers.RateLimit = `"${policy.name}";r=0;t=${policy.periodSeconds}`;
    headers["Retry-After"] = String(policy.periodSeconds);
  }
  return headers;
}

/** The key a request is counted under: its principal, or its client address when anonymous. */
export function rateLimitKey(
  principal: { userId: string; apiKeyId?: string } | null,
  clientIp: string,
): string {
  if (!principal) return `ip:${clientIp}`;
  return principal.apiKeyId ? `key:${principal.apiKeyId}` : `user:${principal.userId}`;
}
