import { Hono } from "hono";
import { z } from "zod";
import { isCredentialId } from "../../auth/credentials";
import { ApiError } from "../../domain/errors";
import { isImageId } from "../../domain/ids";
import {
  createShare,
  listShares,
  revokeAllShares,
  revokeShare,
  type ShareTargetRef,
  type ShareView,
} from "../../use-cases/shares";
import type { AppEnv } from "../context";
import { requireJsonBody, requireUser } from "../middleware";
import { orThrow } from "../outcome";
import { RefererPatterns } from "../schemas";
import { validate } from "../validate";

const CreateShareBody = z.strictObject({
  /** Seconds; capped by SHARE_MAX_TTL_SECONDS. "never" only where SHARE_ALLOW_NEVER is on. */
  expiresIn: z.union([z.number().int().min(60), z.literal("never")]).optional(),
  password: z.string().min(4).max(1024).optional(),
  allowDownload: z.boolean().optional(),
  maxViews: z.number().int().min(1).max(1_000_000).optional(),
  allowedReferers: RefererPatterns.optional(),
});

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function presentShare({ share, status, allowedReferers }: ShareView) {
  return {
    id: share.id,
    imageId: share.imageId,
    albumId: share.albumId,
    status,
    createdAt: iso(share.createdAt),
    expiresAt: iso(share.expiresAt),
    revokedAt: iso(share.revokedAt),
    hasPassword: share.passwordHash !== null,
    allowDownload: share.allowDownload,
    maxViews: share.maxViews,
    views: share.views,
    allowedReferers,
  };
}

/** The target a path names: `/images/{id}` or `/albums/{id}`; a malformed id is not found. */
function targetParam(kind: "images" | "albums", raw: string | undefined): ShareTargetRef {
  if (kind === "images") {
    if (raw === undefined || !isImageId(raw)) throw new ApiError("image_not_found");
    return { kind: "image", imageId: raw };
  }
  if (raw === undefined || !isImageId(raw)) throw new ApiError("album_not_found");
  return { kind: "album", albumId: raw };
}

const NO_STORE = { "Cache-Control": "private, no-store" };

/** The share routes of one kind of target: `/{kind}/{id}/shares`. */
function targetShares(kind: "images" | "albums") {
  return new Hono<AppEnv>()
    .post(
      "/:id/shares",
      requireUser("shares:write"),
      requireJsonBody(),
      validate("json", CreateShareBody),
      async (c) => {
        const { view, token } = orThrow(
          await createShare(c.get("services").shareDeps, {
            principal: c.get("user"),
            target: targetParam(kind, c.req.param("id")),
            options: c.req.valid("json"),
          }),
        );
        const url = new URL(`/s/${token}`, c.req.url).toString();
        c.header("Location", `/v1/${kind}/${c.req.param("id")}/shares`);
        return c.json({ ...presentShare(view), token, url }, 201, NO_STORE);
      },
    )
    .get("/:id/shares", requireUser("shares:read"), async (c) => {
      const views = orThrow(
        await listShares(c.get("services").shareDeps, {
          principal: c.get("user"),
          target: targetParam(kind, c.req.param("id")),
        }),
      );
      return c.json({ items: views.map(presentShare) }, 200, NO_STORE);
    })
    .delete("/:id/shares", requireUser("shares:write"), async (c) => {
      orThrow(
        await revokeAllShares(c.get("services").shareDeps, {
          principal: c.get("user"),
          target: targetParam(kind, c.req.param("id")),
        }),
      );
      return c.body(null, 204);
    });
}

/**
 * Share links, mounted at `/v1`: `/images/{id}/shares`, `/albums/{id}/shares` and
 * `/shares/{id}`.
 */
export const sharesApp = new Hono<AppEnv>()
  .route("/images", targetShares("images"))
  .route("/albums", targetShares("albums"))
  .delete("/shares/:id", requireUser("shares:write"), async (c) => {
    const shareId = c.req.param("id");
    if (!isCredentialId(shareId)) throw new ApiError("share_not_found");
    orThrow(await revokeShare(c.get("services").shareDeps, { principal: c.get("user"), shareId }));
    return c.body(null, 204);
  });
