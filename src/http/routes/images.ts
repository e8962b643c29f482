import { Hono } from "hono";
import { z } from "zod";
import type { Principal } from "../../auth/jwt";
import { signPath } from "../../auth/url-signing";
import { ApiError } from "../../domain/errors";
import { isImageId, newImageId } from "../../domain/ids";
import { canView, contentTypeFor, VARIANT_NAMES } from "../../domain/images";
import { isValidCursor } from "../../storage/image-repository";
import type { ImageRow } from "../../storage/schema";
import type { AppEnv } from "../context";
import { enqueueProcessing } from "../enqueue-processing";
import { requireJsonBody, requireUser } from "../middleware";
import { presentImage } from "../present";
import { serveObject } from "../serve-object";
import { decimalInteger, validate } from "../validate";

const Visibility = z.enum(["public", "unlisted", "private"]);
const Title = z.string().trim().max(200);
const Description = z.string().max(5000);

const CreateImageBody = z.strictObject({
  title: Title.optional(),
  description: Description.optional(),
  visibility: Visibility.default("private"),
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
  })
  .refine((b) => Object.keys(b).length > 0, "send at least one field");

const ListQuery = z.strictObject({
  cursor: z.string().max(200).refine(isValidCursor, "is not a valid cursor").optional(),
  limit: decimalInteger(1, 100).default(20),
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

/** 404 unless the caller owns the image or is an admin (never confirms it exists). */
function requireOwner(image: ImageRow | null, principal: Principal | null): ImageRow {
  if (!image || !principal) throw new ApiError("image_not_found");
  if (!principal.admin && image.ownerId !== principal.userId) {
    throw new ApiError("image_not_found");
  }
  return image;
}

/** The /v1/images resource. */
export const imagesApp = new Hono<AppEnv>()
  .post("/", requireUser(), requireJsonBody(), validate("json", CreateImageBody), async (c) => {
    const { config, images } = c.get("services");
    const body = c.req.valid("json");
    if (body.size !== undefined && body.size > config.maxUploadBytes) {
      throw new ApiError("upload_too_large", `The limit is ${config.maxUploadBytes} bytes.`);
    }
    const now = Date.now();
    const image = await images.create({
      id: newImageId(),
      ownerId: c.get("principal")?.userId ?? "",
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
    const page = await images.listByOwner(c.get("principal")?.userId ?? "", limit, cursor ?? null);
    const variants = await images.servedVariantsOf(page.items);
    return c.json({
      items: page.items.map((i) => presentImage(i, variants.get(i.id))),
      nextCursor: page.nextCursor,
    });
  })
  .get("/:idView{[^/]+:view}", validate("query", ViewQuery), async (c) => {
    const id = customMethodId(c.req.param("idView"), "view");
    const { config, images } = c.get("services");
    const { variant, redirect } = c.req.valid("query");
    const found = await images.getWithVariants(id);
    if (!found || !canView(found.image, c.get("principal"))) throw new ApiError("image_not_found");
    const { image } = found;
    // A reprocess keeps serving the previous revision until the new one is ready.
    if (image.servedRevision === null) {
      throw new ApiError("image_not_ready", `The image is ${image.status}.`);
    }
    if (!found.variants.some((v) => v.name === variant)) {
      throw new ApiError("variant_not_found", `No '${variant}' variant.`);
    }
    const expires = nowSeconds() + config.viewUrlTtlSeconds;
    const path = `/d/${image.id}/${image.servedRevision}/${variant}`;
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
    const services = c.get("services");
    const image = requireOwner(await services.images.get(id), c.get("principal"));
    const next = await services.images.startReprocess(id, image.revision, Date.now());
    if (!next) {
      throw new ApiError(
        "image_not_ready",
        `An image that is ${image.status} cannot be reprocessed.`,
      );
    }
    await enqueueProcessing(services, id, next.revision);
    const found = await services.images.getWithVariants(id);
    return c.json(presentImage(found?.image ?? next, found?.variants), 202);
  })
  .get("/:id", async (c) => {
    const { images } = c.get("services");
    const found = await images.getWithVariants(imageIdParam(c.req.param("id")));
    if (!found || !canView(found.image, c.get("principal"))) throw new ApiError("image_not_found");
    return c.json(presentImage(found.image, found.variants));
  })
  .patch("/:id", requireUser(), requireJsonBody(), validate("json", UpdateImageBody), async (c) => {
    const { images } = c.get("services");
    const image = requireOwner(
      await images.get(imageIdParam(c.req.param("id"))),
      c.get("principal"),
    );
    const updated = await images.update(image.id, c.req.valid("json"), Date.now());
    if (!updated) throw new ApiError("image_not_found");
    const found = await images.getWithVariants(image.id);
    return c.json(presentImage(updated, found?.variants));
  })
  .get("/:id/original", requireUser(), async (c) => {
    const { images, store } = c.get("services");
    const image = requireOwner(
      await images.get(imageIdParam(c.req.param("id"))),
      c.get("principal"),
    );
    if (image.bytes === null) {
      throw new ApiError("image_not_ready", "Nothing has been uploaded yet.");
    }
    const filename = (image.filename ?? image.id).replace(/[^\w.-]/g, "_");
    return serveObject(c.req.raw, {
      contentType: image.format ? contentTypeFor(image.format) : "application/octet-stream",
      size: image.bytes,
      cacheControl: "private, no-store",
      // Raw uploads are unverified bytes: never let a browser render them inline.
      headers: { "Content-Disposition": `attachment; filename="${filename}"` },
      get: (options) => store.getUpload(image.id, options),
    });
  })
  .delete("/:id", requireUser(), async (c) => {
    const { images, store, events } = c.get("services");
    const image = requireOwner(
      await images.get(imageIdParam(c.req.param("id"))),
      c.get("principal"),
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
