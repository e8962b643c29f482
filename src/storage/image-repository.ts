import { and, desc, eq, inArray, isNull, lt, ne, or, type SQL, sql } from "drizzle-orm";
import { type DrizzleD1Database, drizzle } from "drizzle-orm/d1";
import {
  type FailureCode,
  type ImageStatus,
  TRANSITIONS,
  type Transition,
  type TransitionName,
} from "../domain/lifecycle";
import { decodeCursor, encodeCursor } from "./cursor";
import {
  type ImageRow,
  images,
  imageTags,
  type NewImageRow,
  type NewVariantRow,
  type VariantRow,
  variants,
} from "./schema";

/** An image with the renditions of its current revision. */
export interface ImageWithVariants {
  image: ImageRow;
  variants: VariantRow[];
}

/** Data recorded when processing succeeds. */
export interface ProcessedImage {
  format: string;
  contentType: string;
  width: number;
  height: number;
  placeholder: string;
  dominantColor: string;
  timings: Record<string, number>;
  colour: string;
  originalRepairs: string[];
  variants: Omit<NewVariantRow, "imageId" | "revision" | "createdAt">[];
}

/** A page of images plus the cursor for the next page (null at the end). */
export interface ImagePage {
  items: ImageRow[];
  nextCursor: string | null;
}

/** A revision the sweeper found without progress. */
export interface StalledRevision {
  id: string;
  revision: number;
  status: ImageStatus;
  requeues: number;
}

/** Rows of live images only: a deleted image is invisible to every read. */
const live: SQL = ne(images.status, "deleted");

/**
 * The SQL guard of a lifecycle transition (src/domain/lifecycle.ts): the image is in one of
 * its source states, or in one of its stale states with no progress for the stale period.
 */
function allowed(name: TransitionName, now: number, staleAfterMs?: number): SQL {
  const t: Transition = TRANSITIONS[name];
  const parts: SQL[] = [];
  if (t.from.length > 0) parts.push(inArray(images.status, [...t.from]));
  if (t.stale) {
    const cutoff = now - (staleAfterMs ?? t.stale.afterMs);
    const stale = and(inArray(images.status, [...t.stale.from]), lt(images.updatedAt, cutoff));
    if (stale) parts.push(stale);
  }
  return or(...parts) ?? sql`0`;
}

/** An upload's length against its owner's storage quota (null: no quota). */
export interface StorageQuota {
  ownerId: string;
  length: number;
  maxStorageBytes: number | null;
}

/**
 * The SQL guard of a storage quota: what the owner's other live images store or hold for an
 * upload under way, plus this upload, fits the quota. Checked inside the claim's UPDATE, so
 * racing uploads cannot pass it together.
 */
function withinStorage(id: string, storage: StorageQuota | undefined): SQL | undefined {
  if (!storage || storage.maxStorageBytes === null) return undefined;
  return sql`(select coalesce(sum(coalesce(o.bytes, o.reserved_bytes, 0)), 0) from images o
    where o.owner_id = ${storage.ownerId} and o.status != 'deleted' and o.id != ${id})
    + ${storage.length} <= ${storage.maxStorageBytes}`;
}

/** The only code that queries D1 for images and variants. */
export class ImageRepository {
  private readonly db: DrizzleD1Database;

  constructor(private readonly d1: D1Database) {
    this.db = drizzle(d1);
  }

  /** Inserts a new image row. */
  async create(
    row: NewImageRow,
    tags: readonly string[] = [],
    quota: { maxImages: number | null } = { maxImages: null },
  ): Promise<ImageRow | null> {
    if (quota.maxImages !== null) return this.createWithinQuota(row, tags, quota.maxImages);
    const insert = this.db
      .insert(images)
      .values({ ...row, tags: JSON.stringify(tags) })
      .returning();
    const [created] =
      tags.length === 0
        ? await insert
        : (
            await this.db.batch([
              insert,
              this.db
                .insert(imageTags)
                .values(tags.map((tag) => ({ imageId: row.id, ownerId: row.ownerId, tag }))),
            ])
          )[0];
    if (!created) throw new Error("insert returned no row");
    return created;
  }

