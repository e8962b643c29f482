import { Hono } from "hono";
import { z } from "zod";
import { isImageId } from "../../domain/ids";
import { MAX_QUERY_LENGTH } from "../../domain/search-query";
import { normaliseTag } from "../../domain/tags";
import { isValidSearchCursor } from "../../storage/search-repository";
import { searchImages } from "../../use-cases/search-index";
import type { AppEnv } from "../context";
import { requireUser, scopeIfSignedIn } from "../middleware";
import { orThrow } from "../outcome";
import { presentImage } from "../present";
import { decimalInteger, validate } from "../validate";

/** A tag filter as typed: normalised like stored tags. */
export const TagFilter = z
  .string()
  .max(200)
  .transform((value, ctx) => {
    const tag = normaliseTag(value);
    if (tag === null) {
      ctx.addIssue({ code: "custom", message: "is not a tag" });
      return z.NEVER;
    }
    return tag;
  });

const SearchQuery = z.strictObject({
  q: z.string().max(MAX_QUERY_LENGTH).optional(),
  tag: TagFilter.optional(),
  album: z.string().refine(isImageId, "must be an album id").optional(),
  owner: z.string().min(1).max(128).optional(),
  scope: z.enum(["all", "public"]).default("all"),
  cursor: z.string().max(200).refine(isValidSearchCursor, "is not a valid cursor").optional(),
  limit: decimalInteger(1, 100).default(20),
});

/** `GET /v1/search`: full-text search over what the caller may see. */
export const searchApp = new Hono<AppEnv>().get(
  "/",
  scopeIfSignedIn("images:read"),
  validate("query", SearchQuery),
  async (c) => {
    const query = c.req.valid("query");
    const { deps, search, albums } = c.get("services");
    const page = orThrow(
      await searchImages(
        { images: deps.images, search, albums },
        {
          principal: c.get("principal"),
          q: query.q,
          tag: query.tag,
          albumId: query.album,
          ownerId: query.owner,
          publicOnly: query.scope === "public",
          limit: query.limit,
          cursor: query.cursor ?? null,
        },
      ),
    );
    const origin = new URL(c.req.url).origin;
    return c.json({
      items: page.items.map((i) => presentImage(i.image, i.variants, origin)),
      nextCursor: page.nextCursor,
    });
  },
);

/** `GET /v1/tags`: the caller's tags with how many of their images carry each. */
export const tagsApp = new Hono<AppEnv>().get("/", requireUser("images:read"), async (c) => {
  const items = await c.get("services").deps.images.tagCounts(c.get("user").userId);
  return c.json({ items });
});
