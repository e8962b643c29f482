import { Hono } from "hono";
import { z } from "zod";
import { signPath } from "../../auth/url-signing";
import type { Config } from "../../config/env";
import { isImageId } from "../../domain/ids";
import { VARIANT_NAMES } from "../../domain/images";
import type { Policy } from "../../domain/policy";
import { isValidCursor } from "../../storage/image-repository";
import type { ImageRow } from "../../storage/schema";
import { createImage } from "../../use-cases/create-image";
import { deleteImage } from "../../use-cases/delete-image";
import { getImage, listImages, openOriginal, viewPath } from "../../use-cases/read-images";
import { reprocessImage, updateImage } from "../../use-cases/update-image";
import type { AppEnv } from "../context";
import { idempotent } from "../idempotency";
import { requireJsonBody, requireUser, scopeIfSignedIn } from "../middleware";
import { orThrow } from "../outcome";
import { customMethodId, imageIdParam } from "../params";
import { presentImage } from "../present";
import { serveObject } from "../serve-object";
import { decimalInteger, validate } from "../validate";
import { TagFilter } from "./search";

const Visibility = z.enum(["public", "unlisted", "private"]);
const Title = z.string().trim().max(200);
const Description = z.string().max(5000);

/** Tags as sent; normalised (and held to their limits) by the use case. */
const Tags = z.array(z.string().max(200)).max(100);

const CreateImageBody = z.strictObject({
  tags: Tags.optional(),
  title: Title.optional(),
  description: Description.optional(),
  /** Absent: the owner's policy's defaultVisibility. */
  visibility: Visibility.optional(),
  filename: z
    .string()
    .max(255)
    .refine((name) => !/[/\\]/.test(name) && ![...name].some((ch) => ch < " "), {
      message: "must be a plain file name",
    })
    .optional(),
  contentType: z
    .string()
    .max(100)
    .regex(/^[\w.+-]+\/[\w.+-]+$/, "must be a media type")
    .optional(),
  size: z.number().int().positive().optional(),
});

const UpdateImageBody = z
  .strictObject({
    title: Title.nullable().optional(),
    description: Description.nullable().optional(),
    visibility: Visibility.optional(),
    tags: Tags.optional(),
  })
  .refine((b) => Object.keys(b).length > 0, "send at least one field");

const ListQuery = z.strictObject({
  cursor: z.string().max(200).refine(isValidCursor, "is not a valid cursor").optional(),
  limit: decimalInteger(1, 100).default(20),
  tag: TagFilter.optional(),
  album: z.string().refine(isImageId, "must be an album id").optional(),
});

const ViewQuery = z.strictObject({
  variant: z.enum(VARIANT_NAMES).default("medium"),
  redirect: z.enum(["true", "false"]).default("true"),
});

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/**
 * A new image with how to upload it: the single PUT (a signed URL) when the declared size
 * fits it, and the resumable path always.
 */
async function createdImage(
  config: Config,
  image: ImageRow,
  requestUrl: string,
  policy: Pick<Policy, "maxUploadBytes">,
) {
  const expires = nowSeconds() + config.uploadUrlTtlSeconds;
  const path = `/upload/${image.id}`;
  const query = await signPath(config.signing, "upload", path, expires);
  const onePutMax = Math.min(config.maxUploadBytes, policy.maxUploadBytes);
  const fitsOnePut = (image.declaredSize ?? 0) <= onePutMax;
  return {
    ...presentImage(image, [], new URL(requestUrl).origin),
    upload: fitsOnePut
      ? {
          url: new URL(`${path}?${query}`, requestUrl).toString(),
          method: "PUT",
          expiresAt: new Date(expires * 1000).toISOString(),
          maxBytes: image.declaredSize ?? onePutMax,
        }
      : null,
    resumable: {
      url: new URL("/v1/uploads:resumable", requestUrl).toString(),
      tusEndpoint: new URL("/v1/tus/", requestUrl).toString(),
      maxBytes: Math.min(config.resumable.maxBytes, policy.maxUploadBytes),
    },
  };
}

