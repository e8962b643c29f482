import { and, asc, desc, eq, gt, inArray, lt, ne, or, sql } from "drizzle-orm";
import { type DrizzleD1Database, drizzle } from "drizzle-orm/d1";
import { decodeCursor, encodeCursor } from "./cursor";
import { type AlbumRow, albumImages, albums, type ImageRow, images } from "./schema";

/** A page of albums and the cursor of the next one. */
export interface AlbumPage {
  items: (AlbumRow & { imageCount: number })[];
  nextCursor: string | null;
}

/** A page of an album's images, in the album's order. */
export interface AlbumImagePage {
  items: ImageRow[];
  nextCursor: string | null;
}

/** Most images added in one request: one bound statement each, in one batch. */
export const MAX_ADD_IMAGES = 100;

/** Whether an album-list or album-images cursor is well formed. */
export function isValidAlbumCursor(cursor: string): boolean {
  return decodeCursor(cursor, "ns") !== null;
}

const liveImage = ne(images.status, "deleted");

/** The only code that queries D1 for albums and their images. */
export class AlbumRepository {
  private readonly db: DrizzleD1Database;

  constructor(private readonly d1: D1Database) {
    this.db = drizzle(d1);
  }

  /** Stores a new album. */
  async create(row: AlbumRow): Promise<void> {
    await this.db.insert(albums).values(row);
  }

  /** One album; null when there is none. */
  async get(id: string): Promise<AlbumRow | null> {
    const [row] = await this.db.select().from(albums).where(eq(albums.id, id));
    return row ?? null;
  }

  /** How many live images an album holds. */
  async imageCount(id: string): Promise<number> {
    const [row] = await this.db
      .select({ n: sql<number>`count(*)` })
      .from(albumImages)
      .innerJoin(images, eq(images.id, albumImages.imageId))
      .where(and(eq(albumImages.albumId, id), liveImage));
    return row?.n ?? 0;
  }

  /** An owner's albums, newest first, with their image counts. */
  async listByOwner(ownerId: string, limit: number, cursor: string | null): Promise<AlbumPage> {
    const after = cursor ? decodeCursor<[number, string]>(cursor, "ns") : null;
    const rows = await this.db
      .select({
        album: albums,
        imageCount: sql<number>`(select count(*) from album_images ai join images i on i.id = ai.image_id where ai.album_id = ${albums.id} and i.status != 'deleted')`,
      })
      .from(albums)
      .where(
        and(
          eq(albums.ownerId, ownerId),
          after
            ? or(
                lt(albums.createdAt, after[0]),
                and(eq(albums.createdAt, after[0]), lt(albums.id, after[1])),
              )
            : undefined,
        ),
      )
      .orderBy(desc(albums.createdAt), desc(albums.id))
      .limit(limit + 1);
    const items = rows.slice(0, limit).map((r) => ({ ...r.album, imageCount: r.imageCount }));
    const last = items[items.length - 1];
    return {
      items,
      nextCursor: rows.length > limit && last ? encodeCursor([last.createdAt, last.id]) : null,
    };
  }

  /** Changes an album's fields; the updated row, or null when it is gone. */
  async update(
    id: string,
    fields: Partial<Pick<AlbumRow, "title" | "description" | "visibility" | "coverImageId">>,
    now: number,
    options: { revokeShares?: boolean } = {},
  ): Promise<AlbumRow | null> {
    const [row] = await this.db
      .update(albums)
      .set({
        ...fields,
        updatedAt: now,
        ...(options.revokeShares ? { shareVersion: sql`${albums.shareVersion} + 1` } : {}),
      })
      .where(eq(albums.id, id))
      .returning();
    return row ?? null;
  }

  /** Deletes an album (its images stay; their membership rows go by cascade). */
  async delete(id: string): Promise<boolean> {
    const rows = await this.db.delete(albums).where(eq(albums.id, id)).returning({ id: albums.id });
    return rows.length === 1;
  }

  /** Revokes every share of an album at once. */
  async bumpShareVersion(id: string, now: number): Promise<boolean> {
    const rows = await this.db
      .update(albums)
      .set({ shareVersion: sql`${albums.shareVersion} + 1`, updatedAt: now })
      .where(eq(albums.id, id))
      .returning({ id: albums.id });
    return rows.length === 1;
  }

