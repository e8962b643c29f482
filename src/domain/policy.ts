import { z } from "zod";
import { normaliseRefererPattern } from "./hotlink";

/**
 * Policies (docs/api.md, "Policies"): what a user may upload and how their images are served.
 * One global document over the built-in defaults, and per-user overrides that hold only the
 * fields they change. Pure: storage and caching are in use-cases/policies.ts.
 */

export const IMAGE_FORMATS = ["jpeg", "png", "gif", "webp", "avif", "heic"] as const;

/** A variant preset's box; bounded so the processor's memory model stays valid. */
const Box = (maxSide: number) =>
  z.strictObject({
    width: z.number().int().min(16).max(maxSide),
    height: z.number().int().min(16).max(maxSide),
  });

const RefererPattern = z
  .string()
  .max(260)
  .transform((value, ctx) => {
    const pattern = normaliseRefererPattern(value);
    if (pattern === null) {
      ctx.addIssue({ code: "custom", message: "must be a host, *.host or *" });
      return z.NEVER;
    }
    return pattern;
  });

/** Every field of a policy, each with its own rule. */
export const PolicyFields = {
  /** Largest upload (the deployment's MAX_UPLOAD_BYTES / RESUMABLE_MAX_UPLOAD_BYTES still cap it). */
  maxUploadBytes: z.number().int().positive(),
  /** Largest width x height (the processor's MAX_PIXELS still caps it). */
  maxPixels: z.number().int().positive().max(100_000_000),
  allowedFormats: z
    .array(z.enum(IMAGE_FORMATS))
    .min(1)
    .transform((xs) => [...new Set(xs)]),
  /** Most live images; null: no limit. */
  maxImages: z.number().int().nonnegative().nullable(),
  /** Most bytes of originals stored; null: no limit. */
  maxStorageBytes: z.number().int().nonnegative().nullable(),
  /** Most images created in a UTC day; null: no limit. */
  uploadsPerDay: z.number().int().nonnegative().nullable(),
  /** What the served bytes keep: nothing but orientation, or copyright and camera too. */
  metadataPolicy: z.enum(["strip_all", "keep_copyright"]),
  variantPresets: z.strictObject({ thumb: Box(512), medium: Box(1600), large: Box(2048) }),
  defaultVisibility: z.enum(["public", "unlisted", "private"]),
  /** Longest life of a signed view URL, seconds (VIEW_URL_TTL_SECONDS still caps it). */
  signedUrlMaxTtl: z.number().int().min(10),
  /** Longest life of a share link, seconds (SHARE_MAX_TTL_SECONDS still caps it). */
  shareMaxTtl: z.number().int().min(60),
  /** Sites allowed to embed every public image, on top of each owner's own list. */
  hotlinkAllowedReferers: z.array(RefererPattern).max(100),
  /** For owners who set no rules of their own: whether requests without Referer are served. */
  hotlinkAllowEmptyReferer: z.boolean(),
  /** Embedded views from other sites an owner's images may get per UTC day; null: no limit. */
  hotlinkRequestsPerDay: z.number().int().nonnegative().nullable(),
  /** Views one share link may get per UTC day; null: no limit. */
  shareRequestsPerDay: z.number().int().nonnegative().nullable(),
  /** New images wait in `pending_review` until the classifier has seen them (then allowed or not). */
  holdUntilClassified: z.boolean(),
  /** What a view over budget gets. */
  overBudgetResponse: z.enum(["placeholder", "429"]),
  /**
   * New-account burst: an account younger than `accountAgeHours` that creates more than
   * `uploadsPerHour` images has its next ones held for review (moderation `pending_review`).
   * Null: off.
   */
  newAccountReview: z
    .strictObject({
      accountAgeHours: z
        .number()
        .int()
        .min(1)
        .max(24 * 365),
      uploadsPerHour: z.number().int().min(1),
    })
    .nullable(),
};

/** A whole policy. */
export const Policy = z.strictObject(PolicyFields);
export type Policy = z.infer<typeof Policy>;

/** A policy document as stored and set: only the fields it changes. */
export const PolicyOverride = Policy.partial();
export type PolicyOverride = z.infer<typeof PolicyOverride>;

/** The built-in defaults, under every global document. */
export const DEFAULT_POLICY: Policy = Object.freeze({
  maxUploadBytes: 32 * 1024 * 1024,
  maxPixels: 100_000_000,
  allowedFormats: [...IMAGE_FORMATS],
  maxImages: null,
  maxStorageBytes: null,
  uploadsPerDay: null,
  metadataPolicy: "strip_all",
  variantPresets: {
    thumb: { width: 256, height: 256 },
    medium: { width: 1024, height: 1024 },
    large: { width: 2048, height: 2048 },
  },
  defaultVisibility: "private",
  signedUrlMaxTtl: 300,
  shareMaxTtl: 30 * 86400,
  hotlinkAllowedReferers: [],
  hotlinkAllowEmptyReferer: true,
  hotlinkRequestsPerDay: null,
  shareRequestsPerDay: null,
  holdUntilClassified: false,
  overBudgetResponse: "placeholder",
  newAccountReview: null,
}) as Policy;

/** Lays overrides over a policy, field by field (later ones win). */
export function applyOverrides(base: Policy, ...overrides: readonly PolicyOverride[]): Policy {
  const out: Record<string, unknown> = { ...base };
  for (const o of overrides) {
    for (const [key, value] of Object.entries(o)) if (value !== undefined) out[key] = value;
  }
  return out as Policy;
}

/** The UTC day of a time, as `YYYY-MM-DD` (daily counters). */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Seconds until the next UTC midnight (Retry-After of a daily limit). */
export function secondsUntilNextDay(ms: number): number {
  const next = Date.UTC(
    new Date(ms).getUTCFullYear(),
    new Date(ms).getUTCMonth(),
    new Date(ms).getUTCDate() + 1,
  );
  return Math.max(1, Math.ceil((next - ms) / 1000));
}
