import { and, asc, desc, eq, gt, inArray, ne, or, sql } from "drizzle-orm";
import { type DrizzleD1Database, drizzle } from "drizzle-orm/d1";
import type { ModerationSource, ModerationState } from "../domain/moderation";
import { decodeCursor, encodeCursor } from "./cursor";
import { type ImageRow, images, metrics, moderationEvents, moderationReports } from "./schema";

/** One change of state, as written to the history. */
export interface ModerationChange {
  imageId: string;
  from: ModerationState;
  to: ModerationState;
  source: ModerationSource;
  actor: string;
  reason: string;
  at: number;
  /** Only if no admin ever decided this image (the classifier's moves): checked in the same statement. */
  unlessAdminDecided?: boolean;
}

export type ModerationEventRow = typeof moderationEvents.$inferSelect;
export type ReportRow = typeof moderationReports.$inferSelect;

/** Whether a review-queue cursor is well formed. */
export function isValidQueueCursor(cursor: string): boolean {
  return decodeCursor(cursor, "ns") !== null;
}

/** The only code that queries D1 for moderation: states, their history, reports. */
export class ModerationRepository {
  private readonly db: DrizzleD1Database;

  constructor(d1: D1Database) {
    this.db = drizzle(d1);
  }

  /**
   * Moves a live image from `change.from` to `change.to` and writes the history row, only if
   * it is still in `from` (a concurrent decision wins once). False when it was not.
   */
  async transition(change: ModerationChange): Promise<boolean> {
    const moved = await this.db
      .update(images)
      .set({
        moderation: change.to,
        moderationReason: change.reason,
        moderationUpdatedAt: change.at,
      })
      .where(
        and(
          eq(images.id, change.imageId),
          eq(images.moderation, change.from),
          ne(images.status, "deleted"),
          change.unlessAdminDecided
            ? sql`not exists (select 1 from ${moderationEvents} e where e.image_id = ${images.id} and e.source = 'admin')`
            : undefined,
        ),
      )
      .returning({ id: images.id });
    if (moved.length === 0) return false;
    await this.record(change);
    return true;
  }

  /** Writes one history row (also for events that keep the state, like an appeal). */
  async record(change: Omit<ModerationChange, "unlessAdminDecided">): Promise<void> {
    await this.db.insert(moderationEvents).values({
      imageId: change.imageId,
      at: change.at,
      source: change.source,
      actor: change.actor,
      fromState: change.from,
      toState: change.to,
      reason: change.reason,
    });
  }

  /** The durations (ms) of a moderation metric since `since`, ascending (at most 10,000). */
  async durations(name: string, since: number): Promise<number[]> {
    const rows = await this.db
      .select({ ms: metrics.ms })
      .from(metrics)
      .where(and(eq(metrics.name, name), gt(metrics.at, since), sql`${metrics.ms} is not null`))
      .orderBy(asc(metrics.ms))
      .limit(10_000);
    return rows.flatMap((r) => (r.ms === null ? [] : [r.ms]));
  }

  /** How many times a metric was recorded since `since`, per outcome. */
  async counts(name: string, since: number): Promise<Map<string, number>> {
    const rows = await this.db
      .select({ outcome: metrics.outcome, n: sql<number>`count(*)` })
      .from(metrics)
      .where(and(eq(metrics.name, name), gt(metrics.at, since)))
      .groupBy(metrics.outcome);
    return new Map(rows.map((r) => [r.outcome, r.n]));
  }

  /** Stores the classifier's scores of an image (JSON). */
  async saveScores(imageId: string, scores: string): Promise<void> {
    await this.db.update(images).set({ moderationScores: scores }).where(eq(images.id, imageId));
  }

  /** An image's history, oldest first. */
  async history(imageId: string): Promise<ModerationEventRow[]> {
    return this.db
      .select()
      .from(moderationEvents)
      .where(eq(moderationEvents.imageId, imageId))
      .orderBy(asc(moderationEvents.id));
  }

