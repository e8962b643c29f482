import { and, eq, lt } from "drizzle-orm";
import { type DrizzleD1Database, drizzle } from "drizzle-orm/d1";
import { idempotencyKeys } from "./schema";

/** Where one key stands: free (now reserved for the caller), running, or answered. */
export type Reservation =
  | { kind: "reserved" }
  | { kind: "running"; requestDigest: string }
  | { kind: "answered"; requestDigest: string; status: number; response: string };

/** How long a key is remembered. */
export const IDEMPOTENCY_TTL_MS = 24 * 3600_000;

/** The only code that queries D1 for idempotency keys. */
export class IdempotencyRepository {
  private readonly db: DrizzleD1Database;

  constructor(d1: D1Database) {
    this.db = drizzle(d1);
  }

  /**
   * Reserves `key` for a first request, atomically (the primary key decides between racing
   * requests), or reports what an earlier request with it did. Keys past their lifetime are
   * forgotten first.
   */
  async reserve(
    owner: string,
    route: string,
    key: string,
    requestDigest: string,
    now: number,
  ): Promise<Reservation> {
    await this.db
      .delete(idempotencyKeys)
      .where(lt(idempotencyKeys.createdAt, now - IDEMPOTENCY_TTL_MS));
    const inserted = await this.db
      .insert(idempotencyKeys)
      .values({ ownerId: owner, route, key, requestDigest, createdAt: now })
      .onConflictDoNothing()
      .returning({ key: idempotencyKeys.key });
    if (inserted.length === 1) return { kind: "reserved" };
    const [row] = await this.db
      .select()
      .from(idempotencyKeys)
      .where(this.match(owner, route, key));
    if (!row) return { kind: "running", requestDigest };
    if (row.status === null || row.response === null) {
      return { kind: "running", requestDigest: row.requestDigest };
    }
    return {
      kind: "answered",
      requestDigest: row.requestDigest,
      status: row.status,
      response: row.response,
    };
  }

  /** Records the answer of the request that reserved the key. */
  async answer(owner: string, route: string, key: string, status: number, response: string) {
    await this.db
      .update(idempotencyKeys)
      .set({ status, response })
      .where(this.match(owner, route, key));
  }

  /** Frees a key whose request created nothing (it failed), so a retry runs again. */
  async release(owner: string, route: string, key: string) {
    await this.db.delete(idempotencyKeys).where(this.match(owner, route, key));
  }

  private match(owner: string, route: string, key: string) {
    return and(
      eq(idempotencyKeys.ownerId, owner),
      eq(idempotencyKeys.route, route),
      eq(idempotencyKeys.key, key),
    );
  }
}
