import { Hono } from "hono";
import { utcDay } from "../../domain/policy";
import { effectivePolicy } from "../../use-cases/policies";
import type { AppEnv } from "../context";
import { requireUser } from "../middleware";

const NO_STORE = { "Cache-Control": "private, no-store" };

/** `/v1/me`: the caller's policy in force and what they use of it. */
export const meApp = new Hono<AppEnv>()
  .get("/policy", requireUser("images:read"), async (c) => {
    const policy = await effectivePolicy(c.get("services").policyDeps, c.get("user").userId);
    return c.json(policy, 200, NO_STORE);
  })
  .get("/usage", requireUser("images:read"), async (c) => {
    const { policyDeps } = c.get("services");
    const userId = c.get("user").userId;
    const policy = await effectivePolicy(policyDeps, userId);
    const used = await policyDeps.control.usage(userId);
    const day = utcDay(Date.now());
    const uploadsToday =
      (await policyDeps.control.counts([`upload:${userId}`], day)).get(`upload:${userId}`) ?? 0;
    return c.json(
      {
        images: { used: used.images, limit: policy.maxImages },
        storageBytes: { used: used.storageBytes, limit: policy.maxStorageBytes },
        uploadsToday: { used: uploadsToday, limit: policy.uploadsPerDay, day },
      },
      200,
      NO_STORE,
    );
  });
