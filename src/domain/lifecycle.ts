import type { TransformErrorCode } from "../pipeline/types";

/**
 * The image lifecycle, declared once (docs/architecture.md, "Lifecycle"). Every guarded UPDATE
 * in the image repository takes its allowed source states and staleness rule from this table,
 * so a new transition is one row here plus the use case that triggers it.
 */

/** Processing status of an image (moderation state is separate). */
export const IMAGE_STATUSES = [
  "pending",
  "uploading",
  "uploaded",
  "processing",
  "ready",
  "failed",
  "deleted",
] as const;
export type ImageStatus = (typeof IMAGE_STATUSES)[number];

/** Who may trigger a transition. */
export type Actor = "owner" | "uploader" | "processor" | "dead-letter" | "sweeper";

/** A state the transition may also leave once it has made no progress for `afterMs`. */
export interface StaleRule {
  from: readonly ImageStatus[];
  afterMs: number;
}

/** One allowed move of the status machine. */
export interface Transition {
  from: readonly ImageStatus[];
  to: ImageStatus;
  by: readonly Actor[];
  /** Also allowed from these states once stale (measured from `updatedAt`). */
  stale?: StaleRule;
  why: string;
}

const MINUTE = 60_000;

/** Every state but `deleted`: what "live" means in every read. */
export const LIVE_STATUSES: readonly ImageStatus[] = IMAGE_STATUSES.filter((s) => s !== "deleted");

/** The transitions, by name. */
export const TRANSITIONS = {
  claimUpload: {
    from: ["pending"],
    to: "uploading",
    by: ["uploader"],
    // A crashed upload frees its slot after this long (while the upload URL is still valid).
    stale: { from: ["uploading"], afterMs: 10 * MINUTE },
    why: "one upload at a time takes the slot",
  },
  claimResumable: {
    from: ["pending"],
    to: "uploading",
    by: ["uploader"],
    // No stale rule: the session holds the slot until it completes, is terminated or expires.
    why: "a resumable upload session takes the slot until it ends",
  },
  releaseResumable: {
    from: ["uploading"],
    to: "pending",
    by: ["uploader"],
    why: "a terminated, refused or expired resumable upload gives the slot back",
  },
  releaseUpload: {
    from: ["uploading"],
    to: "pending",
    by: ["uploader"],
    why: "a failed transfer gives the slot back",
  },
  markUploaded: {
    from: ["uploading"],
    to: "uploaded",
    by: ["uploader"],
    why: "the original is stored; ImageUploaded is sent",
  },
  claimProcessing: {
    // A redelivered message finds its revision already `processing` and claims it again.
    from: ["uploaded", "processing"],
    to: "processing",
    by: ["processor"],
    why: "the processor starts (or restarts) a revision",
  },
  completeProcessing: {
    from: ["processing"],
    to: "ready",
    by: ["processor"],
    why: "variants stored; the revision is served",
  },
  fail: {
    from: ["uploaded", "processing"],
    to: "failed",
    by: ["uploader", "processor", "dead-letter", "sweeper"],
    why: "a permanent failure, retries exhausted, or the queue refused the event",
  },
  reprocess: {
    from: ["ready", "failed"],
    to: "uploaded",
    by: ["owner"],
    // Longer than any processing run with its retries: a lost event must not strand an image.
    stale: { from: ["uploaded", "processing"], afterMs: 30 * MINUTE },
    why: "a new revision from the stored upload",
  },
  requeue: {
    from: [],
    to: "uploaded",
    by: ["sweeper"],
    // The sweeper's own thresholds come from configuration (SWEEP_* variables).
    stale: { from: ["uploaded", "processing"], afterMs: 2 * MINUTE },
    why: "a revision that made no progress is sent to the queue again",
  },
  delete: {
    from: LIVE_STATUSES,
    to: "deleted",
    by: ["owner", "sweeper"],
    why: "hidden at once from every read; objects and rows are purged next",
  },
} as const satisfies Record<string, Transition>;

export type TransitionName = keyof typeof TRANSITIONS;

/** Whether `actor` may move an image in `status` (last changed at `updatedAt`) by `name`. */
export function canTransition(
  name: TransitionName,
  actor: Actor,
  status: ImageStatus,
  updatedAt: number,
  now: number,
): boolean {
  const t: Transition = TRANSITIONS[name];
  if (!t.by.includes(actor)) return false;
  if (t.from.includes(status)) return true;
  return t.stale?.from.includes(status) === true && now - updatedAt > t.stale.afterMs;
}

/** Failure codes an image can end `failed` with: the transform's own plus the system's. */
export type FailureCode =
  | TransformErrorCode
  | "upload_missing"
  | "upload_too_large"
  | "enqueue_failed"
  | "processing_failed"
  | "processing_stalled";