  /**
   * Inserts the image only while its owner has fewer than `maxImages` live images, in one
   * statement: racing creations against a quota of k leave exactly k images. Null when over.
   */
  private async createWithinQuota(
    row: NewImageRow,
    tags: readonly string[],
    maxImages: number,
  ): Promise<ImageRow | null> {
    const inserted = await this.d1
      .prepare(
        `insert into images (id, owner_id, title, description, visibility, moderation, filename,
           declared_content_type, declared_size, tags, created_at, updated_at, moderation_reason,
           moderation_updated_at)
         select ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?14, ?15
         where (select count(*) from images where owner_id = ?2 and status != 'deleted') < ?13
         returning id`,
      )
      .bind(
        row.id,
        row.ownerId,
        row.title ?? null,
        row.description ?? null,
        row.visibility ?? "private",
        row.moderation ?? "allowed",
        row.filename ?? null,
        row.declaredContentType ?? null,
        row.declaredSize ?? null,
        JSON.stringify(tags),
        row.createdAt,
        row.updatedAt,
        maxImages,
        row.moderationReason ?? null,
        row.moderationUpdatedAt ?? null,
      )
      .all();
    if (inserted.results.length === 0) return null;
    if (tags.length > 0) {
      await this.db
        .insert(imageTags)
        .values(tags.map((tag) => ({ imageId: row.id, ownerId: row.ownerId, tag })));
    }
    return this.get(row.id);
  }

  /** How many images an owner created since `since` (deleted ones included). */
  async createdSince(ownerId: string, since: number): Promise<number> {
    const [row] = await this.db
      .select({ n: sql<number>`count(*)` })
      .from(images)
      .where(and(eq(images.ownerId, ownerId), sql`${images.createdAt} > ${since}`));
    return row?.n ?? 0;
  }

  /** Reads an image unless it is deleted. */
  async get(id: string): Promise<ImageRow | null> {
    const [row] = await this.db
      .select()
      .from(images)
      .where(and(eq(images.id, id), live));
    return row ?? null;
  }

  /** Reads several live images (at most 100 ids: one bound parameter each). */
  async getMany(ids: readonly string[]): Promise<ImageRow[]> {
    if (ids.length === 0) return [];
    return this.db
      .select()
      .from(images)
      .where(and(inArray(images.id, [...ids]), live));
  }

  /** Reads an image and the renditions of its served revision in one round trip. */
  async getWithVariants(id: string): Promise<ImageWithVariants | null> {
    const [imageRows, variantRows] = await this.db.batch([
      this.db
        .select()
        .from(images)
        .where(and(eq(images.id, id), live)),
      this.db
        .select()
        .from(variants)
        .where(
          and(
            eq(variants.imageId, id),
            eq(variants.revision, sql`(select served_revision from images where id = ${id})`),
          ),
        ),
    ]);
    const image = imageRows[0];
    return image ? { image, variants: variantRows } : null;
  }

  /** Reads a live image and the renditions of one of its revisions in one round trip. */
  async getWithRevision(id: string, revision: number): Promise<ImageWithVariants | null> {
    const [imageRows, variantRows] = await this.db.batch([
      this.db
        .select()
        .from(images)
        .where(and(eq(images.id, id), live)),
      this.db
        .select()
        .from(variants)
        .where(and(eq(variants.imageId, id), eq(variants.revision, revision))),
    ]);
    const image = imageRows[0];
    return image ? { image, variants: variantRows } : null;
  }

