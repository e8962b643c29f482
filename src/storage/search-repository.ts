import { eq, sql } from "drizzle-orm";
import { type DrizzleD1Database, drizzle } from "drizzle-orm/d1";
import { albumKey, ownerKey, queryWords } from "../domain/search-query";
import { decodeCursor, encodeCursor } from "./cursor";
import { type ImageRow, images, searchDocs } from "./schema";

/** The text of one image's search document. */
export interface SearchText {
  title: string;
  description: string;
  tags: string;
  albums: string;
  /** Owner and album tokens (domain/search-query.ts). */
  keys: string;
}

/** Whose images a search may return. */
export type SearchScope =
  /** The caller's own images (any visibility) and everyone's public ones. */
  | { kind: "mine_and_public"; userId: string }
  /** Public images only (no account needed). */
  | { kind: "public" };

/** A search: the MATCH expression (null: no words), filters, scope, page. */
export interface SearchRequest {
  match: string | null;
  scope: SearchScope;
  tag?: string | undefined;
  albumId?: string | undefined;
  ownerId?: string | undefined;
  limit: number;
  cursor: string | null;
}

/** A page of results, best first (or newest first without words). */
export interface SearchPage {
  items: ImageRow[];
  nextCursor: string | null;
}

/** How many of a query's newest matches are ranked (see `search`). */
export const CANDIDATES = 2000;

// Column weights for bm25: a word in the title counts most, then tags, description, albums.
const RANK = sql.raw("bm25(search_fts, 10.0, 3.0, 5.0, 2.0, 0.0)");

/** Served publicly: public, not blocked, with a revision to show, its owner not suspended. */
const PUBLIC = sql`(i.visibility = 'public' and i.moderation = 'allowed' and i.served_revision is not null
  and not exists (select 1 from accounts ac where ac.user_id = i.owner_id and ac.suspended_at is not null))`;

/** Whether a search cursor is well formed (rank cursors and date cursors). */
export function isValidSearchCursor(cursor: string): boolean {
  return decodeCursor(cursor, "nn") !== null || decodeCursor(cursor, "ns") !== null;
}

/** The only code that queries the search index (FTS5 `search_fts` and `search_docs`). */
export class SearchRepository {
  private readonly db: DrizzleD1Database;

  constructor(private readonly d1: D1Database) {
    this.db = drizzle(d1);
  }

  /** The index version an image's document was built from; null when it has none. */
  async version(imageId: string): Promise<number | null> {
    const [row] = await this.db
      .select({ version: searchDocs.version })
      .from(searchDocs)
      .where(eq(searchDocs.imageId, imageId));
    return row?.version ?? null;
  }

  /**
   * Writes an image's document for index `version`, in one transaction, unless a newer
   * version is already there (an event delivered late never overwrites a newer text).
   */
  async put(imageId: string, version: number, text: SearchText, now: number): Promise<void> {
    const doc = "(select doc_id from search_docs where image_id = ?1 and version = ?2)";
    await this.d1.batch([
      this.d1
        .prepare(
          `insert into search_docs (image_id, version, indexed_at) values (?1, ?2, ?3)
           on conflict (image_id) do update set version = excluded.version, indexed_at = excluded.indexed_at
           where excluded.version > search_docs.version`,
        )
        .bind(imageId, version, now),
      this.d1.prepare(`delete from search_fts where rowid = ${doc}`).bind(imageId, version),
      this.d1
        .prepare(
          `insert into search_fts (rowid, title, description, tags, albums, keys)
           select doc_id, ?3, ?4, ?5, ?6, ?7 from search_docs where image_id = ?1 and version = ?2`,
        )
        .bind(imageId, version, text.title, text.description, text.tags, text.albums, text.keys),
    ]);
  }

  /** Removes an image's document (its text goes with it: trigger in migrations/0009). */
  async remove(imageId: string): Promise<void> {
    await this.db.delete(searchDocs).where(eq(searchDocs.imageId, imageId));
  }

