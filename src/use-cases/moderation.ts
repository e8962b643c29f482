import { canManage, type Principal } from "../domain/access";
import {
  type ClassifierRules,
  classify,
  type ModerationSource,
  type ModerationState,
  mayAppeal,
  percentile,
  type ReportReason,
  reportsMayHold,
} from "../domain/moderation";
import { fail, type Outcome, ok } from "../domain/result";
import type { ImageWithVariants } from "../storage/image-repository";
import type {
  ModerationEventRow,
  ModerationRepository,
  ReportRow,
} from "../storage/moderation-repository";
import type { ImageRow } from "../storage/schema";
import type { Deps } from "./deps";
import { recordAdminAction } from "./policies";
import { visibleTo } from "./read-images";

/** What the moderation use cases use. */
export type ModerationDeps = Pick<
  Deps,
  "images" | "events" | "now" | "log" | "metrics" | "invalidate" | "control"
> & {
  moderation: ModerationRepository;
};

/** The reason an image waits for the classifier (policy `holdUntilClassified`). */
export const HELD_UNTIL_CLASSIFIED = "held until the classifier has seen it";

/** The reason a new account's image waits for a person (policy `newAccountReview`). */
export const NEW_ACCOUNT_REVIEW = "new account upload burst";

/**
 * Moves an image to `to` if it is still in `from`: history row, cached copies purged (every
 * URL obeys the new state from the next request), `ModerationDecision` on the queue.
 */
async function move(
  deps: ModerationDeps,
  image: ImageRow,
  to: ModerationState,
  who: { source: ModerationSource; actor: string; reason: string; unlessAdminDecided?: boolean },
): Promise<boolean> {
  const at = deps.now();
  const from = image.moderation;
  if (from === to) return false;
  const moved = await deps.moderation.transition({ imageId: image.id, from, to, at, ...who });
  if (!moved) return false;
  if (image.servedRevision !== null) {
    await deps.invalidate.purge(
      { kind: "image", imageId: image.id, newestRevision: image.revision },
      "moderation",
      at,
    );
  }
  try {
    await deps.events.send({
      type: "ModerationDecision",
      v: 1,
      imageId: image.id,
      from,
      to,
      at,
      source: who.source,
      actor: who.actor,
      reason: who.reason,
    });
  } catch (err) {
    // The state and its history are written; the event is for consumers, not the decision.
    deps.log.warn("moderation_event_failed", { imageId: image.id, err });
  }
  deps.metrics.record({
    name: "moderation.decision",
    outcome: `${who.source}:${to}`,
    imageId: image.id,
  });
  return true;
}

/** The time of the last admin decision (0 when none): reports after it are the open ones. */
async function lastReviewAt(deps: ModerationDeps, imageId: string): Promise<number> {
  return (await deps.moderation.lastBy(imageId, "admin"))?.at ?? 0;
}

/** An admin's decision: allow or block, with a reason; audited, and measured (SLA, overturns). */
export async function decideImage(
  deps: ModerationDeps,
  input: { principal: Principal; imageId: string; decision: "allow" | "block"; reason: string },
): Promise<Outcome<ImageRow>> {
  if (!input.principal.admin) return fail("forbidden");
  const to: ModerationState = input.decision === "allow" ? "allowed" : "blocked";
  const who = { source: "admin" as const, actor: input.principal.userId, reason: input.reason };
  // The admin's word is final whatever happened meanwhile (a report, the classifier): each
  // attempt moves from the state just read; a lost race reads again.
  for (let attempt = 0; attempt < 3; attempt++) {
    const image = await deps.images.get(input.imageId);
    if (!image || image.status === "deleted") return fail("image_not_found");
    const open = await deps.moderation.openReports(image.id, await lastReviewAt(deps, image.id));
    const automatic = await deps.moderation.lastBy(image.id, "classifier");
    const applied =
      image.moderation === to
        ? // The same state again (an appeal refused, reports dismissed): still recorded, and
          // it closes the open reports and the appeal.
          await deps.moderation.transition({
            imageId: image.id,
            from: to,
            to,
            at: deps.now(),
            ...who,
          })
        : await move(deps, image, to, who);
    if (!applied) continue;
    const now = deps.now();
    if (to === "blocked" && open.firstAt !== null) {
      // The takedown SLA: from the first open report to the block.
      deps.metrics.record({
        name: "moderation.takedown",
        outcome: "reported",
        ms: now - open.firstAt,
        imageId: image.id,
      });
    }
    if (
      to === "allowed" &&
      automatic &&
      automatic.toState !== "allowed" &&
      automatic.at === image.moderationUpdatedAt
    ) {
      // The classifier took it down and a person put it back: a false positive.
      deps.metrics.record({
        name: "moderation.overturned",
        outcome: `classifier:${automatic.toState}`,
        imageId: image.id,
      });
    }
    await recordAdminAction(deps, input.principal, `image.${input.decision}`, image.id, {
      from: image.moderation,
      reason: input.reason,
    });
    return ok((await deps.images.get(image.id)) ?? image);
  }
  return fail("moderation_conflict", "The image's state kept changing; decide again.");
}