  /** Renditions of the served revision of each image, grouped by image id. */
  async servedVariantsOf(list: readonly ImageRow[]): Promise<Map<string, VariantRow[]>> {
    const byId = new Map<string, VariantRow[]>();
    // One bound parameter per image (D1 allows 100 a query; a page holds at most 100).
    const ids = list.filter((i) => i.servedRevision !== null).map((i) => i.id);
    if (ids.length === 0) return byId;
    const rows = await this.db
      .select({ variant: variants })
      .from(variants)
      .innerJoin(
        images,
        and(eq(images.id, variants.imageId), eq(images.servedRevision, variants.revision)),
      )
      .where(inArray(variants.imageId, ids));
    for (const { variant } of rows) {
      const bucket = byId.get(variant.imageId);
      if (bucket) bucket.push(variant);
      else byId.set(variant.imageId, [variant]);
    }
    return byId;
  }

  /** Changes the editable fields of an image; returns the updated row (null if gone). */
  async update(
    id: string,
    fields: Partial<Pick<ImageRow, "title" | "description" | "visibility">> & {
      /** New tags, with the image's owner (who the tag rows are counted for). */
      tags?: { ownerId: string; tags: readonly string[] } | undefined;
    },
    now: number,
    options: { revokeShares?: boolean } = {},
  ): Promise<ImageRow | null> {
    const { tags, ...rest } = fields;
    const update = this.db
      .update(images)
      .set({
        ...rest,
        ...(tags ? { tags: JSON.stringify(tags.tags) } : {}),
        updatedAt: now,
        // Every editable field is in the search index.
        indexVersion: sql`${images.indexVersion} + 1`,
        ...(options.revokeShares ? { shareVersion: sql`${images.shareVersion} + 1` } : {}),
      })
      .where(and(eq(images.id, id), live))
      .returning();
    if (!tags) return (await update)[0] ?? null;
    // The list on the row and the rows of image_tags change together, in one batch.
    const replace = this.db.delete(imageTags).where(eq(imageTags.imageId, id));
    const rows = tags.tags.map((tag) => ({ imageId: id, ownerId: tags.ownerId, tag }));
    const [updated] =
      rows.length === 0
        ? await this.db.batch([update, replace])
        : await this.db.batch([update, replace, this.db.insert(imageTags).values(rows)]);
    return updated[0] ?? null;
  }

  /** An owner's tags with how many of their live images carry each, most used first. */
  async tagCounts(ownerId: string): Promise<{ tag: string; count: number }[]> {
    const rows = await this.db
      .select({ tag: imageTags.tag, count: sql<number>`count(*)` })
      .from(imageTags)
      .innerJoin(images, eq(images.id, imageTags.imageId))
      .where(and(eq(imageTags.ownerId, ownerId), live))
      .groupBy(imageTags.tag)
      .orderBy(desc(sql`count(*)`), imageTags.tag)
      .limit(1000);
    return rows;
  }

  /** Lists an owner's images newest first with an opaque keyset cursor. */
  async listByOwner(
    ownerId: string,
    limit: number,
    cursor: string | null,
    filter: { tag?: string | undefined; albumId?: string | undefined } = {},
  ): Promise<ImagePage> {
    const after = cursor ? decodeCursor<[number, string]>(cursor, "ns") : null;
    const rows = await this.db
      .select()
      .from(images)
      .where(
        and(
          eq(images.ownerId, ownerId),
          live,
          filter.tag === undefined
            ? undefined
            : sql`exists (select 1 from image_tags t where t.image_id = ${images.id} and t.tag = ${filter.tag})`,
          filter.albumId === undefined
            ? undefined
            : sql`exists (select 1 from album_images a where a.image_id = ${images.id} and a.album_id = ${filter.albumId})`,
          after
            ? or(
                lt(images.createdAt, after[0]),
                and(eq(images.createdAt, after[0]), lt(images.id, after[1])),
              )
            : undefined,
        ),
      )
      .orderBy(desc(images.createdAt), desc(images.id))
      .limit(limit + 1);
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return {
      items,
      nextCursor: rows.length > limit && last ? encodeCursor([last.createdAt, last.id]) : null,
    };
  }

