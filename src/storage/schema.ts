import { sql } from "drizzle-orm";
import { index, integer, primaryKey, real, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { IMAGE_STATUSES } from "../domain/lifecycle";

/** One uploaded image and its lifecycle state. Times are Unix milliseconds. */
export const images = sqliteTable(
  "images",
  {
    id: text("id").primaryKey(),
    ownerId: text("owner_id").notNull(),
    title: text("title"),
    description: text("description"),
    visibility: text("visibility", { enum: ["public", "unlisted", "private"] })
      .notNull()
      .default("private"),
    status: text("status", { enum: IMAGE_STATUSES }).notNull().default("pending"),
    moderation: text("moderation", { enum: ["allowed", "pending_review", "blocked"] })
      .notNull()
      .default("allowed"),
    /** Why the moderation state is what it is (shown to the owner), and when it was set. */
    moderationReason: text("moderation_reason"),
    moderationUpdatedAt: integer("moderation_updated_at"),
    /** JSON: the classifier's scores per class, its name and the revision it saw. */
    moderationScores: text("moderation_scores"),
    /** The owner's one appeal: when it was made, and its message. */
    appealedAt: integer("appealed_at"),
    appealNote: text("appeal_note"),
    filename: text("filename"),
    declaredContentType: text("declared_content_type"),
    declaredSize: integer("declared_size"),
    /** Sniffed from magic bytes by the processor; never taken from the client. */
    format: text("format"),
    contentType: text("content_type"),
    bytes: integer("bytes"),
    width: integer("width"),
    height: integer("height"),
    /** Bumped by reprocess; part of every variant key so variant URLs can be immutable. */
    revision: integer("revision").notNull().default(1),
    /**
     * The revision whose variants are served: set when a revision becomes ready, so a
     * reprocess (or its failure) never takes a working image offline.
     */
    servedRevision: integer("served_revision"),
    failureCode: text("failure_code"),
    failureDetail: text("failure_detail"),
    placeholder: text("placeholder"),
    dominantColor: text("dominant_color"),
    /** JSON: queueWaitMs, decodeMs, resizeMs, encodeMs, transformMs, totalMs. */
    timings: text("timings"),
    /** What the variants did with the source's colours (TransformOutput.colour). */
    colour: text("colour"),
    /** JSON array: container repairs the `original` needed to decode strictly (png-repair.ts). */
    originalRepairs: text("original_repairs"),
    /** JSON array of normalised tags (domain/tags.ts); `image_tags` indexes them. */
    tags: text("tags").notNull().default("[]"),
    /**
     * Bumped by every change the search index shows (title, description, tags, albums): the
     * indexer applies a version once, and never an older one over a newer.
     */
    indexVersion: integer("index_version").notNull().default(1),
    /**
     * Share links carry the version they were made under; bumping it (revoke all, a change to
     * private) stops every one of them at once.
     */
    shareVersion: integer("share_version").notNull().default(1),
    /**
     * Bytes an upload under way holds against the owner's storage quota (its declared length),
     * until `bytes` records what was stored.
     */
    reservedBytes: integer("reserved_bytes"),
    /**
     * The resumable upload (tus) holding the upload slot, and when it expires: a single PUT
     * cannot take the slot over meanwhile, and the sweeper leaves the image alone until then.
     */
    uploadSession: text("upload_session"),
    uploadSessionExpiresAt: integer("upload_session_expires_at"),
    /** Times the sweeper re-sent this revision's ImageUploaded; bounded, then `failed`. */
    requeues: integer("requeues").notNull().default(0),
    uploadStartedAt: integer("upload_started_at"),
    uploadedAt: integer("uploaded_at"),
    processedAt: integer("processed_at"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    index("images_owner_created_idx").on(t.ownerId, t.createdAt, t.id),
    index("images_status_idx").on(t.status),
    index("images_status_updated_idx").on(t.status, t.updatedAt),
    // Newest-first search without words walks this and stops at the page.
    index("images_created_idx").on(t.createdAt, t.id),
    // The review queue: pending images, oldest decision first.
    index("images_moderation_idx").on(t.moderation, t.moderationUpdatedAt, t.id),
  ],
);

/** One stored rendition of an image at one revision. */
export const variants = sqliteTable(
  "variants",
  {
    imageId: text("image_id")
      .notNull()
      .references(() => images.id, { onDelete: "cascade" }),
    revision: integer("revision").notNull(),
    name: text("name").notNull(),
    format: text("format").notNull(),
    contentType: text("content_type").notNull(),
    width: integer("width").notNull(),
    height: integer("height").notNull(),
    bytes: integer("bytes").notNull(),
    etag: text("etag").notNull(),
    createdAt: integer("created_at").notNull().default(sql`(unixepoch() * 1000)`),
  },
  (t) => [primaryKey({ columns: [t.imageId, t.revision, t.name, t.format] })],
);

/** One tag of one image, for filtering and counting by owner (the image row has the list). */
export const imageTags = sqliteTable(
  "image_tags",
  {
    imageId: text("image_id")
      .notNull()
      .references(() => images.id, { onDelete: "cascade" }),
    ownerId: text("owner_id").notNull(),
    tag: text("tag").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.imageId, t.tag] }),
    index("image_tags_owner_tag_idx").on(t.ownerId, t.tag, t.imageId),
    // A tag across owners (search of public images by tag).
    index("image_tags_tag_idx").on(t.tag, t.imageId),
  ],
);

