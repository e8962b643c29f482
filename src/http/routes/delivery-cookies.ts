import { Hono } from "hono";
import { generateCookie } from "hono/cookie";
import { z } from "zod";
import { deliveryCookieValue } from "../../auth/signed-cookies";
import { isImageId } from "../../domain/ids";
import { imagesForDeliveryCookie, MAX_COOKIE_IMAGES } from "../../use-cases/delivery-cookies";
import type { AppEnv } from "../context";
import { DELIVERY_COOKIE, isLocalHttp } from "../cookies";
import { requireJsonBody, requireUser } from "../middleware";
import { orThrow } from "../outcome";
import { validate } from "../validate";

const DEFAULT_TTL_SECONDS = 600;

const CookieBody = z
  .strictObject({
    imageIds: z
      .array(z.string().refine(isImageId, "must be an image id"))
      .min(1)
      .max(MAX_COOKIE_IMAGES)
      .optional(),
    /** Every image of one of the caller's albums, however many (checked per request). */
    albumId: z.string().refine(isImageId, "must be an album id").optional(),
    expiresIn: z.number().int().min(60).optional(),
    sameSite: z.enum(["Lax", "Strict", "None"]).default("Lax"),
  })
  .refine(
    (b) => (b.imageIds === undefined) !== (b.albumId === undefined),
    "send imageIds or albumId",
  );

/**
 * `POST /v1/delivery-cookies`: a short-lived, HttpOnly cookie that lets the page that asked
 * for it embed the caller's private images as plain `<img src="/d/{id}/{revision}/{variant}">`.
 */
export const deliveryCookiesApp = new Hono<AppEnv>().post(
  "/",
  requireUser("images:read"),
  requireJsonBody(),
  validate("json", CookieBody),
  async (c) => {
    const { config, deps, albums } = c.get("services");
    const body = c.req.valid("json");
    const ttl = Math.min(body.expiresIn ?? DEFAULT_TTL_SECONDS, config.deliveryCookieMaxTtlSeconds);
    const found = orThrow(
      await imagesForDeliveryCookie(
        { ...deps, albums },
        {
          principal: c.get("user"),
          target: body.albumId ? { albumId: body.albumId } : { imageIds: body.imageIds ?? [] },
        },
      ),
    );
    const expires = Math.floor(Date.now() / 1000) + ttl;
    const value = await deliveryCookieValue(
      config.signing,
      body.albumId ? { albumId: body.albumId } : { imageIds: found.map((f) => f.image.id) },
      expires,
    );
    const local = isLocalHttp(c.req.url);
    c.header(
      "Set-Cookie",
      generateCookie(DELIVERY_COOKIE, value, {
        path: "/d",
        httpOnly: true,
        // SameSite=None needs Secure in every browser; plain http works only on the loopback.
        secure: !local || body.sameSite === "None",
        sameSite: body.sameSite,
        maxAge: ttl,
      }),
    );
    c.header("Cache-Control", "private, no-store");
    const origin = new URL(c.req.url).origin;
    return c.json({
      expiresAt: new Date(expires * 1000).toISOString(),
      images: found.map(({ image, variants }) => ({
        id: image.id,
        revision: image.servedRevision,
        urls: Object.fromEntries(
          [...new Set(variants.map((v) => v.name))].map((name) => [
            name,
            `${origin}/d/${image.id}/${image.servedRevision}/${name}`,
          ]),
        ),
      })),
    });
  },
);