  /**
   * Atomically takes the single upload slot. Returns the claim (its start time), which the
   * later release or completion must present, or null when the slot is used or in progress.
   */
  async claimUpload(id: string, now: number, storage?: StorageQuota): Promise<number | null> {
    const rows = await this.db
      .update(images)
      .set({
        status: "uploading",
        uploadStartedAt: now,
        updatedAt: now,
        reservedBytes: storage?.length ?? null,
      })
      // A resumable session holds its slot however long it has been idle.
      .where(
        and(
          eq(images.id, id),
          allowed("claimUpload", now),
          isNull(images.uploadSession),
          withinStorage(id, storage),
        ),
      )
      .returning({ id: images.id });
    return rows.length === 1 ? now : null;
  }

  /**
   * Whether a claim failed only for the owner's storage quota (the image is still free to
   * claim otherwise): tells `quota_exceeded` apart from `upload_already_used`.
   */
  async overStorage(id: string, storage: StorageQuota): Promise<boolean> {
    const [row] = await this.db
      .select({ id: images.id })
      .from(images)
      .where(and(eq(images.id, id), sql`not ${withinStorage(id, storage) ?? sql`1`}`));
    return row !== undefined;
  }

  /**
   * Gives the upload slot of a pending image to a resumable session until `expiresAt`;
   * returns the claim, or null when the image is not pending (or another session holds it).
   */
  async claimResumable(
    id: string,
    session: string,
    expiresAt: number,
    now: number,
    storage?: StorageQuota,
  ): Promise<number | null> {
    const rows = await this.db
      .update(images)
      .set({
        status: "uploading",
        uploadStartedAt: now,
        uploadSession: session,
        uploadSessionExpiresAt: expiresAt,
        updatedAt: now,
        reservedBytes: storage?.length ?? null,
      })
      .where(
        and(
          eq(images.id, id),
          allowed("claimResumable", now),
          isNull(images.uploadSession),
          withinStorage(id, storage),
        ),
      )
      .returning({ id: images.id });
    return rows.length === 1 ? now : null;
  }

  /** Gives the slot back from a resumable session that ended without an upload. */
  async releaseResumable(id: string, session: string, now: number): Promise<boolean> {
    const rows = await this.db
      .update(images)
      .set({
        status: "pending",
        uploadStartedAt: null,
        reservedBytes: null,
        uploadSession: null,
        uploadSessionExpiresAt: null,
        updatedAt: now,
      })
      .where(
        and(eq(images.id, id), allowed("releaseResumable", now), eq(images.uploadSession, session)),
      )
      .returning({ id: images.id });
    return rows.length === 1;
  }

  /** Gives the upload slot back after a failed transfer, if this claim still holds it. */
  async releaseUpload(id: string, claim: number, now: number): Promise<void> {
    await this.db
      .update(images)
      .set({ status: "pending", uploadStartedAt: null, reservedBytes: null, updatedAt: now })
      .where(
        and(eq(images.id, id), allowed("releaseUpload", now), eq(images.uploadStartedAt, claim)),
      );
  }

  /** Records a stored upload; null if the image was deleted or the claim was taken over. */
  async markUploaded(
    id: string,
    claim: number,
    bytes: number,
    now: number,
  ): Promise<ImageRow | null> {
    const [row] = await this.db
      .update(images)
      .set({
        status: "uploaded",
        bytes,
        uploadedAt: now,
        updatedAt: now,
        requeues: 0,
        uploadSession: null,
        uploadSessionExpiresAt: null,
      })
      .where(
        and(eq(images.id, id), allowed("markUploaded", now), eq(images.uploadStartedAt, claim)),
      )
      .returning();
    return row ?? null;
  }

  /**
   * Moves an uploaded image of this revision into `processing`. Redelivered messages
   * (already `processing`) are claimed again; anything else returns null.
   */
  async claimProcessing(id: string, revision: number, now: number): Promise<ImageRow | null> {
    const [row] = await this.db
      .update(images)
      .set({ status: "processing", updatedAt: now })
      .where(and(eq(images.id, id), eq(images.revision, revision), allowed("claimProcessing", now)))
      .returning();
    return row ?? null;
  }

