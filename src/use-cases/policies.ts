import type { Principal } from "../domain/access";
import { applyOverrides, DEFAULT_POLICY, type Policy, PolicyOverride } from "../domain/policy";
import { fail, type Outcome, ok } from "../domain/result";
import type { AuditEntry, ControlRepository } from "../storage/control-repository";
import type { Deps } from "./deps";

/** What the policy use cases use. */
export type PolicyDeps = Pick<Deps, "now" | "log"> & { control: ControlRepository };

/**
 * How long an isolate trusts a policy document before reading it again: a change applies at
 * once in the isolate that took it and within this everywhere else.
 */
export const POLICY_MEMO_MS = 5000;
const MEMO_MAX = 10_000;

const memo = new Map<string, { doc: PolicyOverride; until: number }>();

const GLOBAL = "global";
const userScope = (userId: string) => `user:${userId}`;

function parse(deps: PolicyDeps, scope: string, json: string | undefined): PolicyOverride {
  if (json === undefined) return {};
  try {
    const parsed = PolicyOverride.safeParse(JSON.parse(json));
    if (parsed.success) return parsed.data;
  } catch {
    // fall through
  }
  deps.log.error("policy_unreadable", { scope });
  return {};
}

async function documents(deps: PolicyDeps, scopes: string[]): Promise<PolicyOverride[]> {
  const now = deps.now();
  const missing = scopes.filter((s) => !((memo.get(s)?.until ?? 0) > now));
  if (missing.length > 0) {
    const stored = await deps.control.policies(missing);
    if (memo.size >= MEMO_MAX) memo.clear();
    for (const scope of missing) {
      memo.set(scope, {
        doc: parse(deps, scope, stored.get(scope)?.document),
        until: now + POLICY_MEMO_MS,
      });
    }
  }
  return scopes.map((s) => memo.get(s)?.doc ?? {});
}

/** The policy in force for a user: the defaults, the global document, their overrides. */
export async function effectivePolicy(deps: PolicyDeps, userId: string): Promise<Policy> {
  const [global = {}, user = {}] = await documents(deps, [GLOBAL, userScope(userId)]);
  return applyOverrides(DEFAULT_POLICY, global, user);
}

/** The control-plane part of `Deps`: the store and a policy reader over it. */
export function controlPlane(
  control: ControlRepository,
  log: PolicyDeps["log"],
  now: () => number = Date.now,
): Pick<Deps, "control" | "policy"> {
  return { control, policy: (userId) => effectivePolicy({ control, log, now }, userId) };
}

/** The global document (what it sets over the defaults) and the policy it makes. */
export async function globalPolicy(deps: PolicyDeps) {
  const [global = {}] = await documents(deps, [GLOBAL]);
  return { document: global, effective: applyOverrides(DEFAULT_POLICY, global) };
}

/** A user's override document (what it changes), or {} when there is none. */
export async function userOverride(deps: PolicyDeps, userId: string): Promise<PolicyOverride> {
  const [doc = {}] = await documents(deps, [userScope(userId)]);
  return doc;
}

async function audited(
  deps: PolicyDeps,
  actor: Principal,
  action: string,
  target: string,
  detail: unknown,
): Promise<void> {
  await deps.control.audit({
    at: deps.now(),
    actor: actor.userId,
    action,
    target,
    detail: JSON.stringify(detail),
  });
}

/** Replaces the global document (admins); audited; applies here at once. */
export async function setGlobalPolicy(
  deps: PolicyDeps,
  input: { principal: Principal; document: PolicyOverride },
): Promise<Outcome<{ version: number }>> {
  if (!input.principal.admin) return fail("forbidden");
  const version = await deps.control.putPolicy(
    GLOBAL,
    JSON.stringify(input.document),
    input.principal.userId,
    deps.now(),
  );
  memo.delete(GLOBAL);
  await audited(deps, input.principal, "policy.global.put", GLOBAL, {
    version,
    document: input.document,
  });
  return ok({ version });
}

/** Replaces a user's override document (admins); audited. */
export async function setUserPolicy(
  deps: PolicyDeps,
  input: { principal: Principal; userId: string; document: PolicyOverride },
): Promise<Outcome<{ version: number }>> {
  if (!input.principal.admin) return fail("forbidden");
  const scope = userScope(input.userId);
  const version = await deps.control.putPolicy(
    scope,
    JSON.stringify(input.document),
    input.principal.userId,
    deps.now(),
  );
  memo.delete(scope);
  await audited(deps, input.principal, "policy.user.put", input.userId, {
    version,
    document: input.document,
  });
  return ok({ version });
}

/** Removes a user's overrides (admins): the global policy applies to them again. */
export async function deleteUserPolicy(
  deps: PolicyDeps,
  input: { principal: Principal; userId: string },
): Promise<Outcome<null>> {
  if (!input.principal.admin) return fail("forbidden");
  const scope = userScope(input.userId);
  if (!(await deps.control.deletePolicy(scope)))
    return fail("not_found", "No overrides for this user.");
  memo.delete(scope);
  await audited(deps, input.principal, "policy.user.delete", input.userId, {});
  return ok(null);
}

/** The audit log (admins). */
export async function auditLog(
  deps: PolicyDeps,
  input: { principal: Principal; limit: number; cursor: string | null },
): Promise<Outcome<{ items: AuditEntry[]; nextCursor: string | null }>> {
  if (!input.principal.admin) return fail("forbidden");
  return ok(await deps.control.auditPage(input.limit, input.cursor));
}

export { audited as recordAdminAction };
