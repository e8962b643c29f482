import { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import { z } from "zod";
import { ApiError } from "../../domain/errors";
import { PolicyOverride } from "../../domain/policy";
import { isValidAuditCursor } from "../../storage/control-repository";
import {
  auditLog,
  deleteUserPolicy,
  effectivePolicy,
  globalPolicy,
  setGlobalPolicy,
  setUserPolicy,
  userOverride,
} from "../../use-cases/policies";
import { setSuspension } from "../../use-cases/suspensions";
import type { AppEnv, UserEnv } from "../context";
import { requireJsonBody, requireUserToken } from "../middleware";
import { orThrow } from "../outcome";
import { decimalInteger, validate } from "../validate";

/** Admin routes: a user token with `admin: true` (API keys never are); others get 403. */
export function requireAdmin() {
  return createMiddleware<AppEnv & UserEnv>(async (c, next) => {
    if (!c.get("user").admin) throw new ApiError("forbidden");
    return next();
  });
}

const UserId = z.string().min(1).max(128);
const AuditQuery = z.strictObject({
  cursor: z.string().max(100).refine(isValidAuditCursor, "is not a valid cursor").optional(),
  limit: decimalInteger(1, 100).default(50),
});

const NO_STORE = { "Cache-Control": "private, no-store" };

const SuspendBody = z.strictObject({ reason: z.string().trim().min(1).max(500).optional() });

function userIdParam(raw: string | undefined): string {
  const parsed = UserId.safeParse(raw);
  if (!parsed.success) throw new ApiError("not_found", "No such user.");
  return parsed.data;
}

/** `/v1/admin`: policies, suspensions and the audit log (moderation.ts adds review). */
export const adminApp = new Hono<AppEnv>()
  .use(requireUserToken(), requireAdmin())
  .get("/policies", async (c) => {
    const { document, effective } = await globalPolicy(c.get("services").policyDeps);
    return c.json({ document, effective }, 200, NO_STORE);
  })
  .put("/policies", requireJsonBody(), validate("json", PolicyOverride), async (c) => {
    const deps = c.get("services").policyDeps;
    const { version } = orThrow(
      await setGlobalPolicy(deps, { principal: c.get("user"), document: c.req.valid("json") }),
    );
    const { document, effective } = await globalPolicy(deps);
    return c.json({ version, document, effective }, 200, NO_STORE);
  })
  .get("/policies/users/:userId", async (c) => {
    const deps = c.get("services").policyDeps;
    const userId = userIdParam(c.req.param("userId"));
    return c.json(
      {
        userId,
        document: await userOverride(deps, userId),
        effective: await effectivePolicy(deps, userId),
      },
      200,
      NO_STORE,
    );
  })
  .put(
    "/policies/users/:userId",
    requireJsonBody(),
    validate("json", PolicyOverride),
    async (c) => {
      const deps = c.get("services").policyDeps;
      const userId = userIdParam(c.req.param("userId"));
      const { version } = orThrow(
        await setUserPolicy(deps, {
          principal: c.get("user"),
          userId,
          document: c.req.valid("json"),
        }),
      );
      return c.json(
        {
          userId,
          version,
          document: await userOverride(deps, userId),
          effective: await effectivePolicy(deps, userId),
        },
        200,
        NO_STORE,
      );
    },
  )
  .delete("/policies/users/:userId", async (c) => {
    orThrow(
      await deleteUserPolicy(c.get("services").policyDeps, {
        principal: c.get("user"),
        userId: userIdParam(c.req.param("userId")),
      }),
    );
    return c.body(null, 204);
  })
  .post("/users/:op{[^/]+:(?:suspend|unsuspend)}", requireJsonBody(), async (c) => {
    const raw = c.req.param("op");
    const suspended = raw.endsWith(":suspend");
    const userId = userIdParam(raw.slice(0, raw.lastIndexOf(":")));
    let reason: string | null = null;
    if (c.req.raw.body && c.req.header("Content-Length") !== "0") {
      const body = SuspendBody.safeParse(await c.req.json().catch(() => null));
      if (!body.success)
        throw new ApiError("validation_failed", 'Send {"reason": "..."} or no body.');
      reason = body.data.reason ?? null;
    }
    const { deps } = c.get("services");
    const result = orThrow(
      await setSuspension(deps, { principal: c.get("user"), userId, suspended, reason }),
    );
    return c.json(result, 200, NO_STORE);
  })
  .get("/audit", validate("query", AuditQuery), async (c) => {
    const { cursor, limit } = c.req.valid("query");
    const page = orThrow(
      await auditLog(c.get("services").policyDeps, {
        principal: c.get("user"),
        limit,
        cursor: cursor ?? null,
      }),
    );
    return c.json(
      {
        items: page.items.map((e) => ({
          id: e.id,
          at: new Date(e.at).toISOString(),
          actor: e.actor,
          action: e.action,
          target: e.target,
          detail: JSON.parse(e.detail) as unknown,
        })),
        nextCursor: page.nextCursor,
      },
      200,
      NO_STORE,
    );
  });