  /**
   * Records variants and marks the image ready, atomically and only if it is still this
   * revision in `processing` (a delete or reprocess meanwhile writes nothing).
   */
  async completeProcessing(
    id: string,
    revision: number,
    result: ProcessedImage,
    now: number,
  ): Promise<boolean> {
    const results = await this.d1.batch([
      ...this.guardedVariantInserts(id, revision, result.variants, now, "processing"),
      this.d1
        .prepare("delete from variants where image_id = ?1 and revision < ?2")
        .bind(id, revision),
      this.d1
        .prepare(
          `update images set status = 'ready', served_revision = ?2, format = ?3,
             content_type = ?4, width = ?5, height = ?6, placeholder = ?7, dominant_color = ?8,
             timings = ?9, failure_code = null, failure_detail = null, processed_at = ?10,
             updated_at = ?10, colour = ?11, original_repairs = ?12
           where id = ?1 and revision = ?2
             and status in (${sqlList(TRANSITIONS.completeProcessing.from)})
           returning id`,
        )
        .bind(
          id,
          revision,
          result.format,
          result.contentType,
          result.width,
          result.height,
          result.placeholder,
          result.dominantColor,
          JSON.stringify(result.timings),
          now,
          result.colour,
          JSON.stringify(result.originalRepairs),
        ),
    ]);
    return (results[results.length - 1]?.results.length ?? 0) === 1;
  }

  /** Adds renditions to a ready image; false (nothing written) if it moved to another revision. */
  async addVariants(
    id: string,
    revision: number,
    added: ProcessedImage["variants"],
    now: number,
  ): Promise<boolean> {
    if (added.length === 0) return true;
    await this.d1.batch(this.guardedVariantInserts(id, revision, added, now, "ready"));
    return (await this.get(id))?.revision === revision;
  }

  /**
   * One insert per row, each guarded in SQL by the image's revision and status, so a
   * concurrent reprocess or delete can never leave rows for a revision that is not current
   * (and a purged image never trips the foreign key).
   */
  private guardedVariantInserts(
    id: string,
    revision: number,
    rows: ProcessedImage["variants"],
    now: number,
    status: ImageStatus,
  ): D1PreparedStatement[] {
    const insert = this.d1.prepare(
      `insert into variants
         (image_id, revision, name, format, content_type, width, height, bytes, etag, created_at)
       select ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10
       where exists (select 1 from images where id = ?1 and revision = ?2 and status = ?11)
       on conflict do nothing`,
    );
    return rows.map((v) =>
      insert.bind(
        id,
        revision,
        v.name,
        v.format,
        v.contentType,
        v.width,
        v.height,
        v.bytes,
        v.etag,
        now,
        status,
      ),
    );
  }

  /** Ends processing of a revision with a failure code (no-op if superseded or deleted). */
  async markFailed(
    id: string,
    revision: number,
    code: FailureCode,
    detail: string,
    now: number,
  ): Promise<boolean> {
    const rows = await this.db
      .update(images)
      .set({ status: "failed", failureCode: code, failureDetail: detail, updatedAt: now })
      .where(and(eq(images.id, id), eq(images.revision, revision), allowed("fail", now)))
      .returning({ id: images.id });
    return rows.length === 1;
  }

  /**
   * Starts a new revision from the stored upload: from `ready` or `failed`, or from an
   * `uploaded`/`processing` revision that has made no progress for its stale period (a lost
   * event must not strand an image). Null when none applies.
   */
  async startReprocess(id: string, revision: number, now: number): Promise<ImageRow | null> {
    const [row] = await this.db
      .update(images)
      .set({
        revision: revision + 1,
        status: "uploaded",
        failureCode: null,
        failureDetail: null,
        requeues: 0,
        updatedAt: now,
      })
      .where(and(eq(images.id, id), eq(images.revision, revision), allowed("reprocess", now)))
      .returning();
    return row ?? null;
  }

