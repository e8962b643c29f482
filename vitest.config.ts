import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// Test-only secrets; local dev gets random ones in .dev.vars from `npm start`.
const TEST_SECRETS = {
  JWT_SECRET: "test-jwt-secret-0123456789abcdef0123456789",
  URL_SIGNING_KEYS: "k1:test-signing-secret-one,k0:test-signing-secret-old",
};

export default defineConfig(async () => {
  const migrations = await readD1Migrations(path.join(import.meta.dirname, "migrations"));
  const bindings = { ...TEST_SECRETS, TEST_MIGRATIONS: migrations };
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
              miniflare: { bindings },
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
              miniflare: { bindings },
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
