import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { SearchRepository } from "../../src/storage/search-repository";
import {
  callApp,
  catchUpIndex,
  createImage,
  problemCode,
  seedReadyImage,
  token,
} from "../helpers/edge";

interface Page {
  items: { id: string; title: string | null; tags: string[] }[];
  nextCursor: string | null;
}

async function as(user: string | null, path: string, init: RequestInit = {}) {
  const headers = new Headers(init.headers);
  if (user) headers.set("Authorization", `Bearer ${await token(user)}`);
  if (init.body) headers.set("Content-Type", "application/json");
  return callApp(path, { ...init, headers });
}

async function search(user: string | null, query: string): Promise<Page> {
  const res = await as(user, `/v1/search?${query}`);
  if (res.status !== 200) throw new Error(`search ${query}: ${res.status} ${await res.text()}`);
  return res.json();
}

async function patch(user: string, id: string, body: Record<string, unknown>) {
  const res = await as(user, `/v1/images/${id}`, { method: "PATCH", body: JSON.stringify(body) });
  expect(res.status, await res.clone().text()).toBe(200);
  return res.json();
}

/** A processed image of `owner` with these searchable fields. */
async function image(
  owner: string,
  visibility: "public" | "unlisted" | "private",
  fields: Record<string, unknown>,
) {
  const { image } = await seedReadyImage(owner, visibility);
  await patch(owner, image.id, fields);
  return image.id;
}

const ids = (page: Page) => page.items.map((i) => i.id);

describe("search", () => {
  it("ranks with bm25: a title match over tags over description over an album title", async () => {
    const owner = "search-rank";
    const word = `zyx${crypto.randomUUID().slice(0, 6)}`;
    const inTitle = await image(owner, "private", { title: `${word} in the title` });
    const inTags = await image(owner, "private", { title: "second", tags: [word] });
    const inDescription = await image(owner, "private", {
      title: "third",
      description: `the ${word} is here`,
    });
    const inAlbum = await image(owner, "private", { title: "fourth" });
    const album = await as(owner, "/v1/albums", {
      method: "POST",
      body: JSON.stringify({ title: `${word} album` }),
    });
    const { id: albumId } = (await album.json()) as { id: string };
    await as(owner, `/v1/albums/${albumId}/images`, {
      method: "POST",
      body: JSON.stringify({ imageIds: [inAlbum] }),
    });
    await catchUpIndex();
    expect(ids(await search(owner, `q=${word}`))).toEqual([
      inTitle,
      inTags,
      inDescription,
      inAlbum,
    ]);
  });

  it("matches the last word as a prefix and folds case and diacritics", async () => {
    const owner = "search-fold";
    const id = await image(owner, "private", {
      title: "Crème Brûlée at the CAFÉ",
      tags: ["Dessert"],
    });
    await catchUpIndex();
    for (const q of ["creme brulee", "CAFE", "crème bru", "dess", "cafe crem"]) {
      expect(ids(await search(owner, `q=${encodeURIComponent(q)}`)), q).toEqual([id]);
    }
    expect(ids(await search(owner, "q=brulees"))).toEqual([]);
  });

  it("never shows another user's private or unlisted image (search, listing, albums)", async () => {
    const owner = "search-alice";
    const word = `vis${crypto.randomUUID().slice(0, 6)}`;
    const pub = await image(owner, "public", { title: `${word} public` });
    const unlisted = await image(owner, "unlisted", { title: `${word} unlisted` });
    const priv = await image(owner, "private", { title: `${word} private` });
    await catchUpIndex();
    const sorted = (xs: string[]) => [...xs].sort();
    expect(sorted(ids(await search(owner, `q=${word}`)))).toEqual(sorted([pub, unlisted, priv]));
    expect(ids(await search("search-bob", `q=${word}`))).toEqual([pub]);
    expect(ids(await search("search-bob", `q=${word}&owner=${owner}`))).toEqual([pub]);
    expect(ids(await search(null, `q=${word}&scope=public`))).toEqual([pub]);
    expect(ids(await search(owner, `q=${word}&scope=public`))).toEqual([pub]);
    const anonymous = await as(null, `/v1/search?q=${word}`);
    expect(anonymous.status).toBe(401);
    // Without words: newest first, same rules.
    expect(ids(await search("search-bob", `owner=${owner}`))).toEqual([pub]);
    // Listing is one's own only.
    const listed = (await (await as("search-bob", "/v1/images")).json()) as Page;
    expect(listed.items.map((i) => i.id)).not.toContain(pub);
    // A public album of Alice's shows Bob the public and unlisted images, never the private.
    const album = (await (
      await as(owner, "/v1/albums", {
        method: "POST",
        body: JSON.stringify({ title: "mixed", visibility: "public" }),
      })
    ).json()) as { id: string };
    await as(owner, `/v1/albums/${album.id}/images`, {
      method: "POST",
      body: JSON.stringify({ imageIds: [pub, unlisted, priv] }),
    });
    await catchUpIndex();
    for (const viewer of ["search-bob", null]) {
      const res = await as(viewer, `/v1/albums/${album.id}`);
      const body = (await res.json()) as { images: Page; imageCount: number | null };
      expect(sorted(ids(body.images)), String(viewer)).toEqual(sorted([pub, unlisted]));
      expect(body.imageCount).toBeNull();
    }
    const mine = (await (await as(owner, `/v1/albums/${album.id}`)).json()) as {
      images: Page;
      imageCount: number;
    };
    expect(mine.imageCount).toBe(3);
    // Search within the album: the viewer's rules still apply.
    expect(ids(await search("search-bob", `q=${word}&album=${album.id}`))).toEqual([pub]);
    // A change of visibility applies at once, before any reindex.
    await patch(owner, pub, { visibility: "private" });
    expect(ids(await search("search-bob", `q=${word}`))).toEqual([]);
  });

  it("follows edits and deletes of the indexed images", async () => {
    const owner = "search-edit";
    const id = await image(owner, "private", { title: "old words", tags: ["first"] });
    await catchUpIndex();
    expect(ids(await search(owner, "q=old"))).toEqual([id]);
    await patch(owner, id, { title: "new words", tags: ["second"] });
    await catchUpIndex();
    expect(ids(await search(owner, "q=old"))).toEqual([]);
    expect(ids(await search(owner, "q=new"))).toEqual([id]);
    expect(ids(await search(owner, "tag=second"))).toEqual([id]);
    expect(ids(await search(owner, "tag=first"))).toEqual([]);
    const deleted = await as(owner, `/v1/images/${id}`, { method: "DELETE" });
    expect(deleted.status).toBe(204);
    // Gone from results at once (visibility is read from the live rows) and from the index
    // once the purge removed its row.
    expect(ids(await search(owner, "q=new"))).toEqual([]);
    expect(await new SearchRepository(env.DB).version(id)).toBeNull();
  });

  it("pages through results with a cursor", async () => {
    const owner = "search-page";
    const word = `pg${crypto.randomUUID().slice(0, 6)}`;
    const made: string[] = [];
    for (let i = 0; i < 7; i++) made.push(await image(owner, "private", { title: `${word} ${i}` }));
    await catchUpIndex();
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await search(owner, `q=${word}&limit=3${cursor ? `&cursor=${cursor}` : ""}`);
      seen.push(...ids(page));
      cursor = page.nextCursor;
    } while (cursor);
    expect([...seen].sort()).toEqual([...made].sort());
    expect(new Set(seen).size).toBe(7);
  });

  it.each([
    '"',
    "*",
    "NEAR(",
    "a OR",
    "title:x",
    "'; DROP TABLE images; --",
    "x".repeat(5000),
    "%00",
    "\u0000",
    "😀",
    "((((",
  ])("answers %j with 200 or 400, never 500", async (q) => {
    const res = await as("search-hostile", `/v1/search?q=${encodeURIComponent(q)}`);
    expect([200, 400]).toContain(res.status);
    if (res.status === 400) expect(await problemCode(res)).toBe("validation_failed");
    else await res.arrayBuffer();
    const tables = await env.DB.prepare("select count(*) as n from images").first<{ n: number }>();
    expect(tables?.n).toBeGreaterThanOrEqual(0);
  });

  it("refuses malformed filters with 400", async () => {
    for (const query of [
      "limit=0",
      "limit=101",
      "scope=everyone",
      "album=nope",
      "tag=%3Cx%3E",
      "cursor=abc",
      "q=a&q=b",
      "unknown=1",
    ]) {
      const res = await as("search-hostile", `/v1/search?${query}`);
      expect(res.status, query).toBe(400);
      await res.arrayBuffer();
    }
    const privateAlbum = (await (
      await as("search-carol", "/v1/albums", {
        method: "POST",
        body: JSON.stringify({ title: "x" }),
      })
    ).json()) as { id: string };
    const res = await as("search-dave", `/v1/search?album=${privateAlbum.id}`);
    expect(res.status).toBe(404);
    expect(await problemCode(res)).toBe("album_not_found");
  });
});

