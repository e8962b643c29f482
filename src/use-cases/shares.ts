import { newShareToken, parseShareToken } from "../auth/credentials";
import { hashPassword, secretDigest, secretMatches, verifyPassword } from "../auth/secrets";
import type { ShareSession } from "../auth/signed-cookies";
import { canManage, type Principal } from "../domain/access";
import { stringList } from "../domain/json-list";
import { fail, type Outcome, ok, rateLimited } from "../domain/result";
import { type ShareLimits, type ShareState, shareExpiry, shareState } from "../domain/shares";
import type { ImageRow, ShareRow, VariantRow } from "../storage/schema";
import type { ShareRepository, ShareWithImage } from "../storage/share-repository";
import type { Deps } from "./deps";

/** A counter of attempts per key over a fixed window (the Workers rate-limiting binding). */
export interface RateLimiter {
  /** Counts one attempt; false when the key is over its limit. */
  limit(key: string): Promise<boolean>;
  /** The window, for `Retry-After`. */
  periodSeconds: number;
}

/** What the share use cases use. */
export type ShareDeps = Pick<Deps, "images" | "now" | "metrics"> & {
  shares: ShareRepository;
  limits: ShareLimits;
  /** Password attempts per share and client, and per share from anywhere. */
  unlockLimiters: { perClient: RateLimiter; perShare: RateLimiter };
};

/** What the owner chooses for a new share. */
export interface ShareOptions {
  expiresIn?: number | "never" | undefined;
  password?: string | undefined;
  allowDownload?: boolean | undefined;
  maxViews?: number | undefined;
  allowedReferers?: string[] | undefined;
}

/** A share as its owner sees it (never its token). */
export interface ShareView {
  share: ShareRow;
  status: ShareState;
  allowedReferers: string[];
}

function viewOf(share: ShareRow, status: ShareState): ShareView {
  return { share, status, allowedReferers: stringList(share.allowedReferers) };
}

async function manageableImage(
  deps: ShareDeps,
  imageId: string,
  principal: Principal,
): Promise<ImageRow | null> {
  const image = await deps.images.get(imageId);
  return image && canManage(image, principal) ? image : null;
}

/** Creates a share link of an image for its owner (or an admin); the token is shown once. */
export async function createShare(
  deps: ShareDeps,
  input: { principal: Principal; imageId: string; options: ShareOptions },
): Promise<Outcome<{ view: ShareView; token: string }>> {
  const image = await manageableImage(deps, input.imageId, input.principal);
  if (!image) return fail("image_not_found");
  if (image.servedRevision === null) {
    return fail("image_not_ready", "Share an image once it has been processed.");
  }
  const now = deps.now();
  const expiry = shareExpiry(input.options.expiresIn, deps.limits, now);
  if (!expiry.ok) return expiry;
  const token = newShareToken();
  const { password, allowedReferers } = input.options;
  const share: ShareRow = {
    id: token.id,
    imageId: image.id,
    albumId: null,
    createdBy: input.principal.userId,
    secretDigest: await secretDigest(token.secret),
    shareVersion: image.shareVersion,
    passwordHash: password === undefined ? null : await hashPassword(password),
    allowDownload: input.options.allowDownload ?? false,
    maxViews: input.options.maxViews ?? null,
    views: 0,
    allowedReferers: allowedReferers?.length ? JSON.stringify(allowedReferers) : null,
    createdAt: now,
    expiresAt: expiry.value,
    revokedAt: null,
  };
  await deps.shares.create(share);
  deps.metrics.record({ name: "share.create", outcome: "created", imageId: image.id });
  return ok({ view: viewOf(share, "active"), token: token.text });
}

/** An image's shares with their status, for its owner (or an admin). */
export async function listShares(
  deps: ShareDeps,
  input: { principal: Principal; imageId: string },
): Promise<Outcome<ShareView[]>> {
  const image = await manageableImage(deps, input.imageId, input.principal);
  if (!image) return fail("image_not_found");
  const now = deps.now();
  const rows = await deps.shares.listForImage(image.id);
  return ok(rows.map((share) => viewOf(share, shareState({ share, image }, now))));
}

/** Revokes one share: the next request for it is a 404, wherever it was cached. */
export async function revokeShare(
  deps: ShareDeps,
  input: { principal: Principal; shareId: string },
): Promise<Outcome<null>> {
  const found = await deps.shares.get(input.shareId);
  if (!found || !canManage(found.image, input.principal)) return fail("share_not_found");
  await deps.shares.revoke(found.share.id, deps.now());
  deps.metrics.record({ name: "share.revoke", outcome: "one", imageId: found.image.id });
  return ok(null);
}

