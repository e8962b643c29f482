import { eq } from "drizzle-orm";
import { type DrizzleD1Database, drizzle } from "drizzle-orm/d1";
import { DEFAULT_HOTLINK_RULES, type HotlinkRules } from "../domain/hotlink";
import { stringList } from "../domain/json-list";
import { hotlinkSettings } from "./schema";

/** The only code that queries D1 for per-owner settings. */
export class SettingsRepository {
  private readonly db: DrizzleD1Database;

  constructor(d1: D1Database) {
    this.db = drizzle(d1);
  }

  /** An owner's hotlink rules; the defaults when they never set any. */
  async hotlinkRules(ownerId: string): Promise<HotlinkRules> {
    return (await this.customHotlinkRules(ownerId)) ?? DEFAULT_HOTLINK_RULES;
  }

  /** The hotlink rules an owner set, or null when they never set any. */
  async customHotlinkRules(ownerId: string): Promise<HotlinkRules | null> {
    const [row] = await this.db
      .select()
      .from(hotlinkSettings)
      .where(eq(hotlinkSettings.ownerId, ownerId));
    if (!row) return null;
    return {
      allowedReferers: stringList(row.allowedReferers),
      allowEmptyReferer: row.allowEmptyReferer,
      blockedResponse: row.blockedResponse,
    };
  }

  /** Replaces an owner's hotlink rules (already normalised). */
  async setHotlinkRules(ownerId: string, rules: HotlinkRules, now: number): Promise<void> {
    const values = {
      allowedReferers: JSON.stringify(rules.allowedReferers),
      allowEmptyReferer: rules.allowEmptyReferer,
      blockedResponse: rules.blockedResponse,
      updatedAt: now,
    };
    await this.db
      .insert(hotlinkSettings)
      .values({ ownerId, ...values })
      .onConflictDoUpdate({ target: hotlinkSettings.ownerId, set: values });
  }
}