/** One album of one owner: a titled, ordered set of images (an image can be in several). */
export const albums = sqliteTable(
  "albums",
  {
    id: text("id").primaryKey(),
    ownerId: text("owner_id").notNull(),
    title: text("title").notNull(),
    description: text("description"),
    visibility: text("visibility", { enum: ["public", "unlisted", "private"] })
      .notNull()
      .default("private"),
    coverImageId: text("cover_image_id").references(() => images.id, { onDelete: "set null" }),
    /** As `images.share_version`, for the album's share links. */
    shareVersion: integer("share_version").notNull().default(1),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [index("albums_owner_created_idx").on(t.ownerId, t.createdAt, t.id)],
);

/** An image's place in an album; deleting either removes the row, never the other. */
export const albumImages = sqliteTable(
  "album_images",
  {
    albumId: text("album_id")
      .notNull()
      .references(() => albums.id, { onDelete: "cascade" }),
    imageId: text("image_id")
      .notNull()
      .references(() => images.id, { onDelete: "cascade" }),
    /** Manual order: ascending. */
    position: real("position").notNull(),
    addedAt: integer("added_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.albumId, t.imageId] }),
    index("album_images_order_idx").on(t.albumId, t.position, t.imageId),
    index("album_images_image_idx").on(t.imageId),
  ],
);

/**
 * The search index's bookkeeping: which FTS5 row (`search_fts`, created by hand in
 * migrations/0008) holds an image's text, and which index version it was built from.
 */
export const searchDocs = sqliteTable("search_docs", {
  docId: integer("doc_id").primaryKey({ autoIncrement: true }),
  imageId: text("image_id")
    .notNull()
    .unique()
    .references(() => images.id, { onDelete: "cascade" }),
  version: integer("version").notNull(),
  indexedAt: integer("indexed_at").notNull(),
});

/**
 * One recorded use-case outcome (the metrics sink's local store; dashboards read it later).
 * Written off the hot path.
 */
export const metrics = sqliteTable(
  "metrics",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    at: integer("at").notNull(),
    worker: text("worker").notNull(),
    name: text("name").notNull(),
    outcome: text("outcome").notNull(),
    ms: real("ms"),
    bytes: integer("bytes"),
    imageId: text("image_id"),
  },
  (t) => [index("metrics_name_at_idx").on(t.name, t.at)],
);

/** One owner's hotlink rules (domain/hotlink.ts); owners without a row get the defaults. */
export const hotlinkSettings = sqliteTable("hotlink_settings", {
  ownerId: text("owner_id").primaryKey(),
  /** JSON array of normalised patterns. */
  allowedReferers: text("allowed_referers").notNull(),
  allowEmptyReferer: integer("allow_empty_referer", { mode: "boolean" }).notNull(),
  blockedResponse: text("blocked_response", { enum: ["403", "placeholder"] }).notNull(),
  updatedAt: integer("updated_at").notNull(),
});

export type ImageRow = typeof images.$inferSelect;
export type NewImageRow = typeof images.$inferInsert;
export type VariantRow = typeof variants.$inferSelect;
export type NewVariantRow = typeof variants.$inferInsert;
export type NewMetricRow = typeof metrics.$inferInsert;

/** One share link (docs/api.md, "Share links"): the token's secret is stored only as a digest. */
export const shares = sqliteTable(
  "shares",
  {
    id: text("id").primaryKey(),
    /** What is shared: one image, or one album (exactly one of the two). */
    imageId: text("image_id").references(() => images.id, { onDelete: "cascade" }),
    albumId: text("album_id").references(() => albums.id, { onDelete: "cascade" }),
    createdBy: text("created_by").notNull(),
    /** SHA-256 (hex) of the token's secret part. */
    secretDigest: text("secret_digest").notNull(),
    /** The image's (or album's) `share_version` when this was made: a bump revokes it. */
    shareVersion: integer("share_version").notNull(),
    /** `pbkdf2-sha256$...` (auth/secrets.ts), or null for no password. */
    passwordHash: text("password_hash"),
    allowDownload: integer("allow_download", { mode: "boolean" }).notNull(),
    maxViews: integer("max_views"),
    views: integer("views").notNull().default(0),
    /** JSON array of normalised hotlink patterns, or null (any site). */
    allowedReferers: text("allowed_referers"),
    createdAt: integer("created_at").notNull(),
    /** Null: never expires (only when the deployment allows it). */
    expiresAt: integer("expires_at"),
    revokedAt: integer("revoked_at"),
  },
  (t) => [
    index("shares_image_idx").on(t.imageId, t.createdAt),
    index("shares_album_idx").on(t.albumId, t.createdAt),
  ],
);

/** One API key of a user: acts for its owner with at most its scopes. */
export const apiKeys = sqliteTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    ownerId: text("owner_id").notNull(),
    name: text("name").notNull(),
    /** JSON array of scopes (domain/access.ts). */
    scopes: text("scopes").notNull(),
    /** SHA-256 (hex) of the key's secret part. */
    secretDigest: text("secret_digest").notNull(),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at"),
    lastUsedAt: integer("last_used_at"),
    revokedAt: integer("revoked_at"),
  },
  (t) => [index("api_keys_owner_idx").on(t.ownerId, t.createdAt)],
);

