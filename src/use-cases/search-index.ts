import { canManage, type Principal } from "../domain/access";
import { stringList } from "../domain/json-list";
import { fail, type Outcome, ok } from "../domain/result";
import { albumKey, ftsQuery, MAX_QUERY_LENGTH, ownerKey } from "../domain/search-query";
import type { AlbumRepository } from "../storage/album-repository";
import type { ImageWithVariants } from "../storage/image-repository";
import type { SearchRepository, SearchScope } from "../storage/search-repository";
import type { Deps } from "./deps";

/**
 * The search index (docs/architecture.md, "Search"): the edge says what changed, the processor
 * rebuilds documents from the current rows, and queries decide visibility on the live rows.
 */

/** What changed: some images' text, or the title of an album (all its images). */
export type IndexTarget =
  | { kind: "images"; imageIds: readonly string[] }
  | { kind: "album"; albumId: string };

const IDS_PER_EVENT = 100;

/**
 * Asks the indexer to rebuild the documents of `target`. The images' index versions move on
 * first, so a rebuild from an older event never wins over the change. Never fails the change
 * that asked: a lost event is caught up by the next change or a reindex.
 */
export async function requestIndexing(
  deps: Pick<Deps, "images" | "events" | "now" | "log">,
  target: IndexTarget,
): Promise<void> {
  const requestedAt = deps.now();
  try {
    if (target.kind === "album") {
      await deps.events.send({
        type: "AlbumIndexRequested",
        v: 1,
        albumId: target.albumId,
        requestedAt,
      });
      return;
    }
    const ids = [...new Set(target.imageIds)];
    await deps.images.bumpIndexVersions(ids);
    for (let i = 0; i < ids.length; i += IDS_PER_EVENT) {
      const [first, ...rest] = ids.slice(i, i + IDS_PER_EVENT);
      if (first === undefined) continue;
      await deps.events.send({
        type: "ImagesIndexRequested",
        v: 1,
        imageIds: [first, ...rest],
        requestedAt,
      });
    }
  } catch (err) {
    deps.log.warn("index_request_failed", { err });
  }
}

/** What the indexer uses. */
export type IndexerDeps = Pick<Deps, "images" | "now" | "metrics" | "log"> & {
  search: SearchRepository;
  albums: AlbumRepository;
};

/**
 * Rebuilds the documents of these images from their current rows: a deleted one loses its
 * document; one whose document already has its index version is left alone (redelivery); an
 * older version is never written over a newer one (out of order). Returns how many changed.
 */
export async function indexImages(
  deps: IndexerDeps,
  imageIds: readonly string[],
  requestedAt: number,
): Promise<number> {
  let changed = 0;
  for (const id of imageIds) {
    const image = await deps.images.get(id);
    if (!image) {
      await deps.search.remove(id);
      continue;
    }
    const current = await deps.search.version(id);
    if (current !== null && current >= image.indexVersion) continue;
    const albums = await deps.albums.albumsOf(id);
    await deps.search.put(
      id,
      image.indexVersion,
      {
        title: image.title ?? image.filename ?? "",
        description: image.description ?? "",
        tags: stringList(image.tags).join(" "),
        albums: albums.map((a) => a.title).join(" "),
        keys: [ownerKey(image.ownerId), ...albums.map((a) => albumKey(a.id))].join(" "),
      },
      deps.now(),
    );
    changed++;
  }
  deps.metrics.record({
    name: "search.index",
    outcome: changed > 0 ? "indexed" : "current",
    ms: deps.now() - requestedAt,
    bytes: changed,
  });
  return changed;
}

/** Rebuilds the documents of every image of an album (its title changed). */
export async function indexAlbum(
  deps: IndexerDeps,
  albumId: string,
  requestedAt: number,
): Promise<number> {
  const members = await deps.albums.memberIds(albumId);
  await deps.images.bumpIndexVersions(members);
  let changed = 0;
  for (let i = 0; i < members.length; i += IDS_PER_EVENT) {
    changed += await indexImages(deps, members.slice(i, i + IDS_PER_EVENT), requestedAt);
  }
  return changed;
}

/** A search as the API takes it. */
export interface SearchInput {
  principal: Principal | null;
  q: string | undefined;
  tag: string | undefined;
  albumId: string | undefined;
  ownerId: string | undefined;
  publicOnly: boolean;
  limit: number;
  cursor: string | null;
}

/**
 * Searches what the caller may see: their own images and everyone's public ones, or public
 * ones only (`scope=public`, the only scope without an account). An album filter needs an
 * album the caller may see. Without words: newest first.
 */
export async function searchImages(
  deps: Pick<Deps, "images"> & { search: SearchRepository; albums: AlbumRepository },
  input: SearchInput,
): Promise<Outcome<{ items: ImageWithVariants[]; nextCursor: string | null }>> {
  if (input.q !== undefined && input.q.length > MAX_QUERY_LENGTH) {
    return fail("validation_failed", `query q: at most ${MAX_QUERY_LENGTH} characters.`);
  }
  if (!input.principal && !input.publicOnly) {
    return fail("unauthorized", "Sign in, or search with scope=public.");
  }
  if (input.albumId !== undefined) {
    const album = await deps.albums.get(input.albumId);
    if (!album || (album.visibility === "private" && !canManage(album, input.principal))) {
      return fail("album_not_found");
    }
  }
  const match = input.q === undefined ? null : ftsQuery(input.q);
  if (input.q !== undefined && match === null) return ok({ items: [], nextCursor: null });
  const scope: SearchScope =
    input.publicOnly || !input.principal
      ? { kind: "public" }
      : { kind: "mine_and_public", userId: input.principal.userId };
  const page = await deps.search.search({
    match,
    scope,
    tag: input.tag,
    albumId: input.albumId,
    ownerId: input.ownerId,
    limit: input.limit,
    cursor: input.cursor,
  });
  const variants = await deps.images.servedVariantsOf(page.items);
  return ok({
    items: page.items.map((image) => ({ image, variants: variants.get(image.id) ?? [] })),
    nextCursor: page.nextCursor,
  });
}
