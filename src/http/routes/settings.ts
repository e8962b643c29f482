import { Hono } from "hono";
import { z } from "zod";
import { MAX_ALLOWED_REFERERS, normaliseRefererPattern } from "../../domain/hotlink";
import { getHotlinkSettings, setHotlinkSettings } from "../../use-cases/hotlink-settings";
import type { AppEnv } from "../context";
import { requireJsonBody, requireUser } from "../middleware";
import { validate } from "../validate";

const RefererPattern = z
  .string()
  .max(260)
  .transform((value, ctx) => {
    const pattern = normaliseRefererPattern(value);
    if (pattern === null) {
      ctx.addIssue({
        code: "custom",
        message: "must be a host (example.com), a subdomain wildcard (*.example.org) or *",
      });
      return z.NEVER;
    }
    return pattern;
  });

const HotlinkBody = z.strictObject({
  allowedReferers: z
    .array(RefererPattern)
    .max(MAX_ALLOWED_REFERERS)
    .transform((patterns) => [...new Set(patterns)]),
  allowEmptyReferer: z.boolean().default(true),
  blockedResponse: z.enum(["403", "placeholder"]).default("403"),
});

/** The /v1/settings resource: the caller's own settings. */
export const settingsApp = new Hono<AppEnv>()
  .get("/hotlink", requireUser("settings:read"), async (c) => {
    const rules = await getHotlinkSettings(c.get("services"), c.get("user"));
    return c.json(rules, 200, { "Cache-Control": "private, no-store" });
  })
  .put(
    "/hotlink",
    requireUser("settings:write"),
    requireJsonBody(),
    validate("json", HotlinkBody),
    async (c) => {
      const { deps, settings } = c.get("services");
      const rules = await setHotlinkSettings(
        { ...deps, settings },
        { principal: c.get("user"), rules: c.req.valid("json") },
      );
      return c.json(rules, 200, { "Cache-Control": "private, no-store" });
    },
  );