describe("tags", () => {
  it("are normalised on create and PATCH, counted per owner and filter the listing", async () => {
    const owner = "tags-owner";
    const created = await createImage(owner, { tags: ["Sea", " SEA ", "Sand  Dunes"] });
    expect(created.tags).toEqual(["sea", "sand dunes"]);
    const other = await createImage(owner, { tags: ["sea"] });
    await createImage("tags-stranger", { tags: ["sea", "secret"] });
    const counts = await (await as(owner, "/v1/tags")).json();
    expect(counts).toEqual({
      items: [
        { tag: "sea", count: 2 },
        { tag: "sand dunes", count: 1 },
      ],
    });
    const patched = await patch(owner, other.id, { tags: ["Forest"] });
    expect((patched as { tags: string[] }).tags).toEqual(["forest"]);
    const listed = (await (await as(owner, "/v1/images?tag=SEA")).json()) as Page;
    expect(listed.items.map((i) => i.id)).toEqual([created.id]);
    for (const tags of [
      ["<x>"],
      Array.from({ length: 21 }, (_, i) => `t${i}`),
      ["a".repeat(51)],
      "sea",
    ]) {
      const res = await as(owner, `/v1/images/${other.id}`, {
        method: "PATCH",
        body: JSON.stringify({ tags }),
      });
      expect(res.status, JSON.stringify(tags).slice(0, 40)).toBe(400);
      expect(await problemCode(res)).toBe("validation_failed");
    }
    expect((await as(null, "/v1/tags")).status).toBe(401);
  });
});