/** A signed-in user's report; N distinct reporters move an allowed image to review. */
export async function reportImage(
  deps: ModerationDeps,
  input: {
    principal: Principal | null;
    /** Set when reported from a share page: the share already granted the view. */
    viaShare?: boolean;
    reporterId: string;
    imageId: string;
    reason: ReportReason;
    note: string | null;
    threshold: number;
  },
): Promise<Outcome<{ accepted: true; duplicate: boolean; state: ModerationState }>> {
  const image = await deps.images.get(input.imageId);
  const visible =
    image &&
    image.status !== "deleted" &&
    (input.viaShare
      ? !(await deps.control.isSuspended(image.ownerId))
      : await visibleTo(deps, image, input.principal));
  if (!image || !visible) return fail("image_not_found");
  const row: ReportRow = {
    imageId: image.id,
    reporterId: input.reporterId,
    reason: input.reason,
    note: input.note,
    at: deps.now(),
  };
  const report = await deps.moderation.report(row, await lastReviewAt(deps, image.id));
  let state = image.moderation;
  if (report.added && reportsMayHold(image.moderation, report.reporters, input.threshold)) {
    const reason = `${report.reporters} users reported it`;
    if (
      await move(deps, image, "pending_review", { source: "reports", actor: "reports", reason })
    ) {
      state = "pending_review";
    }
  }
  if (report.added)
    deps.metrics.record({ name: "moderation.report", outcome: input.reason, imageId: image.id });
  return ok({ accepted: true, duplicate: !report.added, state });
}

/** The owner's one appeal against a hold or a block: back into the review queue. */
export async function appealImage(
  deps: ModerationDeps,
  input: { principal: Principal; imageId: string; note: string | null },
): Promise<Outcome<ImageWithVariants>> {
  const image = await deps.images.get(input.imageId);
  if (!image || image.status === "deleted" || !canManage(image, input.principal)) {
    return fail("image_not_found");
  }
  if (image.ownerId !== input.principal.userId) {
    return fail("appeal_not_allowed", "Only the owner may appeal.");
  }
  if (!mayAppeal(image)) {
    return fail(
      "appeal_not_allowed",
      image.moderation === "allowed"
        ? "The image is not held or blocked."
        : "The image was already appealed.",
    );
  }
  const at = deps.now();
  if (!(await deps.moderation.appeal(image.id, input.note, at))) {
    return fail("appeal_not_allowed", "The image was already appealed.");
  }
  await deps.moderation.record({
    imageId: image.id,
    from: image.moderation,
    to: image.moderation,
    source: "appeal",
    actor: input.principal.userId,
    reason: input.note ?? "appealed",
    at,
  });
  return ok((await deps.images.getWithVariants(image.id)) ?? { image, variants: [] });
}

/** The review queue with each image's reports (admins). */
export async function moderationQueue(
  deps: ModerationDeps,
  input: { principal: Principal; limit: number; cursor: string | null },
): Promise<
  Outcome<{ items: { image: ImageRow; reports: ReportRow[] }[]; nextCursor: string | null }>
