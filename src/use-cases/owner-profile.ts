import type { ControlRepository } from "../storage/control-repository";
import type { DeliveryCache, OwnerProfile } from "../storage/delivery-cache";
import type { SettingsRepository } from "../storage/settings-repository";

/**
 * How long this isolate trusts an owner's profile without asking the cache again. A change
 * (hotlink rules, suspension) clears it here and in the cache at once; other isolates follow
 * within this.
 */
export const PROFILE_MEMO_MS = 5000;
const MEMO_MAX = 10_000;

const memo = new Map<string, { profile: OwnerProfile; until: number }>();

/** Drops this isolate's copy of an owner's profile (after a change). */
export function forgetOwnerProfile(ownerId: string): void {
  memo.delete(ownerId);
}

/** Where an owner's profile comes from on the view path: memo, then cache, then D1. */
export interface ProfileDeps {
  cache: DeliveryCache;
  settings: SettingsRepository;
  control: ControlRepository;
  now: () => number;
  background: (task: Promise<unknown>) => void;
}

/** An owner's profile for the view path; D1 is read only when neither cache has it. */
export async function ownerProfileFor(deps: ProfileDeps, ownerId: string): Promise<OwnerProfile> {
  const now = deps.now();
  const known = memo.get(ownerId);
  if (known && known.until > now) return known.profile;
  let profile = await deps.cache.getOwnerProfile(ownerId);
  if (!profile) {
    const [rules, suspended] = await Promise.all([
      deps.settings.customHotlinkRules(ownerId),
      deps.control.isSuspended(ownerId),
    ]);
    profile = { rules, suspended };
    deps.background(deps.cache.putOwnerProfile(ownerId, profile));
  }
  if (memo.size >= MEMO_MAX) memo.clear();
  memo.set(ownerId, { profile, until: now + PROFILE_MEMO_MS });
  return profile;
}
