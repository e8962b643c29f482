import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { ApiError } from "../domain/errors";
import { type RateLimitPolicy, rateLimitHeaders, rateLimitKey } from "../domain/rate-limit";
import { bindingRateLimiter } from "../storage/rate-limiter";
import type { AppEnv } from "./context";

/** The client's address as Cloudflare reports it (locally: Miniflare, or whatever a test sets). */
export function clientIp(c: Context<AppEnv>): string {
  return c.req.header("CF-Connecting-IP") ?? "unknown";
}

/** The 429 for a refused request under `policy`, counted in the metrics. */
export function rateLimitRefusal(c: Context<AppEnv>, policy: RateLimitPolicy): ApiError {
  c.get("services").deps.metrics.record({ name: `ratelimit.${policy.name}`, outcome: "refused" });
  return new ApiError(
    "rate_limited",
    `Too many requests (${policy.limit} per ${policy.periodSeconds} s for '${policy.name}'); try again later.`,
    undefined,
    rateLimitHeaders(policy, true),
  );
}

/**
 * Counts the request against `policy` under its principal (after `authenticate`) or its
 * client address, and refuses it with 429 `rate_limited` once the window is full. Allowed
 * API responses state the policy; delivery responses stay as cached, without it.
 */
export function rateLimit(policy: RateLimitPolicy, opts: { stateOnSuccess: boolean }) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const principal = c.get("principal") ?? null;
    const key = rateLimitKey(principal, clientIp(c));
    const limiter = bindingRateLimiter(c.env[policy.binding], policy.periodSeconds);
    if (!(await limiter.limit(key))) throw rateLimitRefusal(c, policy);
    await next();
    if (opts.stateOnSuccess) {
      // A response passed through from elsewhere (the upload session) has immutable headers.
      const res = new Response(c.res.body, c.res);
      for (const [name, value] of Object.entries(rateLimitHeaders(policy, false))) {
        res.headers.set(name, value);
      }
      c.res = res;
    }
  });
}
