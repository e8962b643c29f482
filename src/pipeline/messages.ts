import { z } from "zod";

/** An upload is stored and ready to be processed at `revision`. */
export const ImageUploadedV1 = z.object({
  type: z.literal("ImageUploaded"),
  v: z.literal(1),
  imageId: z.string().min(1),
  revision: z.number().int().positive(),
  uploadedAt: z.number().int().nonnegative(),
});

/** An image was deleted; its objects and rows must be purged. */
export const ImageDeletedV1 = z.object({
  type: z.literal("ImageDeleted"),
  v: z.literal(1),
  imageId: z.string().min(1),
});

/**
 * A ready image should get its slow variants (AVIF). Sent by the processor after `ready`,
 * so an upload is viewable in the time WebP/JPEG take and AVIF follows.
 */
export const SlowVariantsRequestedV1 = z.object({
  type: z.literal("SlowVariantsRequested"),
  v: z.literal(1),
  imageId: z.string().min(1),
  revision: z.number().int().positive(),
});

/**
 * A ready revision should be classified (moderation): sent with SlowVariantsRequested, handled
 * on its own so the model's memory never meets a decode's.
 */
export const ClassificationRequestedV1 = z.object({
  type: z.literal("ClassificationRequested"),
  v: z.literal(1),
  imageId: z.string().min(1),
  revision: z.number().int().positive(),
});

/** An image's moderation state changed (the history row, as an event for consumers). */
export const ModerationDecisionV1 = z.object({
  type: z.literal("ModerationDecision"),
  v: z.literal(1),
  imageId: z.string().min(1),
  from: z.enum(["allowed", "pending_review", "blocked"]),
  to: z.enum(["allowed", "pending_review", "blocked"]),
  source: z.enum(["classifier", "reports", "admin", "appeal", "policy"]),
  actor: z.string().min(1).max(256),
  reason: z.string().max(1000),
  at: z.number().int().nonnegative(),
});

/** What a cache purge covers: every rendition of an image, or one owner's hotlink rules. */
export const PurgeTarget = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("image"),
    imageId: z.string().min(1),
    /** The newest revision that may have cached entries. */
    newestRevision: z.number().int().positive(),
  }),
  z.object({ kind: z.literal("hotlink_rules"), ownerId: z.string().min(1).max(256) }),
  /** Everything of one owner (a suspension): their profile and every cached image. */
  z.object({ kind: z.literal("owner"), ownerId: z.string().min(1).max(256) }),
]);

/** Why cached copies must go (the takedown metric's outcome names it). */
export const PurgeReason = z.enum([
  "delete",
  "visibility",
  "revision",
  "variants",
  "hotlink_rules",
  "moderation",
  "suspension",
]);

/**
 * Cached copies must be purged and the edge could not finish it inline (the zone purge API
 * kept failing, or the processor could not reach the edge); the queue retries with backoff.
 * `scope: "zone"` when this data centre's entries are already gone.
 */
export const CachePurgeRequestedV1 = z.object({
  type: z.literal("CachePurgeRequested"),
  v: z.literal(1),
  target: PurgeTarget,
  reason: PurgeReason,
  scope: z.enum(["all", "zone"]),
  requestedAt: z.number().int().nonnegative(),
});

/**
 * The search text of these images changed (title, description, tags, albums): the indexer
 * rebuilds their documents from the current rows, once per index version.
 */
export const ImagesIndexRequestedV1 = z.object({
  type: z.literal("ImagesIndexRequested"),
  v: z.literal(1),
  imageIds: z.array(z.string().min(1)).min(1).max(100),
  requestedAt: z.number().int().nonnegative(),
});

/** An album's title changed: every image in it gets its document rebuilt. */
export const AlbumIndexRequestedV1 = z.object({
  type: z.literal("AlbumIndexRequested"),
  v: z.literal(1),
  albumId: z.string().min(1),
  requestedAt: z.number().int().nonnegative(),
});

/** Every event on the image-events queue. */
export const ImageEvent = z.discriminatedUnion("type", [
  ImageUploadedV1,
  ImageDeletedV1,
  SlowVariantsRequestedV1,
  CachePurgeRequestedV1,
  ImagesIndexRequestedV1,
  AlbumIndexRequestedV1,
  ClassificationRequestedV1,
  ModerationDecisionV1,
]);

export type ImageUploaded = z.infer<typeof ImageUploadedV1>;
export type ImageDeleted = z.infer<typeof ImageDeletedV1>;
export type SlowVariantsRequested = z.infer<typeof SlowVariantsRequestedV1>;
export type CachePurgeRequested = z.infer<typeof CachePurgeRequestedV1>;
export type ImagesIndexRequested = z.infer<typeof ImagesIndexRequestedV1>;
export type AlbumIndexRequested = z.infer<typeof AlbumIndexRequestedV1>;
export type ClassificationRequested = z.infer<typeof ClassificationRequestedV1>;
export type ModerationDecision = z.infer<typeof ModerationDecisionV1>;
export type PurgeTarget = z.infer<typeof PurgeTarget>;
export type PurgeReason = z.infer<typeof PurgeReason>;
export type ImageEvent = z.infer<typeof ImageEvent>;
