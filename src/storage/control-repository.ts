import { and, desc, eq, inArray, isNull, lt, ne, sql } from "drizzle-orm";
import { type DrizzleD1Database, drizzle } from "drizzle-orm/d1";
import { decodeCursor, encodeCursor } from "./cursor";
import { accounts, auditLog, dailyCounters, images, policies } from "./schema";

/** One stored policy document. */
export interface StoredPolicy {
  document: string;
  version: number;
  updatedAt: number;
  updatedBy: string;
}

/** One audit entry. */
export interface AuditEntry {
  id: number;
  at: number;
  actor: string;
  action: string;
  target: string;
  detail: string;
}

/** Whether an audit cursor is well formed. */
export function isValidAuditCursor(cursor: string): boolean {
  return decodeCursor(cursor, "n") !== null;
}

/**
 * The only code that queries D1 for the control plane: policies, accounts (first seen,
 * suspension), daily counters and the audit log.
 */
export class ControlRepository {
  private readonly db: DrizzleD1Database;

  constructor(d1: D1Database) {
    this.db = drizzle(d1);
  }

  /** The stored documents of these scopes ("global", "user:{id}"). */
  async policies(scopes: readonly string[]): Promise<Map<string, StoredPolicy>> {
    const rows = await this.db
      .select()
      .from(policies)
      .where(inArray(policies.scope, [...scopes]));
    return new Map(rows.map((r) => [r.scope, r]));
  }

  /** Replaces a scope's document; returns its new version. */
  async putPolicy(scope: string, document: string, by: string, now: number): Promise<number> {
    const [row] = await this.db
      .insert(policies)
      .values({ scope, document, version: 1, updatedAt: now, updatedBy: by })
      .onConflictDoUpdate({
        target: policies.scope,
        set: { document, version: sql`${policies.version} + 1`, updatedAt: now, updatedBy: by },
      })
      .returning({ version: policies.version });
    return row?.version ?? 1;
  }

  /** Removes a scope's document; false when there was none. */
  async deletePolicy(scope: string): Promise<boolean> {
    const rows = await this.db
      .delete(policies)
      .where(eq(policies.scope, scope))
      .returning({ scope: policies.scope });
    return rows.length === 1;
  }

  /** Records that a user exists (the first time only) and returns the account. */
  async account(userId: string, now: number): Promise<typeof accounts.$inferSelect> {
    await this.db.insert(accounts).values({ userId, createdAt: now }).onConflictDoNothing();
    const [row] = await this.db.select().from(accounts).where(eq(accounts.userId, userId));
    return row ?? { userId, createdAt: now, suspendedAt: null, suspendedReason: null };
  }

  /** Whether a user is suspended (no row: never seen, not suspended). */
  async isSuspended(userId: string): Promise<boolean> {
    const [row] = await this.db
      .select({ at: accounts.suspendedAt })
      .from(accounts)
      .where(eq(accounts.userId, userId));
    return row?.at !== null && row?.at !== undefined;
  }

  /** Suspends or restores a user; false when nothing changed. */
  async setSuspended(userId: string, reason: string | null, now: number): Promise<boolean> {
    await this.db.insert(accounts).values({ userId, createdAt: now }).onConflictDoNothing();
    const rows = await this.db
      .update(accounts)
      .set({ suspendedAt: reason === null ? null : now, suspendedReason: reason })
      .where(
        and(
          eq(accounts.userId, userId),
          reason === null ? sql`${accounts.suspendedAt} is not null` : isNull(accounts.suspendedAt),
        ),
      )
      .returning({ id: accounts.userId });
    return rows.length === 1;
  }

  /**
   * Counts one more for `key` on `day` unless it already reached `limit` (null: no limit);
   * atomic, so N racing requests against a limit of k get exactly k successes.
   */
  async countIfBelow(key: string, day: string, limit: number | null): Promise<boolean> {
    if (limit !== null && limit <= 0) return false;
    const rows = await this.db
      .insert(dailyCounters)
      .values({ key, day, count: 1 })
      .onConflictDoUpdate({
        target: [dailyCounters.key, dailyCounters.day],
        set: { count: sql`${dailyCounters.count} + 1` },
        ...(limit === null ? {} : { setWhere: lt(dailyCounters.count, limit) }),
      })
      .returning({ count: dailyCounters.count });
    return rows.length === 1;
  }

  /** Adds `n` to counters (flushes of counts gathered in an isolate). */
  async add(entries: readonly { key: string; day: string; n: number }[]): Promise<void> {
    const [first, ...rest] = entries.map(({ key, day, n }) =>
      this.db
        .insert(dailyCounters)
        .values({ key, day, count: n })
        .onConflictDoUpdate({
          target: [dailyCounters.key, dailyCounters.day],
          set: { count: sql`${dailyCounters.count} + ${n}` },
        }),
    );
    if (first) await this.db.batch([first, ...rest]);
  }

  /** The counts of these keys on `day`. */
  async counts(keys: readonly string[], day: string): Promise<Map<string, number>> {
    if (keys.length === 0) return new Map();
    const rows = await this.db
      .select({ key: dailyCounters.key, count: dailyCounters.count })
      .from(dailyCounters)
      .where(and(inArray(dailyCounters.key, [...keys]), eq(dailyCounters.day, day)));
    return new Map(rows.map((r) => [r.key, r.count]));
  }

  /** What an owner uses: live images, and bytes of their stored originals. */
  async usage(ownerId: string): Promise<{ images: number; storageBytes: number }> {
    const [row] = await this.db
      .select({
        images: sql<number>`count(*)`,
        storageBytes: sql<number>`coalesce(sum(${images.bytes}), 0)`,
      })
      .from(images)
      .where(and(eq(images.ownerId, ownerId), ne(images.status, "deleted")));
    return { images: row?.images ?? 0, storageBytes: row?.storageBytes ?? 0 };
  }

  /** Records one admin action. */
  async audit(entry: Omit<AuditEntry, "id">): Promise<void> {
    await this.db.insert(auditLog).values(entry);
  }

  /** The audit log, newest first. */
  async auditPage(
    limit: number,
    cursor: string | null,
  ): Promise<{ items: AuditEntry[]; nextCursor: string | null }> {
    const before = cursor ? decodeCursor<[number]>(cursor, "n") : null;
    const rows = await this.db
      .select()
      .from(auditLog)
      .where(before ? lt(auditLog.id, before[0]) : undefined)
      .orderBy(desc(auditLog.id))
      .limit(limit + 1);
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > limit && last ? encodeCursor([last.id]) : null };
  }
}
