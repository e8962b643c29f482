import { and, desc, eq, gt, isNull, lt, or, sql } from "drizzle-orm";
import { type DrizzleD1Database, drizzle } from "drizzle-orm/d1";
import { type AlbumRow, albums, type ImageRow, images, type ShareRow, shares } from "./schema";

/** A share with what it shows: one image, or one album. */
export type ShareWithTarget =
  | { share: ShareRow; image: ImageRow; album: null }
  | { share: ShareRow; image: null; album: AlbumRow };

/** The only code that queries D1 for share links. */
export class ShareRepository {
  private readonly db: DrizzleD1Database;

  constructor(d1: D1Database) {
    this.db = drizzle(d1);
  }

  /** Stores a new share (its token's secret only as a digest). */
  async create(share: ShareRow): Promise<void> {
    await this.db.insert(shares).values(share);
  }

  /** One share and what it shows, in one read; null when either is gone. */
  async get(id: string): Promise<ShareWithTarget | null> {
    const [row] = await this.db
      .select({ share: shares, image: images, album: albums })
      .from(shares)
      .leftJoin(images, eq(images.id, shares.imageId))
      .leftJoin(albums, eq(albums.id, shares.albumId))
      .where(eq(shares.id, id));
    if (!row) return null;
    if (row.image) return { share: row.share, image: row.image, album: null };
    if (row.album) return { share: row.share, image: null, album: row.album };
    return null;
  }

  /** An album's shares, newest first. */
  async listForAlbum(albumId: string): Promise<ShareRow[]> {
    return this.db
      .select()
      .from(shares)
      .where(eq(shares.albumId, albumId))
      .orderBy(desc(shares.createdAt), desc(shares.id))
      .limit(200);
  }

  /** An image's shares, newest first. */
  async listForImage(imageId: string): Promise<ShareRow[]> {
    return this.db
      .select()
      .from(shares)
      .where(eq(shares.imageId, imageId))
      .orderBy(desc(shares.createdAt), desc(shares.id))
      .limit(200);
  }

  /** Revokes one share; false when it was already revoked. */
  async revoke(id: string, now: number): Promise<boolean> {
    const rows = await this.db
      .update(shares)
      .set({ revokedAt: now })
      .where(and(eq(shares.id, id), isNull(shares.revokedAt)))
      .returning({ id: shares.id });
    return rows.length === 1;
  }

  /**
   * Counts one view if the share still has one to give, atomically: D1 runs each statement
   * alone, so N concurrent viewers of a share with `max_views = k` get exactly k successes.
   */
  async countView(id: string, now: number): Promise<boolean> {
    const rows = await this.db
      .update(shares)
      .set({ views: sql`${shares.views} + 1` })
      .where(
        and(
          eq(shares.id, id),
          isNull(shares.revokedAt),
          or(isNull(shares.expiresAt), gt(shares.expiresAt, now)),
          or(isNull(shares.maxViews), lt(shares.views, shares.maxViews)),
        ),
      )
      .returning({ views: shares.views });
    return rows.length === 1;
  }
}
