import { fail, type Outcome, ok } from "./result";

/**
 * Share links (docs/api.md, "Share links"): who may see an image through a token, until
 * when and how often. Pure rules; the use cases in use-cases/shares.ts apply them.
 */

/** The deployment's limits on share lifetimes (configuration). */
export interface ShareLimits {
  defaultTtlSeconds: number;
  maxTtlSeconds: number;
  /** Whether `expiresIn: "never"` is accepted. */
  allowNever: boolean;
}

/** The expiry of a new share (Unix ms, null for never) from what the caller asked. */
export function shareExpiry(
  expiresIn: number | "never" | undefined,
  limits: ShareLimits,
  now: number,
): Outcome<number | null> {
  if (expiresIn === "never") {
    return limits.allowNever
      ? ok(null)
      : fail("validation_failed", "This deployment does not allow shares that never expire.");
  }
  const seconds = expiresIn ?? limits.defaultTtlSeconds;
  if (seconds > limits.maxTtlSeconds) {
    return fail(
      "validation_failed",
      `expiresIn: at most ${limits.maxTtlSeconds} seconds on this deployment.`,
    );
  }
  return ok(now + seconds * 1000);
}

/** Where a share stands. Only `active` serves anything; the others all answer 404. */
export type ShareState = "active" | "expired" | "revoked" | "exhausted" | "unavailable";

/** What the state depends on: the share row and what it shares. */
export interface ShareFacts {
  share: {
    shareVersion: number;
    expiresAt: number | null;
    revokedAt: number | null;
    maxViews: number | null;
    views: number;
  };
  /** The shared image or album: its share version, and whether it can be shown at all. */
  target: { shareVersion: number; available: boolean };
}

/** An image as a share target: shown once it has a served revision (moderation gates each view). */
export function imageTarget(image: {
  status: string;
  shareVersion: number;
  servedRevision: number | null;
  moderation: string;
}): ShareFacts["target"] {
  return {
    shareVersion: image.shareVersion,
    available: image.status !== "deleted" && image.servedRevision !== null,
  };
}

/** An album as a share target (its images are checked one by one when served). */
export function albumTarget(album: { shareVersion: number }): ShareFacts["target"] {
  return { shareVersion: album.shareVersion, available: true };
}

/**
 * The state of a share at `now`. `exhausted` means no new viewer may open it; a browser whose
 * view was already counted keeps its session (see use-cases/shares.ts).
 */
export function shareState({ share, target }: ShareFacts, now: number): ShareState {
  if (share.revokedAt !== null || share.shareVersion !== target.shareVersion) return "revoked";
  if (share.expiresAt !== null && share.expiresAt <= now) return "expired";
  if (!target.available) return "unavailable";
  if (share.maxViews !== null && share.views >= share.maxViews) return "exhausted";
  return "active";
}
