import { Hono } from "hono";
import { z } from "zod";
import { ApiError } from "../../domain/errors";
import { isImageId } from "../../domain/ids";
import { isValidAlbumCursor, MAX_ADD_IMAGES } from "../../storage/album-repository";
import {
  type AlbumDeps,
  addAlbumImages,
  createAlbum,
  deleteAlbum,
  getAlbum,
  removeAlbumImage,
  updateAlbum,
} from "../../use-cases/albums";
import type { AppEnv, Services } from "../context";
import { requireJsonBody, requireUser, scopeIfSignedIn } from "../middleware";
import { orThrow } from "../outcome";
import { presentAlbum } from "../present";
import { decimalInteger, validate } from "../validate";

const Visibility = z.enum(["public", "unlisted", "private"]);
const Title = z.string().trim().min(1).max(200);
const Description = z.string().max(5000);
const ImageId = z.string().refine(isImageId, "must be an image id");

const CreateAlbumBody = z.strictObject({
  title: Title,
  description: Description.optional(),
  visibility: Visibility.default("private"),
  coverImageId: ImageId.optional(),
});

const UpdateAlbumBody = z
  .strictObject({
    title: Title.optional(),
    description: Description.nullable().optional(),
    visibility: Visibility.optional(),
    coverImageId: ImageId.nullable().optional(),
    /** Images to put first, in this order; the rest keep theirs after them. */
    order: z.array(ImageId).max(10_000).optional(),
  })
  .refine((b) => Object.keys(b).length > 0, "send at least one field");

const AddImagesBody = z.strictObject({
  imageIds: z.array(ImageId).min(1).max(MAX_ADD_IMAGES),
});

const PageQuery = z.strictObject({
  cursor: z.string().max(200).refine(isValidAlbumCursor, "is not a valid cursor").optional(),
  limit: decimalInteger(1, 100).default(50),
});

function albumDeps(s: Services): AlbumDeps {
  return { ...s.deps, albums: s.albums };
}

function albumIdParam(raw: string | undefined): string {
  if (raw === undefined || !isImageId(raw)) throw new ApiError("album_not_found");
  return raw;
}

/** The /v1/albums resource: albums of the caller, and public or unlisted ones for anyone. */
export const albumsApp = new Hono<AppEnv>()
  .post(
    "/",
    requireUser("images:write"),
    requireJsonBody(),
    validate("json", CreateAlbumBody),
    async (c) => {
      const album = orThrow(
        await createAlbum(albumDeps(c.get("services")), {
          principal: c.get("user"),
          fields: c.req.valid("json"),
        }),
      );
      c.header("Location", `/v1/albums/${album.id}`);
      return c.json(presentAlbum(album, new URL(c.req.url).origin), 201);
    },
  )
  .get("/", requireUser("images:read"), validate("query", PageQuery), async (c) => {
    const { cursor, limit } = c.req.valid("query");
    const page = await c
      .get("services")
      .albums.listByOwner(c.get("user").userId, limit, cursor ?? null);
    const origin = new URL(c.req.url).origin;
    return c.json({
      items: page.items.map((a) => ({ ...presentAlbum(a, origin), imageCount: a.imageCount })),
      nextCursor: page.nextCursor,
    });
  })
  .get("/:id", scopeIfSignedIn("images:read"), validate("query", PageQuery), async (c) => {
    const { cursor, limit } = c.req.valid("query");
    const view = orThrow(
      await getAlbum(albumDeps(c.get("services")), {
        principal: c.get("principal"),
        albumId: albumIdParam(c.req.param("id")),
        limit,
        cursor: cursor ?? null,
      }),
    );
    return c.json(presentAlbum(view.album, new URL(c.req.url).origin, view));
  })
  .patch(
    "/:id",
    requireUser("images:write"),
    requireJsonBody(),
    validate("json", UpdateAlbumBody),
    async (c) => {
      const { order, ...fields } = c.req.valid("json");
      const album = orThrow(
        await updateAlbum(albumDeps(c.get("services")), {
          principal: c.get("user"),
          albumId: albumIdParam(c.req.param("id")),
          fields,
          order,
        }),
      );
      return c.json(presentAlbum(album, new URL(c.req.url).origin));
    },
  )
  .delete("/:id", requireUser("images:write"), async (c) => {
    orThrow(
      await deleteAlbum(albumDeps(c.get("services")), {
        principal: c.get("user"),
        albumId: albumIdParam(c.req.param("id")),
      }),
    );
    return c.body(null, 204);
  })
  .post(
    "/:id/images",
    requireUser("images:write"),
    requireJsonBody(),
    validate("json", AddImagesBody),
    async (c) => {
      orThrow(
        await addAlbumImages(albumDeps(c.get("services")), {
          principal: c.get("user"),
          albumId: albumIdParam(c.req.param("id")),
          imageIds: c.req.valid("json").imageIds,
        }),
      );
      return c.body(null, 204);
    },
  )
  .delete("/:id/images/:imageId", requireUser("images:write"), async (c) => {
    const imageId = c.req.param("imageId");
    if (!isImageId(imageId)) throw new ApiError("image_not_found");
    orThrow(
      await removeAlbumImage(albumDeps(c.get("services")), {
        principal: c.get("user"),
        albumId: albumIdParam(c.req.param("id")),
        imageId,
      }),
    );
    return c.body(null, 204);
  });