> {
  if (!input.principal.admin) return fail("forbidden");
  const page = await deps.moderation.queue(input.limit, input.cursor);
  const reports = await deps.moderation.reportsOf(page.items.map((i) => i.id));
  return ok({
    items: page.items.map((image) => ({
      image,
      reports: reports.filter((r) => r.imageId === image.id).slice(0, 20),
    })),
    nextCursor: page.nextCursor,
  });
}

/**
 * The classifier's verdict on a ready revision: scores stored, and the state moved by the
 * rules. It never overrides a person: an image an admin decided keeps that decision, and
 * only the policy's "held until classified" hold is released by a clean verdict.
 */
export async function applyClassification(
  deps: ModerationDeps,
  input: {
    image: ImageRow;
    classifier: string;
    scores: Record<string, number>;
    rules: ClassifierRules;
  },
): Promise<{ action: string; changed: boolean; state: ModerationState }> {
  const { image } = input;
  await deps.moderation.saveScores(
    image.id,
    JSON.stringify({
      classifier: input.classifier,
      revision: image.revision,
      scores: input.scores,
    }),
  );
  // An admin's decision wins: every move below is refused in SQL once one exists.
  const verdict = classify(input.scores, input.rules);
  const who = {
    source: "classifier" as const,
    actor: input.classifier,
    reason: verdict.reason,
    unlessAdminDecided: true,
  };
  const held =
    image.moderation === "pending_review" && image.moderationReason === HELD_UNTIL_CLASSIFIED;
  let to: ModerationState | null = null;
  if (verdict.action === "block" && image.moderation !== "blocked") to = "blocked";
  else if (verdict.action === "pending_review" && image.moderation === "allowed")
    to = "pending_review";
  else if (verdict.action === "pending_review" && held) to = "pending_review";
  else if (verdict.action === "allow" && held) to = "allowed";
  const kept = { action: verdict.action, changed: false, state: image.moderation };
  if (to === null) return kept;
  if (to === image.moderation) {
    // A hold becomes a classifier's review: same state, the reason and history say why.
    if (
      await deps.moderation.transition({ imageId: image.id, from: to, to, at: deps.now(), ...who })
    ) {
      // The classifier's hold, for the figures, although the state did not change.
      deps.metrics.record({
        name: "moderation.decision",
        outcome: `classifier:${to}`,
        imageId: image.id,
      });
    }
    return kept;
  }
  const changed = await move(deps, image, to, who);
  return changed ? { action: verdict.action, changed, state: to } : kept;
}

/** An image's moderation history, oldest first (admins). */
export async function moderationHistory(
  deps: ModerationDeps,
  input: { principal: Principal; imageId: string },
): Promise<Outcome<ModerationEventRow[]>> {
  if (!input.principal.admin) return fail("forbidden");
  if (!(await deps.images.get(input.imageId))) return fail("image_not_found");
  return ok(await deps.moderation.history(input.imageId));
}

/**
 * The moderation figures over the last `days` (admins): takedown SLA (first open report to
 * the block), automatic decisions and how many a person overturned (false positives), and
 * the classifier's time per image.
 */
export async function moderationFigures(
  deps: ModerationDeps,
  input: { principal: Principal; days: number },
) {
  if (!input.principal.admin) return fail("forbidden");
  const since = deps.now() - input.days * 86_400_000;
  const [takedowns, classify, decisions, overturned] = await Promise.all([
    deps.moderation.durations("moderation.takedown", since),
    deps.moderation.durations("moderation.classify", since),
    deps.moderation.counts("moderation.decision", since),
    deps.moderation.counts("moderation.overturned", since),
  ]);
  const automatic =
    (decisions.get("classifier:blocked") ?? 0) + (decisions.get("classifier:pending_review") ?? 0);
  const overturnedCount = [...overturned.values()].reduce((a, b) => a + b, 0);
  const stats = (values: number[]) => ({
    count: values.length,
    p50Ms: percentile(values, 50),
    p95Ms: percentile(values, 95),
    maxMs: values.at(-1) ?? null,
  });
  return ok({
    days: input.days,
    takedownSla: stats(takedowns),
    automatic: {
      takedowns: automatic,
      overturned: overturnedCount,
      falsePositiveRate: automatic === 0 ? null : overturnedCount / automatic,
    },
    classifier: stats(classify),
    decisions: Object.fromEntries(decisions),
  });
}
