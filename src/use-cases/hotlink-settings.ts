import type { Principal } from "../domain/access";
import type { HotlinkRules } from "../domain/hotlink";
import type { SettingsRepository } from "../storage/settings-repository";
import type { Deps } from "./deps";

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
