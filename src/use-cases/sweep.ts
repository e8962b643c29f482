import { purgeImage } from "./delete-image";
import type { Deps } from "./deps";
import { enqueueProcessing } from "./enqueue-processing";

/** The sweeper's thresholds (processor configuration, SWEEP_* variables). */
export interface SweepSettings {
  /** A `pending` or `uploading` image never finished after this long is deleted. */
  pendingTtlMs: number;
  /** An `uploaded` revision without progress this long is sent to the queue again. */
  uploadedStaleMs: number;
  /** Likewise for `processing` (longer than one processing run). */
  processingStaleMs: number;
  /** A `deleted` row older than this had its purge interrupted: purge it. */
  deletedStaleMs: number;
  /** Requeues of one revision before it ends `failed` with `processing_stalled`. */
  maxRequeues: number;
  /** Rows handled per category per run, so one run stays short. */
  batch: number;
}

/** What one sweep did. */
export interface SweepReport {
  expired: number;
  purged: number;
  requeued: number;
  failed: number;
}

/**
 * Repairs what crashes, lost messages and abandoned uploads leave behind. Idempotent (each
 * step is guarded by the state it read) and bounded per run by `batch`; safe to run often.
 */
export async function sweep(deps: Deps, settings: SweepSettings): Promise<SweepReport> {
  const started = deps.now();
  const report: SweepReport = { expired: 0, purged: 0, requeued: 0, failed: 0 };

  for (const id of await deps.images.abandonedUploads(
    started - settings.pendingTtlMs,
    started,
    settings.batch,
  )) {
    // markDeleted re-checks the state: an upload that just started is in `uploading` anew.
    if (await deps.images.markDeleted(id, deps.now())) {
      await purgeImage(deps, id);
      report.expired++;
    }
  }

  for (const id of await deps.images.idsIn(
    ["deleted"],
    started - settings.deletedStaleMs,
    settings.batch,
  )) {
    await purgeImage(deps, id);
    report.purged++;
  }

  const stalled = await deps.images.stalledRevisions(
    started - settings.uploadedStaleMs,
    started - settings.processingStaleMs,
    settings.batch,
  );
  for (const revision of stalled) {
    if (revision.requeues >= settings.maxRequeues) {
      const failed = await deps.images.markFailed(
        revision.id,
        revision.revision,
        "processing_stalled",
        `Processing made no progress after ${revision.requeues} retries; call :reprocess.`,
        deps.now(),
      );
      if (failed) report.failed++;
      continue;
    }
    // Processing is idempotent: a message that was only slow, not lost, does no harm twice.
    if (!(await deps.images.markRequeued(revision, deps.now()))) continue;
    const queued = await enqueueProcessing(deps, revision.id, revision.revision);
    if (queued.ok) report.requeued++;
  }

  const ms = deps.now() - started;
  deps.log.info("sweep", { ms, ...report });
  deps.metrics.record({
    name: "sweep",
    outcome:
      report.expired + report.purged + report.requeued + report.failed > 0 ? "repaired" : "clean",
    ms,
  });
  return report;
}