/** The /v1/images resource: routes parse, call a use case and present its result. */
export const imagesApp = new Hono<AppEnv>()
  .post(
    "/",
    requireUser("images:write"),
    requireJsonBody(),
    idempotent("POST /v1/images"),
    validate("json", CreateImageBody),
    async (c) => {
      const { config, deps } = c.get("services");
      const image = orThrow(
        await createImage(deps, {
          ownerId: c.get("user").userId,
          image: c.req.valid("json"),
          // Larger images come through the resumable path.
          maxUploadBytes: Math.max(config.maxUploadBytes, config.resumable.maxBytes),
        }),
      );
      c.header("Location", `/v1/images/${image.id}`);
      const policy = await deps.policy(image.ownerId);
      return c.json(await createdImage(config, image, c.req.url, policy), 201);
    },
  )
  .get("/", requireUser("images:read"), validate("query", ListQuery), async (c) => {
    const { cursor, limit, tag, album } = c.req.valid("query");
    const page = await listImages(c.get("services").deps, {
      ownerId: c.get("user").userId,
      limit,
      cursor: cursor ?? null,
      tag,
      albumId: album,
    });
    const origin = new URL(c.req.url).origin;
    return c.json({
      items: page.items.map((i) => presentImage(i.image, i.variants, origin)),
      nextCursor: page.nextCursor,
    });
  })
  .get(
    "/:idView{[^/]+:view}",
    scopeIfSignedIn("images:read"),
    validate("query", ViewQuery),
    async (c) => {
      const { config, deps } = c.get("services");
      const { variant, redirect } = c.req.valid("query");
      const { path, ttlSeconds } = orThrow(
        await viewPath(deps, {
          imageId: customMethodId(c.req.param("idView"), "view"),
          principal: c.get("principal"),
          variant,
          maxTtlSeconds: config.viewUrlTtlSeconds,
        }),
      );
      const expires = nowSeconds() + ttlSeconds;
      const query = await signPath(config.signing, "view", path, expires);
      const url = new URL(`${path}?${query}`, c.req.url).toString();
      c.header("Cache-Control", "private, no-store");
      if (redirect === "false") {
        return c.json({ url, expiresAt: new Date(expires * 1000).toISOString() });
      }
      return c.redirect(url, 302);
    },
  )
  .post("/:idReprocess{[^/]+:reprocess}", requireUser("images:write"), async (c) => {
    const found = orThrow(
      await reprocessImage(c.get("services").deps, {
        imageId: customMethodId(c.req.param("idReprocess"), "reprocess"),
        principal: c.get("user"),
      }),
    );
    return c.json(presentImage(found.image, found.variants, new URL(c.req.url).origin), 202);
  })
  .get("/:id", scopeIfSignedIn("images:read"), async (c) => {
    const found = orThrow(
      await getImage(c.get("services").deps, {
        imageId: imageIdParam(c.req.param("id")),
        principal: c.get("principal"),
      }),
    );
    return c.json(presentImage(found.image, found.variants, new URL(c.req.url).origin));
  })
  .patch(
    "/:id",
    requireUser("images:write"),
    requireJsonBody(),
    validate("json", UpdateImageBody),
    async (c) => {
      const found = orThrow(
        await updateImage(c.get("services").deps, {
          imageId: imageIdParam(c.req.param("id")),
          principal: c.get("user"),
          changes: c.req.valid("json"),
        }),
      );
      return c.json(presentImage(found.image, found.variants, new URL(c.req.url).origin));
    },
  )
  .get("/:id/original", requireUser("images:read"), async (c) => {
    const original = orThrow(
      await openOriginal(c.get("services").deps, {
        imageId: imageIdParam(c.req.param("id")),
        principal: c.get("user"),
      }),
    );
    const filename = original.filename.replace(/[^\w.-]/g, "_");
    return serveObject(c.req.raw, {
      contentType: original.contentType,
      size: original.size,
      cacheControl: "private, no-store",
      // Raw uploads are unverified bytes: never let a browser render them inline.
      headers: { "Content-Disposition": `attachment; filename="${filename}"` },
      get: original.open,
    });
  })
  .delete("/:id", requireUser("images:write"), async (c) => {
    orThrow(
      await deleteImage(c.get("services").deps, {
        imageId: imageIdParam(c.req.param("id")),
        principal: c.get("user"),
      }),
    );
    return c.body(null, 204);
  });
