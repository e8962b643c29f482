import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { newImageId } from "../../src/domain/ids";
import { AlbumRepository } from "../../src/storage/album-repository";
import { ImageRepository } from "../../src/storage/image-repository";
import { SearchRepository } from "../../src/storage/search-repository";
import { deliver } from "../helpers/processor";

const repo = new ImageRepository(env.DB);
const albums = new AlbumRepository(env.DB);
const search = new SearchRepository(env.DB);

async function image(owner: string, title: string, tags: string[] = []): Promise<string> {
  const id = newImageId();
  const now = Date.now();
  await repo.create({ id, ownerId: owner, title, createdAt: now, updatedAt: now }, tags);
  return id;
}

function indexEvent(imageIds: string[]) {
  return { type: "ImagesIndexRequested", v: 1, imageIds, requestedAt: Date.now() };
}

async function find(owner: string, q: string): Promise<string[]> {
  const page = await search.search({
    match: q,
    scope: { kind: "mine_and_public", userId: owner },
    limit: 50,
    cursor: null,
  });
  return page.items.map((i) => i.id);
}

async function ftsRows(): Promise<number> {
  const row = await env.DB.prepare("select count(*) as n from search_fts").first<{ n: number }>();
  return row?.n ?? 0;
}

describe("the search indexer", () => {
  it("indexes once per version: redelivery changes nothing, edits replace the text", async () => {
    const id = await image("idx-a", "lighthouse at dusk", ["coast"]);
    const first = await deliver("image-events", [indexEvent([id]), indexEvent([id])]);
    expect(first.explicitAcks).toHaveLength(2);
    expect(await find("idx-a", '"lighthouse"')).toEqual([id]);
    expect(await find("idx-a", '"coast"')).toEqual([id]);
    const version = await search.version(id);
    await deliver("image-events", [indexEvent([id])]);
    expect(await search.version(id)).toBe(version);

    await repo.update(
      id,
      { title: "harbour at dawn", tags: { ownerId: "idx-a", tags: ["sea"] } },
      Date.now(),
    );
    await deliver("image-events", [indexEvent([id])]);
    expect(await find("idx-a", '"lighthouse"')).toEqual([]);
    expect(await find("idx-a", '"harbour"')).toEqual([id]);
    expect(await find("idx-a", '"sea"')).toEqual([id]);
  });

  it("never writes an older version over a newer one (events out of order)", async () => {
    const id = await image("idx-b", "first title");
    await search.put(
      id,
      3,
      { title: "third", description: "", tags: "", albums: "", keys: "" },
      Date.now(),
    );
    await search.put(
      id,
      2,
      { title: "second", description: "", tags: "", albums: "", keys: "" },
      Date.now(),
    );
    expect(await search.version(id)).toBe(3);
    expect(await find("idx-b", '"third"')).toEqual([id]);
    expect(await find("idx-b", '"second"')).toEqual([]);
    // An event for the image (whatever change sent it) builds from the current row only when
    // that row is newer than the document.
    await deliver("image-events", [indexEvent([id])]);
    expect(await find("idx-b", '"third"')).toEqual([id]);
    await repo.bumpIndexVersions([id]);
    await repo.bumpIndexVersions([id]);
    await repo.bumpIndexVersions([id]);
    await deliver("image-events", [indexEvent([id])]);
    expect(await find("idx-b", '"first"')).toEqual([id]);
    expect(await search.version(id)).toBe(4);
  });

  it("follows album titles, and drops the documents of purged images", async () => {
    const a = await image("idx-c", "one");
    const b = await image("idx-c", "two");
    const albumId = newImageId();
    const now = Date.now();
    await albums.create({
      id: albumId,
      ownerId: "idx-c",
      title: "Patagonia",
      description: null,
      visibility: "private",
      coverImageId: null,
      shareVersion: 1,
      createdAt: now,
      updatedAt: now,
    });
    await albums.addImages(albumId, [a, b], now);
    await repo.bumpIndexVersions([a, b]);
    await deliver("image-events", [indexEvent([a, b])]);
    expect((await find("idx-c", '"patagonia"')).sort()).toEqual([a, b].sort());
    await albums.update(albumId, { title: "Iceland" }, Date.now());
    await deliver("image-events", [
      { type: "AlbumIndexRequested", v: 1, albumId, requestedAt: Date.now() },
    ]);
    expect(await find("idx-c", '"patagonia"')).toEqual([]);
    expect((await find("idx-c", '"iceland"')).sort()).toEqual([a, b].sort());

    const before = await ftsRows();
    await repo.markDeleted(a, Date.now());
    await deliver("image-events", [{ type: "ImageDeleted", v: 1, imageId: a }]);
    expect(await search.version(a)).toBeNull();
    expect(await ftsRows()).toBe(before - 1);
    // An index event for a purged image removes nothing more and fails nothing.
    const late = await deliver("image-events", [indexEvent([a])]);
    expect(late.explicitAcks).toHaveLength(1);
  });
});
