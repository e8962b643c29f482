import type { RateLimiter } from "../use-cases/shares";

/**
 * A rate limiter over the Workers rate-limiting binding. The binding reports only the
 * decision; `periodSeconds` must match the binding's configured period (wrangler.toml).
 */
export function bindingRateLimiter(binding: RateLimit, periodSeconds: number): RateLimiter {
  return {
    periodSeconds,
    async limit(key) {
      return (await binding.limit({ key })).success;
    },
  };
}
