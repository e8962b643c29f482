import { Hono } from "hono";
import { z } from "zod";
import { signPath } from "../../auth/url-signing";
import { ApiError } from "../../domain/errors";
import { isImageId, newImageId } from "../../domain/ids";
import { canView, contentTypeFor, VARIANT_NAMES } from "../../domain/images";
import type { ImageUploaded } from "../../pipeline/messages";
import { isValidCursor } from "../../storage/image-repository";
import type { ImageRow } from "../../storage/schema";
import type { AppEnv } from "../context";
import { imageSecurityHeaders } from "../delivery-headers";
import { requireJsonBody, requireUser } from "../middleware";
import { presentImage } from "../present";
import { validate } from "../validate";

const CreateImageBody = z.strictObject({
  title: z.string().trim().max(200).optional(),
  description: z.string().max(5000).optional(),
  visibility: z.enum(["public", "unlisted", "private"]).default("private"),
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

const ListQuery = z.strictObject({
  cursor: z.string().max(200).refine(isValidCursor, "is not a valid cursor").optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

const ViewQuery = z.strictObject({
  variant: z.enum(VARIANT_NAMES).default("medium"),
  redirect: z.enum(["true", "false"]).default("true"),
});

/** Reads `:id`; a malformed id is simply an image that does not exist. */
function imageIdParam(raw: string): string {
  if (!isImageId(raw)) throw new ApiError("image_not_found");
  return raw;
}

/** Strips a Google-style custom-method suffix (`abc:view` → `abc`) and checks the id shape. */
function customMethodId(raw: string, method: string): string {
  return imageIdParam(raw.slice(0, -(method.length + 1)));
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** 404 unless the caller owns the image (private images never confirm they exist). */
function requireOwner(image: ImageRow | null, userId: string | undefined): ImageRow {
  if (!image || image.ownerId !== userId) throw new ApiError("image_not_found");
  return image;
}

/** The /v1/images resource. */
export const imagesApp = new Hono<AppEnv>()
  .post("/", requireUser(), requireJsonBody(), validate("json", CreateImageBody), async (c) => {
    const { config, images } = c.get("services");
    const principal = c.get("principal");
    const body = c.req.valid("json");
    if (body.size !== undefined && body.size > config.maxUploadBytes) {
      throw new ApiError("upload_too_large", `The limit is ${config.maxUploadBytes} bytes.`);
    }
    const now = Date.now();
    const image = await images.create({
      id: newImageId(),
      ownerId: principal?.userId ?? "",
      title: body.title ?? null,
      description: body.description ?? null,
      visibility: body.visibility,
      filename: body.filename ?? null,
      declaredContentType: body.contentType ?? null,
      declaredSize: body.size ?? null,
      createdAt: now,
      updatedAt: now,
    });
    const expires = nowSeconds() + config.uploadUrlTtlSeconds;
    const path = `/upload/${image.id}`;
    const query = await signPath(config.signing, "upload", path, expires);
    c.header("Location", `/v1/images/${image.id}`);
    return c.json(
      {
        ...presentImage(image),
        upload: {
          url: new URL(`${path}?${query}`, c.req.url).toString(),
          method: "PUT",
          expiresAt: new Date(expires * 1000).toISOString(),
          maxBytes: body.size ?? config.maxUploadBytes,
        },
      },
      201,
    );
  })
  .get("/", requireUser(), validate("query", ListQuery), async (c) => {
    const { images } = c.get("services");
    const { cursor, limit } = c.req.valid("query");
    const userId = c.get("principal")?.userId ?? "";
    const page = await images.listByOwner(userId, limit, cursor ?? null);
    return c.json({ items: page.items.map((i) => presentImage(i)), nextCursor: page.nextCursor });
  })
  .get("/:idView{[^/]+:view}", validate("query", ViewQuery), async (c) => {
    const id = customMethodId(c.req.param("idView"), "view");
    const { config, images } = c.get("services");
    const { variant, redirect } = c.req.valid("query");
    const found = await images.getWithVariants(id);
    const viewer = c.get("principal")?.userId ?? null;
    if (!found || !canView(found.image, viewer)) throw new ApiError("image_not_found");
    const { image } = found;
    if (image.status !== "ready") {
      throw new ApiError("image_not_ready", `The image is ${image.status}.`);
    }
    if (!found.variants.some((v) => v.name === variant)) {
      throw new ApiError("variant_not_found", `No '${variant}' variant.`);
    }
    const expires = nowSeconds() + config.viewUrlTtlSeconds;
    const path = `/d/${image.id}/${image.revision}/${variant}`;
    const query = await signPath(config.signing, "view", path, expires);
    const url = new URL(`${path}?${query}`, c.req.url).toString();
    c.header("Cache-Control", "private, no-store");
    if (redirect === "false") {
      return c.json({ url, expiresAt: new Date(expires * 1000).toISOString() });
    }
    return c.redirect(url, 302);
  })
  .post("/:idReprocess{[^/]+:reprocess}", requireUser(), async (c) => {
    const id = customMethodId(c.req.param("idReprocess"), "reprocess");
    const { images, events } = c.get("services");
    const image = requireOwner(await images.get(id), c.get("principal")?.userId);
    const now = Date.now();
    const next = await images.startReprocess(id, image.revision, now);
    if (!next) {
      throw new ApiError(
        "image_not_ready",
        `An image that is ${image.status} cannot be reprocessed.`,
      );
    }
    const event: ImageUploaded = {
      type: "ImageUploaded",
      v: 1,
      imageId: id,
      revision: next.revision,
      uploadedAt: now,
    };
    await events.send(event, { contentType: "json" });
    return c.json(presentImage(next), 202);
  })
  .get("/:id", async (c) => {
    const { images } = c.get("services");
    const found = await images.getWithVariants(imageIdParam(c.req.param("id")));
    const viewer = c.get("principal")?.userId ?? null;
    if (!found || !canView(found.image, viewer)) throw new ApiError("image_not_found");
    return c.json(presentImage(found.image, found.variants));
  })
  .get("/:id/original", requireUser(), async (c) => {
    const { images, store } = c.get("services");
    const image = requireOwner(
      await images.get(imageIdParam(c.req.param("id"))),
      c.get("principal")?.userId,
    );
    const obj = await store.getUpload(image.id);
    if (!obj || !("body" in obj)) {
      throw new ApiError("image_not_ready", "Nothing has been uploaded yet.");
    }
    // Raw uploads are unverified bytes: never let a browser render them inline.
    const headers = imageSecurityHeaders();
    headers.set(
      "Content-Type",
      image.format ? contentTypeFor(image.format) : "application/octet-stream",
    );
    headers.set("Content-Length", String(obj.size));
    headers.set("ETag", obj.httpEtag);
    headers.set("Cache-Control", "private, no-store");
    headers.set(
      "Content-Disposition",
      `attachment; filename="${(image.filename ?? image.id).replace(/[^\w.-]/g, "_")}"`,
    );
    return new Response(obj.body, { headers });
  })
  .delete("/:id", requireUser(), async (c) => {
    const { images, store, events } = c.get("services");
    const image = requireOwner(
      await images.get(imageIdParam(c.req.param("id"))),
      c.get("principal")?.userId,
    );
    await images.markDeleted(image.id, Date.now());
    try {
      await store.deleteImage(image.id);
      await images.purge(image.id);
    } catch (err) {
      // The image is already invisible; the processor finishes the purge.
      console.warn(
        JSON.stringify({
          level: "warn",
          msg: "inline purge failed",
          id: image.id,
          err: String(err),
        }),
      );
      await events.send({ type: "ImageDeleted", v: 1, imageId: image.id }, { contentType: "json" });
    }
    return c.body(null, 204);
  });