/** Revokes every share of an image at once (its share version moves on). */
export async function revokeAllShares(
  deps: ShareDeps,
  input: { principal: Principal; imageId: string },
): Promise<Outcome<null>> {
  const image = await manageableImage(deps, input.imageId, input.principal);
  if (!image || !(await deps.images.bumpShareVersion(image.id, deps.now()))) {
    return fail("image_not_found");
  }
  deps.metrics.record({ name: "share.revoke", outcome: "all", imageId: image.id });
  return ok(null);
}

/**
 * The share a token names, when it can still be opened. Unknown, malformed, wrong-secret,
 * revoked, expired and unavailable all come out as the same null.
 */
async function lookup(deps: ShareDeps, token: string): Promise<ShareWithImage | null> {
  const parts = parseShareToken(token);
  if (!parts) return null;
  const found = await deps.shares.get(parts.id);
  // Compared even for an unknown id, so a miss and a wrong secret take the same work.
  const matches = await secretMatches(parts.secret, found?.share.secretDigest ?? "");
  if (!found || !matches) return null;
  const state = shareState(found, deps.now());
  return state === "active" || state === "exhausted" ? found : null;
}

/** An opened share: what to show, and the session to remember in the browser. */
export interface OpenedShare {
  share: ShareRow;
  image: ImageRow;
  /** True when the password has not been given yet: show the form, nothing else. */
  locked: boolean;
  /** Sites that may embed the share's variants (empty: any). */
  allowedReferers: string[];
  session: ShareSession;
}

function opened({ share, image }: ShareWithImage): Omit<OpenedShare, "session"> {
  return { share, image, locked: false, allowedReferers: stringList(share.allowedReferers) };
}

/**
 * Opens a share for a page or a variant request. A password-protected share stays locked
 * until the session says it was unlocked (a variant request is then refused); the first
 * request of a session counts one view, atomically, and a share out of views opens for no
 * new session.
 */
export async function openShare(
  deps: ShareDeps,
  input: { token: string; session: ShareSession; purpose: "page" | "variant" },
): Promise<Outcome<OpenedShare>> {
  const found = await lookup(deps, input.token);
  if (!found) return fail("share_not_found");
  const { share, image } = found;
  if (share.passwordHash !== null && !input.session.unlocked) {
    if (input.purpose === "variant") return fail("share_locked");
    return ok({ ...opened(found), locked: true, session: input.session });
  }
  if (!input.session.counted && !(await deps.shares.countView(share.id, deps.now()))) {
    return fail("share_not_found");
  }
  deps.metrics.record({ name: "share.open", outcome: input.purpose, imageId: image.id });
  return ok({ ...opened(found), session: { ...input.session, counted: true } });
}

/** The variants of the image a page shows (its served revision). */
export async function sharedVariants(deps: ShareDeps, image: ImageRow): Promise<VariantRow[]> {
  return (await deps.images.getWithVariants(image.id))?.variants ?? [];
}

/**
 * Checks a share's password. Attempts are limited per share and client and per share from
 * anywhere before the (slow) KDF runs; a share without a password opens without one.
 */
export async function unlockShare(
  deps: ShareDeps,
  input: { token: string; password: string; client: string },
): Promise<Outcome<OpenedShare>> {
  const found = await lookup(deps, input.token);
  if (!found) return fail("share_not_found");
  const { share, image } = found;
  const unlocked: OpenedShare = { ...opened(found), session: { unlocked: true, counted: false } };
  if (share.passwordHash === null) return ok(unlocked);
  const { perClient, perShare } = deps.unlockLimiters;
  const allowed =
    (await perClient.limit(`${share.id}:${input.client}`)) && (await perShare.limit(share.id));
  if (!allowed) {
    deps.metrics.record({ name: "share.unlock", outcome: "rate_limited", imageId: image.id });
    return rateLimited(
      "Too many password attempts for this share; wait a minute.",
      Math.max(perClient.periodSeconds, perShare.periodSeconds),
    );
  }
  if (!(await verifyPassword(input.password, share.passwordHash))) {
    deps.metrics.record({ name: "share.unlock", outcome: "wrong_password", imageId: image.id });
    return fail("share_password_invalid");
  }
  deps.metrics.record({ name: "share.unlock", outcome: "unlocked", imageId: image.id });
  return ok(unlocked);
}
