import { newShareToken, parseShareToken } from "../auth/credentials";
import { hashPassword, secretDigest, secretMatches, verifyPassword } from "../auth/secrets";
import type { ShareSession } from "../auth/signed-cookies";
import { canManage, type Principal } from "../domain/access";
import { stringList } from "../domain/json-list";
import { fail, type Outcome, ok, rateLimited } from "../domain/result";
import {
  albumTarget,
  imageTarget,
  type ShareLimits,
  type ShareState,
  shareExpiry,
  shareState,
} from "../domain/shares";
import type { AlbumRepository } from "../storage/album-repository";
import type { AlbumRow, ImageRow, ShareRow, VariantRow } from "../storage/schema";
import type { ShareRepository, ShareWithTarget } from "../storage/share-repository";
import type { Deps } from "./deps";

/** A counter of attempts per key over a fixed window (the Workers rate-limiting binding). */
export interface RateLimiter {
  /** Counts one attempt; false when the key is over its limit. */
  limit(key: string): Promise<boolean>;
  /** The window, for `Retry-After`. */
  periodSeconds: number;
}

/** What the share use cases use. */
export type ShareDeps = Pick<Deps, "images" | "now" | "metrics" | "policy" | "control"> & {
  shares: ShareRepository;
  albums: AlbumRepository;
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

/** What a share shows, as its owner names it. */
export type ShareTargetRef =
  | { kind: "image"; imageId: string }
  | { kind: "album"; albumId: string };

/** A share target that was found and may be managed by the caller. */
type Target =
  | { kind: "image"; image: ImageRow; ownerId: string; shareVersion: number }
  | { kind: "album"; album: AlbumRow; ownerId: string; shareVersion: number };

async function manageableTarget(
  deps: ShareDeps,
  ref: ShareTargetRef,
  principal: Principal,
): Promise<Outcome<Target>> {
  if (ref.kind === "image") {
    const image = await deps.images.get(ref.imageId);
    if (!image || !canManage(image, principal)) return fail("image_not_found");
    return ok({ kind: "image", image, ownerId: image.ownerId, shareVersion: image.shareVersion });
  }
  const album = await deps.albums.get(ref.albumId);
  if (!album || !canManage(album, principal)) return fail("album_not_found");
  return ok({ kind: "album", album, ownerId: album.ownerId, shareVersion: album.shareVersion });
}

function factsOf(found: ShareWithTarget) {
  return {
    share: found.share,
    target: found.image ? imageTarget(found.image) : albumTarget(found.album),
  };
}

/** Creates a share link of an image or album for its owner (or an admin); the token is shown once. */
export async function createShare(
  deps: ShareDeps,
  input: { principal: Principal; target: ShareTargetRef; options: ShareOptions },
): Promise<Outcome<{ view: ShareView; token: string }>> {
  const target = await manageableTarget(deps, input.target, input.principal);
  if (!target.ok) return target;
  const t = target.value;
  if (t.kind === "image" && t.image.servedRevision === null) {
    return fail("image_not_ready", "Share an image once it has been processed.");
  }
  const now = deps.now();
  // The owner's policy may keep share links shorter than the deployment does.
  const policy = await deps.policy(t.ownerId);
  const limits = {
    ...deps.limits,
    maxTtlSeconds: Math.min(deps.limits.maxTtlSeconds, policy.shareMaxTtl),
  };
  const expiry = shareExpiry(input.options.expiresIn, limits, now);
  if (!expiry.ok) return expiry;
  const token = newShareToken();
  const { password, allowedReferers } = input.options;
  const share: ShareRow = {
    id: token.id,
    imageId: t.kind === "image" ? t.image.id : null,
    albumId: t.kind === "album" ? t.album.id : null,
    createdBy: input.principal.userId,
    secretDigest: await secretDigest(token.secret),
    shareVersion: t.shareVersion,
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
  deps.metrics.record({ name: "share.create", outcome: t.kind });
  return ok({ view: viewOf(share, "active"), token: token.text });
}

/** The shares of an image or album, with their status, for its owner (or an admin). */
export async function listShares(
  deps: ShareDeps,
  input: { principal: Principal; target: ShareTargetRef },
): Promise<Outcome<ShareView[]>> {
  const found = await manageableTarget(deps, input.target, input.principal);
  if (!found.ok) return found;
  const t = found.value;
  const now = deps.now();
  const rows =
    t.kind === "image"
      ? await deps.shares.listForImage(t.image.id)
      : await deps.shares.listForAlbum(t.album.id);
  const target = t.kind === "image" ? imageTarget(t.image) : albumTarget(t.album);
  return ok(rows.map((share) => viewOf(share, shareState({ share, target }, now))));
}

/** Revokes one share: the next request for it is a 404, wherever it was cached. */
export async function revokeShare(
  deps: ShareDeps,
  input: { principal: Principal; shareId: string },
): Promise<Outcome<null>> {
  const found = await deps.shares.get(input.shareId);
  const owner = found?.image ?? found?.album;
  if (!found || !owner || !canManage(owner, input.principal)) return fail("share_not_found");
  await deps.shares.revoke(found.share.id, deps.now());
  deps.metrics.record({ name: "share.revoke", outcome: "one" });
  return ok(null);
}

/** Revokes every share of an image or album at once (its share version moves on). */
export async function revokeAllShares(
  deps: ShareDeps,
  input: { principal: Principal; target: ShareTargetRef },
): Promise<Outcome<null>> {
  const found = await manageableTarget(deps, input.target, input.principal);
  if (!found.ok) return found;
  const t = found.value;
  const now = deps.now();
  const bumped =
    t.kind === "image"
      ? await deps.images.bumpShareVersion(t.image.id, now)
      : await deps.albums.bumpShareVersion(t.album.id, now);
  if (!bumped) return fail(t.kind === "image" ? "image_not_found" : "album_not_found");
  deps.metrics.record({ name: "share.revoke", outcome: "all" });
  return ok(null);
}

/**
 * The share a token names, when it can still be opened. Unknown, malformed, wrong-secret,
 * revoked, expired and unavailable all come out as the same null.
 */
async function lookup(deps: ShareDeps, token: string): Promise<ShareWithTarget | null> {
  const parts = parseShareToken(token);
  if (!parts) return null;
  const found = await deps.shares.get(parts.id);
  // Compared even for an unknown id, so a miss and a wrong secret take the same work.
  const matches = await secretMatches(parts.secret, found?.share.secretDigest ?? "");
  if (!found || !matches) return null;
  const state = shareState(factsOf(found), deps.now());
  if (state !== "active" && state !== "exhausted") return null;
  const owner = found.image?.ownerId ?? found.album?.ownerId ?? "";
  return (await deps.control.isSuspended(owner)) ? null : found;
}

/** An opened share: what to show, and the session to remember in the browser. */
export interface OpenedShare {
  share: ShareRow;
  /** The shared image, or null for an album share. */
  image: ImageRow | null;
  /** The shared album, or null for an image share. */
  album: AlbumRow | null;
  /** True when the password has not been given yet: show the form, nothing else. */
  locked: boolean;
  /** Sites that may embed the share's variants (empty: any). */
  allowedReferers: string[];
  session: ShareSession;
}

function opened({ share, image, album }: ShareWithTarget): Omit<OpenedShare, "session"> {
  return { share, image, album, locked: false, allowedReferers: stringList(share.allowedReferers) };
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
  const { share } = found;
  if (share.passwordHash !== null && !input.session.unlocked) {
    if (input.purpose === "variant") return fail("share_locked");
    return ok({ ...opened(found), locked: true, session: input.session });
  }
  if (!input.session.counted && !(await deps.shares.countView(share.id, deps.now()))) {
    return fail("share_not_found");
  }
  deps.metrics.record({ name: "share.open", outcome: input.purpose });
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
  const { share } = found;
  const unlocked: OpenedShare = { ...opened(found), session: { unlocked: true, counted: false } };
  if (share.passwordHash === null) return ok(unlocked);
  const { perClient, perShare } = deps.unlockLimiters;
  const allowed =
    (await perClient.limit(`${share.id}:${input.client}`)) && (await perShare.limit(share.id));
  if (!allowed) {
    deps.metrics.record({ name: "share.unlock", outcome: "rate_limited" });
    return rateLimited(
      "Too many password attempts for this share; wait a minute.",
      Math.max(perClient.periodSeconds, perShare.periodSeconds),
    );
  }
  if (!(await verifyPassword(input.password, share.passwordHash))) {
    deps.metrics.record({ name: "share.unlock", outcome: "wrong_password" });
    return fail("share_password_invalid");
  }
  deps.metrics.record({ name: "share.unlock", outcome: "unlocked" });
  return ok(unlocked);
}
