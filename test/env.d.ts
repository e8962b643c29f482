import type { D1Migration } from "cloudflare:test";

declare global {
  namespace Cloudflare {
    interface Env {
      TEST_MIGRATIONS: D1Migration[];
      /** A real limiter of 3 a minute, for the rate-limit tests (vitest.config.ts). */
      TEST_TIGHT_LIMITER: RateLimit;
    }
  }
}