  /**
   * Runs a search. Visibility is decided on the live image rows, never on the document, so
   * an index that lags can return stale text but never an image its caller may not see.
   */
  async search(req: SearchRequest): Promise<SearchPage> {
    const filters = [
      sql`i.status != 'deleted'`,
      req.scope.kind === "public" ? PUBLIC : sql`(i.owner_id = ${req.scope.userId} or ${PUBLIC})`,
    ];
    if (req.ownerId !== undefined) filters.push(sql`i.owner_id = ${req.ownerId}`);
    if (req.tag !== undefined) {
      filters.push(
        sql`exists (select 1 from image_tags t where t.image_id = i.id and t.tag = ${req.tag})`,
      );
    }
    if (req.albumId !== undefined) {
      filters.push(
        sql`exists (select 1 from album_images a where a.image_id = i.id and a.album_id = ${req.albumId})`,
      );
    }
    const limit = req.limit + 1;
    if (req.match === null) {
      const after = req.cursor ? decodeCursor<[number, string]>(req.cursor, "ns") : null;
      if (after) {
        filters.push(
          sql`(i.created_at < ${after[0]} or (i.created_at = ${after[0]} and i.id < ${after[1]}))`,
        );
      }
      // A tag drives the query from its index (a few hundred rows, not every image); else
      // the newest-first index is walked until the page is full.
      const from =
        req.tag !== undefined
          ? sql`image_tags tg cross join images i on i.id = tg.image_id and tg.tag = ${req.tag}`
          : req.albumId !== undefined
            ? sql`album_images al cross join images i on i.id = al.image_id and al.album_id = ${req.albumId}`
            : sql`images i`;
      const rows = await this.db.all<Record<string, unknown>>(
        sql`select i.* from ${from} where ${sql.join(filters, sql` and `)}
            order by i.created_at desc, i.id desc limit ${limit}`,
      );
      return this.page(rows.map(camel), req.limit, (last) => [last.createdAt, last.id]);
    }
    // Tag, album and owner filters are also terms of the MATCH (column filters), so FTS5
    // intersects their short posting lists with the words' before anything is ranked.
    const terms = [`(${req.match})`];
    if (req.tag !== undefined) terms.push(`tags : ${phrase(req.tag)}`);
    if (req.albumId !== undefined) terms.push(`keys : "${albumKey(req.albumId)}"`);
    if (req.ownerId !== undefined) terms.push(`keys : "${ownerKey(req.ownerId)}"`);
    const match = terms.join(" AND ");
    // Ranking every match of a very common word costs ~1 µs a match (50 ms at 60,000). Without
    // a narrowing filter the newest CANDIDATES matches are ranked: exact for anything rarer,
    // and for a word in most documents the best of the most recent (FTS5 walks rowids
    // backwards for free).
    if (terms.length === 1) {
      filters.push(
        sql`search_fts.rowid >= coalesce((select rowid from search_fts where search_fts match ${match}
            order by rowid desc limit 1 offset ${CANDIDATES - 1}), 0)`,
      );
    }
    const from = sql`search_fts join search_docs d on d.doc_id = search_fts.rowid
            join images i on i.id = d.image_id`;
    const after = req.cursor ? decodeCursor<[number, number]>(req.cursor, "nn") : null;
    if (after) {
      filters.push(
        sql`(${RANK} > ${after[0]} or (${RANK} = ${after[0]} and d.doc_id > ${after[1]}))`,
      );
    }
    const matches = await this.db.all<Record<string, unknown> & { rank: number; doc_id: number }>(
      sql`select i.*, ${RANK} as rank, d.doc_id as doc_id
          from ${from}
          where search_fts match ${match} and ${sql.join(filters, sql` and `)}
          order by rank, d.doc_id limit ${limit}`,
    );
    const ranked = matches.map((row) => ({ image: camel(row), rank: row.rank, doc: row.doc_id }));
    const items = ranked.slice(0, req.limit);
    const last = items[items.length - 1];
    return {
      items: items.map((r) => r.image),
      nextCursor: ranked.length > req.limit && last ? encodeCursor([last.rank, last.doc]) : null,
    };
  }

  private page(
    rows: ImageRow[],
    limit: number,
    key: (last: ImageRow) => (string | number)[],
  ): SearchPage {
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > limit && last ? encodeCursor(key(last)) : null };
  }
}

/** A tag as an FTS5 phrase: its words, each as the tokenizer splits them, quoted together. */
function phrase(tag: string): string {
  return `"${queryWords(tag).join(" ")}"`;
}

const COLUMNS = Object.entries(images).flatMap(([key, column]) =>
  column && typeof column === "object" && "name" in column && typeof column.name === "string"
    ? [[column.name, key] as const]
    : [],
);

/** A raw `images` row (snake_case columns) as drizzle's ImageRow. */
function camel(row: Record<string, unknown>): ImageRow {
  const out: Record<string, unknown> = {};
  for (const [name, key] of COLUMNS) out[key] = row[name];
  return out as ImageRow;
}
