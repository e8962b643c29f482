import { and, desc, eq, isNull, lt, or } from "drizzle-orm";
import { type DrizzleD1Database, drizzle } from "drizzle-orm/d1";
import { SCOPES, type Scope } from "../domain/access";
import { stringList } from "../domain/json-list";
import { type ApiKeyRow, apiKeys } from "./schema";

/** An API key as the rest of the code sees it (scopes parsed). */
export type ApiKey = Omit<ApiKeyRow, "scopes"> & { scopes: Scope[] };

function toKey(row: ApiKeyRow): ApiKey {
  const scopes = stringList(row.scopes).filter((s): s is Scope =>
    (SCOPES as readonly string[]).includes(s),
  );
  return { ...row, scopes };
}

/** The only code that queries D1 for API keys. */
export class ApiKeyRepository {
  private readonly db: DrizzleD1Database;

  constructor(d1: D1Database) {
    this.db = drizzle(d1);
  }

  /** Stores a new key (its secret only as a digest). */
  async create(key: ApiKey): Promise<void> {
    await this.db.insert(apiKeys).values({ ...key, scopes: JSON.stringify(key.scopes) });
  }

  /** One key by id, revoked or not; null when there is none. */
  async get(id: string): Promise<ApiKey | null> {
    const [row] = await this.db.select().from(apiKeys).where(eq(apiKeys.id, id));
    return row ? toKey(row) : null;
  }

  /** An owner's keys, newest first (revoked ones included, for the record). */
  async listForOwner(ownerId: string): Promise<ApiKey[]> {
    const rows = await this.db
      .select()
      .from(apiKeys)
      .where(eq(apiKeys.ownerId, ownerId))
      .orderBy(desc(apiKeys.createdAt), desc(apiKeys.id))
      .limit(200);
    return rows.map(toKey);
  }

  /** Revokes one of an owner's keys; false when it is not theirs or already revoked. */
  async revoke(id: string, ownerId: string, now: number): Promise<boolean> {
    const rows = await this.db
      .update(apiKeys)
      .set({ revokedAt: now })
      .where(and(eq(apiKeys.id, id), eq(apiKeys.ownerId, ownerId), isNull(apiKeys.revokedAt)))
      .returning({ id: apiKeys.id });
    return rows.length === 1;
  }

  /** Records a use, at most once per `granularityMs` per key (one write, not one per call). */
  async touch(id: string, now: number, granularityMs: number): Promise<void> {
    await this.db
      .update(apiKeys)
      .set({ lastUsedAt: now })
      .where(
        and(
          eq(apiKeys.id, id),
          or(isNull(apiKeys.lastUsedAt), lt(apiKeys.lastUsedAt, now - granularityMs)),
        ),
      );
  }
}
