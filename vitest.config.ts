import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { Response as MiniflareResponse } from "miniflare";
import { defineConfig } from "vitest/config";
import { CLASSIFIER_STAND_IN, classifierStandIn } from "./test/stand-ins/classifier";
import { cloudflareApiStandIn } from "./test/stand-ins/cloudflare-api";

// Test-only secrets; local dev gets random ones in .dev.vars from `npm start`.
const TEST_SECRETS = {
  JWT_SECRET: "test-jwt-secret-0123456789abcdef0123456789",
  URL_SIGNING_KEYS: "k1:test-signing-secret-one,k0:test-signing-secret-old",
};

/** The edge tests purge a zone through a local stand-in of Cloudflare's API. */
const ZONE = { CF_ZONE_ID: "test-zone", CF_API_TOKEN: "test-api-token" };
const CF_API_BASE_URL = "https://cloudflare-api.stand-in/client/v4";

/**
 * The suite sends thousands of requests from one "client" in a minute: the gateway's limits
 * are lifted for it, and the rate-limit tests swap in the tight ones below (real limiters).
 */
const RATE_LIMITS = {
  API_LIMITER: { namespace_id: "1103", simple: { limit: 1_000_000, period: 60 as const } },
  DELIVERY_LIMITER: { namespace_id: "1104", simple: { limit: 1_000_000, period: 60 as const } },
  TEST_TIGHT_LIMITER: { namespace_id: "9001", simple: { limit: 3, period: 60 as const } },
};

/** The processor's HTTP classifier points at a local stand-in speaking the same protocol. */
const CLASSIFIER = {
  MODERATION_CLASSIFIER_URL: `${CLASSIFIER_STAND_IN}/v1/classify`,
  MODERATION_CLASSIFIER_TOKEN: "test-classifier-token",
};

export default defineConfig(async () => {
  const migrations = await readD1Migrations(path.join(import.meta.dirname, "migrations"));
  const bindings = { ...TEST_SECRETS, TEST_MIGRATIONS: migrations };
  const cloudflareApi = cloudflareApiStandIn(ZONE.CF_ZONE_ID, ZONE.CF_API_TOKEN);
  const classifier = classifierStandIn(CLASSIFIER.MODERATION_CLASSIFIER_TOKEN);
  return {
    test: {
      projects: [
        {
          test: {
            name: "unit",
            include: ["test/unit/**/*.test.ts"],
            environment: "node",
          },
        },
        {
          plugins: [
            cloudflareTest({
              main: "./workers/edge.ts",
              wrangler: { configPath: "./wrangler.toml" },
              miniflare: {
                bindings: { ...bindings, ...ZONE, CF_API_BASE_URL, CACHE_REFILL_GUARD_MS: "0" },
                ratelimits: RATE_LIMITS,
                // Every outbound fetch of the edge: only the purge client makes any.
                outboundService: async (request) => {
                  const res = await cloudflareApi.fetch(request);
                  return new MiniflareResponse(res.body, {
                    status: res.status,
                    headers: res.headers,
                  });
                },
              },
            }),
          ],
          test: {
            name: "edge",
            include: ["test/edge/**/*.test.ts"],
            setupFiles: ["./test/apply-migrations.ts"],
          },
        },
        {
          plugins: [
            cloudflareTest({
              main: "./workers/processor.ts",
              wrangler: { configPath: "./workers/processor.wrangler.toml" },
              miniflare: {
                // Classification is off unless a test turns it on with its own bindings.
                bindings: { ...bindings, ...CLASSIFIER, MODERATION_CLASSIFIER: "off" },
                // Every outbound fetch of the processor: only the HTTP classifier makes any.
                outboundService: async (request) => {
                  const res = await classifier.fetch(request);
                  return new MiniflareResponse(await res.text(), {
                    status: res.status,
                    headers: Object.fromEntries(res.headers.entries()),
                  });
                },
                serviceBindings: {
                  EDGE: { name: "edge-stand-in", entrypoint: "CacheInvalidation" },
                },
                workers: [
                  {
                    name: "edge-stand-in",
                    modules: true,
                    scriptPath: "./test/stand-ins/edge-cache-invalidation.js",
                    compatibilityDate: "2026-11-01",
                  },
                ],
              },
            }),
          ],
          test: {
            name: "processor",
            include: ["test/processor/**/*.test.ts"],
            setupFiles: ["./test/apply-migrations.ts"],
            testTimeout: 60_000,
          },
        },
        {
          test: {
            name: "e2e",
            include: ["test/e2e/**/*.test.ts"],
            environment: "node",
            testTimeout: 120_000,
            hookTimeout: 120_000,
          },
        },
      ],
    },
  };
});