/**
 * One `Idempotency-Key` of one caller on one route: a retry with the same key gets the first
 * response back instead of creating a second resource. Kept for a day.
 */
export const idempotencyKeys = sqliteTable(
  "idempotency_keys",
  {
    ownerId: text("owner_id").notNull(),
    route: text("route").notNull(),
    key: text("key").notNull(),
    /** SHA-256 of the request body: the same key with another body is refused. */
    requestDigest: text("request_digest").notNull(),
    /** Null while the first request is still running. */
    status: integer("status"),
    /** JSON: the response's body and the headers worth replaying (Location). */
    response: text("response"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.ownerId, t.route, t.key] }),
    index("idempotency_keys_created_idx").on(t.createdAt),
  ],
);

/** The global policy (`scope` "global") and per-user overrides ("user:{id}"), as JSON. */
export const policies = sqliteTable("policies", {
  scope: text("scope").primaryKey(),
  /** JSON of the fields this document sets (domain/policy.ts). */
  document: text("document").notNull(),
  /** Bumped by every change: an isolate's copy is stale when the version moved. */
  version: integer("version").notNull(),
  updatedAt: integer("updated_at").notNull(),
  updatedBy: text("updated_by").notNull(),
});

/** One user as the control plane knows them: first seen, suspended or not. */
export const accounts = sqliteTable("accounts", {
  userId: text("user_id").primaryKey(),
  createdAt: integer("created_at").notNull(),
  suspendedAt: integer("suspended_at"),
  suspendedReason: text("suspended_reason"),
});

/**
 * Counters per day: images created by an owner (`upload:{owner}`), embedded views of an
 * owner's images from other sites (`hotlink:{owner}`), views of a share (`share:{id}`).
 */
export const dailyCounters = sqliteTable(
  "daily_counters",
  {
    key: text("key").notNull(),
    day: text("day").notNull(),
    count: integer("count").notNull(),
  },
  (t) => [primaryKey({ columns: [t.key, t.day] })],
);

/** Every admin action, newest last. */
export const auditLog = sqliteTable(
  "audit_log",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    at: integer("at").notNull(),
    actor: text("actor").notNull(),
    action: text("action").notNull(),
    target: text("target").notNull(),
    /** JSON: what changed. */
    detail: text("detail").notNull(),
  },
  (t) => [index("audit_log_at_idx").on(t.at)],
);

/** Every change of an image's moderation state: who or what decided, when and why. */
export const moderationEvents = sqliteTable(
  "moderation_events",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    imageId: text("image_id").notNull(),
    at: integer("at").notNull(),
    /** `classifier`, `reports`, `admin`, `appeal`, `policy`. */
    source: text("source").notNull(),
    /** The admin's user id, the classifier's name, or the owner for an appeal. */
    actor: text("actor").notNull(),
    fromState: text("from_state").notNull(),
    toState: text("to_state").notNull(),
    reason: text("reason"),
  },
  (t) => [index("moderation_events_image_idx").on(t.imageId, t.at)],
);

/** One report of an image by one user (a second report by the same user replaces nothing). */
export const moderationReports = sqliteTable(
  "moderation_reports",
  {
    imageId: text("image_id").notNull(),
    reporterId: text("reporter_id").notNull(),
    reason: text("reason").notNull(),
    note: text("note"),
    at: integer("at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.imageId, t.reporterId] })],
);

export type ShareRow = typeof shares.$inferSelect;
export type AlbumRow = typeof albums.$inferSelect;
export type ApiKeyRow = typeof apiKeys.$inferSelect;