  /**
   * Revisions in `uploaded`/`processing` without progress for longer than their threshold,
   * oldest first: what the sweeper sends to the queue again (or fails).
   */
  async stalledRevisions(
    uploadedCutoff: number,
    processingCutoff: number,
    limit: number,
  ): Promise<StalledRevision[]> {
    return this.db
      .select({
        id: images.id,
        revision: images.revision,
        status: images.status,
        requeues: images.requeues,
      })
      .from(images)
      .where(
        or(
          and(eq(images.status, "uploaded"), lt(images.updatedAt, uploadedCutoff)),
          and(eq(images.status, "processing"), lt(images.updatedAt, processingCutoff)),
        ),
      )
      .orderBy(images.updatedAt)
      .limit(limit);
  }

  /**
   * Counts one more requeue of a stalled revision and restarts its stale clock; false when it
   * moved on meanwhile (the guard repeats the sweeper's read).
   */
  async markRequeued(stalled: StalledRevision, now: number): Promise<boolean> {
    const rows = await this.db
      .update(images)
      .set({ status: "uploaded", requeues: stalled.requeues + 1, updatedAt: now })
      .where(
        and(
          eq(images.id, stalled.id),
          eq(images.revision, stalled.revision),
          eq(images.status, stalled.status),
          inArray(images.status, [...TRANSITIONS.requeue.stale.from]),
          eq(images.requeues, stalled.requeues),
        ),
      )
      .returning({ id: images.id });
    return rows.length === 1;
  }

  /**
   * Images never uploaded (`pending`, `uploading`) and idle since before `cutoff`, leaving out
   * those a resumable session still holds (until it expires).
   */
  abandonedUploads(cutoff: number, now: number, limit: number): Promise<string[]> {
    return this.idsWhere(
      and(
        inArray(images.status, ["pending", "uploading"]),
        lt(images.updatedAt, cutoff),
        or(isNull(images.uploadSessionExpiresAt), lt(images.uploadSessionExpiresAt, now)),
      ),
      limit,
    );
  }

  /** Ids of images in `states` last changed before `cutoff`, oldest first. */
  idsIn(states: readonly ImageStatus[], cutoff: number, limit: number): Promise<string[]> {
    return this.idsWhere(
      and(inArray(images.status, [...states]), lt(images.updatedAt, cutoff)),
      limit,
    );
  }

  private async idsWhere(where: SQL | undefined, limit: number): Promise<string[]> {
    const rows = await this.db
      .select({ id: images.id })
      .from(images)
      .where(where)
      .orderBy(images.updatedAt)
      .limit(limit);
    return rows.map((r) => r.id);
  }

  /** Hides an image from every read path before its objects are purged. */
  async markDeleted(id: string, now: number): Promise<boolean> {
    const rows = await this.db
      .update(images)
      .set({ status: "deleted", updatedAt: now })
      .where(and(eq(images.id, id), allowed("delete", now)))
      .returning({ id: images.id });
    return rows.length === 1;
  }

  /** Marks images' search text as changed (album membership or an album's title). */
  async bumpIndexVersions(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db
      .update(images)
      .set({ indexVersion: sql`${images.indexVersion} + 1` })
      .where(inArray(images.id, [...ids]));
  }

  /** Revokes every share link of a live image at once (they carry the old version). */
  async bumpShareVersion(id: string, now: number): Promise<boolean> {
    const rows = await this.db
      .update(images)
      .set({ shareVersion: sql`${images.shareVersion} + 1`, updatedAt: now })
      .where(and(eq(images.id, id), live))
      .returning({ id: images.id });
    return rows.length === 1;
  }

  /** Removes the rows of an image; its variant and share rows go with it (foreign key cascade). */
  async purge(id: string): Promise<void> {
    await this.db.delete(images).where(eq(images.id, id));
  }
}

/** A SQL list literal of known status names (never user input). */
function sqlList(states: readonly ImageStatus[]): string {
  return states.map((st) => `'${st}'`).join(", ");
}

/** Whether a client-supplied cursor is well formed. */
export function isValidCursor(cursor: string): boolean {
  return decodeCursor(cursor, "ns") !== null;
}