  /** The newest history row by `source`, if any. */
  async lastBy(imageId: string, source: ModerationSource): Promise<ModerationEventRow | null> {
    const [row] = await this.db
      .select()
      .from(moderationEvents)
      .where(and(eq(moderationEvents.imageId, imageId), eq(moderationEvents.source, source)))
      .orderBy(desc(moderationEvents.id))
      .limit(1);
    return row ?? null;
  }

  /**
   * Adds one user's report; a second one by the same user changes nothing, unless their
   * earlier report was closed by a decision (before `since`): then it counts again. Returns
   * whether it counted and how many distinct users reported since `since`.
   */
  async report(
    row: ReportRow,
    since: number,
  ): Promise<{ added: boolean; reporters: number; firstAt: number | null }> {
    const added = await this.db
      .insert(moderationReports)
      .values(row)
      .onConflictDoUpdate({
        target: [moderationReports.imageId, moderationReports.reporterId],
        set: { reason: row.reason, note: row.note, at: row.at },
        setWhere: sql`${moderationReports.at} <= ${since}`,
      })
      .returning({ at: moderationReports.at });
    const open = await this.openReports(row.imageId, since);
    return { added: added.length > 0, reporters: open.count, firstAt: open.firstAt };
  }

  /** Reports made after `since` (the last decision): how many, and the first one's time. */
  async openReports(
    imageId: string,
    since: number,
  ): Promise<{ count: number; firstAt: number | null }> {
    const [row] = await this.db
      .select({
        count: sql<number>`count(*)`,
        firstAt: sql<number | null>`min(${moderationReports.at})`,
      })
      .from(moderationReports)
      .where(and(eq(moderationReports.imageId, imageId), gt(moderationReports.at, since)));
    return { count: row?.count ?? 0, firstAt: row?.firstAt ?? null };
  }

  /** The reports of these images, newest first. */
  async reportsOf(imageIds: readonly string[]): Promise<ReportRow[]> {
    if (imageIds.length === 0) return [];
    return this.db
      .select()
      .from(moderationReports)
      .where(inArray(moderationReports.imageId, [...imageIds]))
      .orderBy(desc(moderationReports.at));
  }

  /** Records the owner's one appeal; false when there already was one or nothing to appeal. */
  async appeal(imageId: string, note: string | null, at: number): Promise<boolean> {
    const done = await this.db
      .update(images)
      .set({ appealedAt: at, appealNote: note })
      .where(
        and(
          eq(images.id, imageId),
          sql`${images.appealedAt} is null`,
          ne(images.moderation, "allowed"),
          ne(images.status, "deleted"),
        ),
      )
      .returning({ id: images.id });
    return done.length > 0;
  }

  /**
   * The review queue, oldest first: images waiting for review, and blocked ones whose owner
   * appealed after the last decision.
   */
  async queue(
    limit: number,
    cursor: string | null,
  ): Promise<{ items: ImageRow[]; nextCursor: string | null }> {
    const after = cursor ? decodeCursor<[number, string]>(cursor, "ns") : null;
    const waiting = or(
      eq(images.moderation, "pending_review"),
      and(
        eq(images.moderation, "blocked"),
        sql`${images.appealedAt} > coalesce(${images.moderationUpdatedAt}, 0)`,
      ),
    );
    const key = sql`coalesce(${images.moderationUpdatedAt}, ${images.createdAt})`;
    const rows = await this.db
      .select()
      .from(images)
      .where(
        and(
          ne(images.status, "deleted"),
          // Nothing to look at before a revision is ready.
          sql`${images.servedRevision} is not null`,
          waiting,
          after ? sql`(${key}, ${images.id}) > (${after[0]}, ${after[1]})` : undefined,
        ),
      )
      .orderBy(asc(key), asc(images.id))
      .limit(limit + 1);
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return {
      items,
      nextCursor:
        rows.length > limit && last
          ? encodeCursor([last.moderationUpdatedAt ?? last.createdAt, last.id])
          : null,
    };
  }
}
