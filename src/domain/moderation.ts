import { z } from "zod";
import { type Failure, fail } from "./result";

/**
 * Moderation (docs/api.md, "Moderation"): a state per image, separate from its processing
 * status, set by the classifier, by reports, by the new-account rule and by admins. Pure.
 */

export const MODERATION_STATES = ["allowed", "pending_review", "blocked"] as const;
export type ModerationState = (typeof MODERATION_STATES)[number];

/** What set a state; each change is one row of `moderation_events`. */
export type ModerationSource = "classifier" | "reports" | "admin" | "appeal" | "policy";

export const REPORT_REASONS = [
  "sexual",
  "violence",
  "harassment",
  "hate",
  "illegal",
  "spam",
  "copyright",
  "other",
] as const;
export type ReportReason = (typeof REPORT_REASONS)[number];

/** What an automatic decision may do with an image. */
export type ModerationAction = "allow" | "pending_review" | "block";

/** Per class: the score at which the image goes to review, and the one at which it is blocked. */
export const ClassifierRules = z.record(
  z.string().regex(/^[a-z][a-z0-9_]{0,31}$/),
  z
    .strictObject({
      review: z.number().min(0).max(1).optional(),
      block: z.number().min(0).max(1).optional(),
    })
    .refine((r) => r.review === undefined || r.block === undefined || r.review <= r.block, {
      message: "review must not be above block",
    }),
);
export type ClassifierRules = z.infer<typeof ClassifierRules>;

/**
 * Conservative defaults for nsfwjs's classes: only near-certain explicit content is blocked
 * outright; likely explicit or very suggestive images wait for a person. Drawings and
 * neutral images never act.
 */
export const DEFAULT_CLASSIFIER_RULES: ClassifierRules = {
  porn: { review: 0.7, block: 0.97 },
  hentai: { review: 0.7, block: 0.97 },
  sexy: { review: 0.9 },
};

/** What the scores mean under the rules: the strongest action any class reaches, and why. */
export function classify(
  scores: Readonly<Record<string, number>>,
  rules: ClassifierRules,
): { action: ModerationAction; reason: string } {
  let block: string | null = null;
  let review: string | null = null;
  for (const [name, rule] of Object.entries(rules)) {
    const score = scores[name];
    if (score === undefined || !Number.isFinite(score)) continue;
    const shown = `${name} ${score.toFixed(3)}`;
    if (rule.block !== undefined && score >= rule.block) block ??= `${shown} >= ${rule.block}`;
    if (rule.review !== undefined && score >= rule.review) review ??= `${shown} >= ${rule.review}`;
  }
  if (block) return { action: "block", reason: `classifier: ${block}` };
  if (review) return { action: "pending_review", reason: `classifier: ${review}` };
  return { action: "allow", reason: "classifier: below every threshold" };
}

/** How an image waiting for review is served to everyone but its owner and admins. */
export type PendingDelivery = "owner_only" | "blurred" | "451";

/** What a view of an image in `state` gets. */
export type ModerationGate = "serve" | "hide" | "blur" | "unavailable";

/**
 * The delivery rule: `blocked` is 451 everywhere; `pending_review` follows the configured
 * mode (`owner_only`: every delivery URL acts as if the image did not exist, signed ones too,
 * since a signed URL or cookie minted while it was allowed may be in anyone's hands; its owner
 * and admins still see it through the API and `/original`).
 */
export function moderationGate(state: string, pending: PendingDelivery): ModerationGate {
  if (state === "allowed") return "serve";
  if (state !== "pending_review") return "unavailable";
  switch (pending) {
    case "451":
      return "unavailable";
    case "blurred":
      return "blur";
    case "owner_only":
      return "hide";
  }
}

/** The p-th percentile (0-100) of ascending values, nearest rank; null when there are none. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] ?? null;
}

/** The 451 for an image moderation keeps from a view: blocked, or under review. */
export function moderationRefusal(state: string): { ok: false; error: Failure } {
  return state === "blocked"
    ? fail("content_blocked", "This image was blocked by moderation.")
    : fail("content_under_review", "This image is under review.");
}

/** Whether reports against an image in `state` may move it to review. */
export function reportsMayHold(
  state: string,
  distinctReporters: number,
  threshold: number,
): boolean {
  return state === "allowed" && distinctReporters >= threshold;
}

/** Whether the owner may still appeal: once, and only against a decision that took the image down. */
export function mayAppeal(image: { moderation: string; appealedAt: number | null }): boolean {
  return image.moderation !== "allowed" && image.appealedAt === null;
}

/** An IPv6 client counts by its /64 (one subscriber's block); IPv4 by its address. */
export function reporterAddress(ip: string): string {
  if (!ip.includes(":")) return ip;
  const [head = "", tail = ""] = ip.split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const full = ip.includes("::")
    ? [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill("0"), ...right]
    : left;
  return `${full
    .slice(0, 4)
    .map((h) => h.toLowerCase().replace(/^0+(?=.)/, ""))
    .join(":")}::/64`;
}
