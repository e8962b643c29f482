import { Hono } from "hono";
import { z } from "zod";
import { getHotlinkSettings, setHotlinkSettings } from "../../use-cases/hotlink-settings";
import type { AppEnv } from "../context";
import { requireJsonBody, requireUser } from "../middleware";
import { RefererPatterns } from "../schemas";
import { validate } from "../validate";

const HotlinkBody = z.strictObject({
  allowedReferers: RefererPatterns,
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