  /**
   * Appends images at the end of the album in the given order; images already in it keep
   * their place. One batch, so concurrent additions never share a position.
   */
  async addImages(albumId: string, imageIds: readonly string[], now: number): Promise<void> {
    if (imageIds.length === 0) return;
    const append = this.d1.prepare(
      `insert into album_images (album_id, image_id, position, added_at)
       select ?1, ?2, coalesce((select max(position) from album_images where album_id = ?1), 0) + 1, ?3
       where not exists (select 1 from album_images where album_id = ?1 and image_id = ?2)`,
    );
    await this.d1.batch([
      ...imageIds.map((imageId) => append.bind(albumId, imageId, now)),
      this.d1.prepare("update albums set updated_at = ?2 where id = ?1").bind(albumId, now),
    ]);
  }

  /** Takes an image out of an album; false when it was not in it. */
  async removeImage(albumId: string, imageId: string, now: number): Promise<boolean> {
    const rows = await this.db
      .delete(albumImages)
      .where(and(eq(albumImages.albumId, albumId), eq(albumImages.imageId, imageId)))
      .returning({ id: albumImages.imageId });
    if (rows.length === 1) {
      await this.db.update(albums).set({ updatedAt: now }).where(eq(albums.id, albumId));
    }
    return rows.length === 1;
  }

  /** The ids of an album's images in its order (for reordering and reindexing). */
  async memberIds(albumId: string, limit = 10_000): Promise<string[]> {
    const rows = await this.db
      .select({ id: albumImages.imageId })
      .from(albumImages)
      .where(eq(albumImages.albumId, albumId))
      .orderBy(asc(albumImages.position), asc(albumImages.imageId))
      .limit(limit);
    return rows.map((r) => r.id);
  }

  /** Puts `first` at the front in that order; the other images follow in their old order. */
  async reorder(albumId: string, first: readonly string[], now: number): Promise<void> {
    const members = await this.memberIds(albumId);
    const front = first.filter((id) => members.includes(id));
    const order = [...front, ...members.filter((id) => !front.includes(id))];
    const [head, ...tail] = order.map((imageId, i) =>
      this.db
        .update(albumImages)
        .set({ position: i + 1 })
        .where(and(eq(albumImages.albumId, albumId), eq(albumImages.imageId, imageId))),
    );
    if (head) await this.db.batch([head, ...tail]);
    await this.db.update(albums).set({ updatedAt: now }).where(eq(albums.id, albumId));
  }

  /** A page of an album's live images in its order. */
  async images(albumId: string, limit: number, cursor: string | null): Promise<AlbumImagePage> {
    const after = cursor ? decodeCursor<[number, string]>(cursor, "ns") : null;
    const rows = await this.db
      .select({ image: images, position: albumImages.position })
      .from(albumImages)
      .innerJoin(images, eq(images.id, albumImages.imageId))
      .where(
        and(
          eq(albumImages.albumId, albumId),
          liveImage,
          after
            ? or(
                gt(albumImages.position, after[0]),
                and(eq(albumImages.position, after[0]), gt(albumImages.imageId, after[1])),
              )
            : undefined,
        ),
      )
      .orderBy(asc(albumImages.position), asc(albumImages.imageId))
      .limit(limit + 1);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map((r) => r.image),
      nextCursor: rows.length > limit && last ? encodeCursor([last.position, last.image.id]) : null,
    };
  }

  /** Whether every one of `imageIds` is in the album. */
  async contains(albumId: string, imageIds: readonly string[]): Promise<boolean> {
    if (imageIds.length === 0) return true;
    const rows = await this.db
      .select({ id: albumImages.imageId })
      .from(albumImages)
      .where(and(eq(albumImages.albumId, albumId), inArray(albumImages.imageId, [...imageIds])));
    return rows.length === new Set(imageIds).size;
  }

  /** The albums an image is in (for its search text and keys). */
  async albumsOf(imageId: string): Promise<{ id: string; title: string }[]> {
    return this.db
      .select({ id: albums.id, title: albums.title })
      .from(albumImages)
      .innerJoin(albums, eq(albums.id, albumImages.albumId))
      .where(eq(albumImages.imageId, imageId));
  }
}
