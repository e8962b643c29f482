import type { Principal } from "../domain/access";
import type { HotlinkRules } from "../domain/hotlink";
import type { DeliveryCache } from "../storage/delivery-cache";
import type { SettingsRepository } from "../storage/settings-repository";
import type { Deps } from "./deps";

/**
 * How long this isolate trusts an owner's rules without asking the cache again. A rule
 * change clears the entry here and in the cache at once; other isolates follow within this.
 */
export const RULES_MEMO_MS = 5000;
const RULES_MEMO_MAX = 10_000;

const memo = new Map<string, { rules: HotlinkRules; until: number }>();

/** Drops this isolate's copy of an owner's rules (after a change). */
export function forgetHotlinkRules(ownerId: string): void {
  memo.delete(ownerId);
}

/** Where an owner's rules come from on the view path: memo, then cache, then D1. */
export interface RulesDeps {
  cache: DeliveryCache;
  settings: SettingsRepository;
  now: () => number;
  background: (task: Promise<unknown>) => void;
}

/** An owner's hotlink rules for the view path; D1 is read only when neither cache has them. */
export async function hotlinkRulesFor(deps: RulesDeps, ownerId: string): Promise<HotlinkRules> {
  const now = deps.now();
  const known = memo.get(ownerId);
  if (known && known.until > now) return known.rules;
  let rules = await deps.cache.getRules(ownerId);
  if (!rules) {
    rules = await deps.settings.hotlinkRules(ownerId);
    deps.background(deps.cache.putRules(ownerId, rules));
  }
  if (memo.size >= RULES_MEMO_MAX) memo.clear();
  memo.set(ownerId, { rules, until: now + RULES_MEMO_MS });
  return rules;
}

/** The caller's hotlink rules (the defaults until they set some). */
export function getHotlinkSettings(
  deps: { settings: SettingsRepository },
  principal: Principal,
): Promise<HotlinkRules> {
  return deps.settings.hotlinkRules(principal.userId);
}

/** Replaces the caller's hotlink rules; cached responses follow at once (purge by owner). */
export async function setHotlinkSettings(
  deps: Pick<Deps, "now" | "invalidate" | "metrics"> & { settings: SettingsRepository },
  input: { principal: Principal; rules: HotlinkRules },
): Promise<HotlinkRules> {
  const startedAt = deps.now();
  await deps.settings.setHotlinkRules(input.principal.userId, input.rules, startedAt);
  await deps.invalidate.purge(
    { kind: "hotlink_rules", ownerId: input.principal.userId },
    "hotlink_rules",
    startedAt,
  );
  deps.metrics.record({ name: "settings.hotlink", outcome: "updated" });
  return input.rules;
}
