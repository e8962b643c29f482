import { describe, expect, it } from "vitest";
import { callApp, createImage, problemCode, seedReadyImage, token } from "../helpers/edge";

interface AlbumJson {
  id: string;
  title: string;
  description: string | null;
  visibility: string;
  coverImageId: string | null;
  imageCount?: number | null;
  images?: { items: { id: string }[]; nextCursor: string | null };
}

async function as(user: string | null, path: string, init: RequestInit = {}) {
  const headers = new Headers(init.headers);
  if (user) headers.set("Authorization", `Bearer ${await token(user)}`);
  if (init.body) headers.set("Content-Type", "application/json");
  return callApp(path, { ...init, headers });
}

async function newAlbum(user: string, body: Record<string, unknown>): Promise<AlbumJson> {
  const res = await as(user, "/v1/albums", { method: "POST", body: JSON.stringify(body) });
  expect(res.status, await res.clone().text()).toBe(201);
  return res.json();
}

async function add(user: string, albumId: string, imageIds: string[]) {
  return as(user, `/v1/albums/${albumId}/images`, {
    method: "POST",
    body: JSON.stringify({ imageIds }),
  });
}

async function order(user: string | null, albumId: string, query = ""): Promise<string[]> {
  const res = await as(user, `/v1/albums/${albumId}${query}`);
  expect(res.status).toBe(200);
  return ((await res.json()) as AlbumJson).images?.items.map((i) => i.id) ?? [];
}

describe("albums", () => {
  it("are created, listed, read, changed and deleted by their owner", async () => {
    const owner = "album-alice";
    const album = await newAlbum(owner, { title: "  Holidays  ", description: "2026" });
    expect(album).toMatchObject({ title: "Holidays", description: "2026", visibility: "private" });
    const listed = (await (await as(owner, "/v1/albums")).json()) as { items: AlbumJson[] };
    expect(listed.items.map((a) => a.id)).toContain(album.id);
    expect(listed.items.find((a) => a.id === album.id)?.imageCount).toBe(0);
    const changed = await as(owner, `/v1/albums/${album.id}`, {
      method: "PATCH",
      body: JSON.stringify({ title: "Summer", description: null, visibility: "public" }),
    });
    expect(await changed.json()).toMatchObject({
      title: "Summer",
      description: null,
      visibility: "public",
    });
    expect((await as(owner, `/v1/albums/${album.id}`, { method: "DELETE" })).status).toBe(204);
    expect((await as(owner, `/v1/albums/${album.id}`)).status).toBe(404);
  });

  it("hold images in a manual order, one image in several albums, and never delete images", async () => {
    const owner = "album-bob";
    const [a, b, c] = [
      await createImage(owner),
      await createImage(owner),
      await createImage(owner),
    ];
    if (!a || !b || !c) throw new Error("images");
    const one = await newAlbum(owner, { title: "one" });
    const two = await newAlbum(owner, { title: "two" });
    expect((await add(owner, one.id, [a.id, b.id, c.id])).status).toBe(204);
    expect((await add(owner, one.id, [a.id])).status).toBe(204); // already in: keeps its place
    expect((await add(owner, two.id, [c.id])).status).toBe(204);
    expect(await order(owner, one.id)).toEqual([a.id, b.id, c.id]);
    const reordered = await as(owner, `/v1/albums/${one.id}`, {
      method: "PATCH",
      body: JSON.stringify({ order: [c.id, a.id], coverImageId: c.id }),
    });
    expect(((await reordered.json()) as AlbumJson).coverImageId).toBe(c.id);
    expect(await order(owner, one.id)).toEqual([c.id, a.id, b.id]);
    // Pages follow the order.
    const first = (await (await as(owner, `/v1/albums/${one.id}?limit=2`)).json()) as AlbumJson;
    expect(first.images?.items.map((i) => i.id)).toEqual([c.id, a.id]);
    const cursor = first.images?.nextCursor ?? "";
    expect(await order(owner, one.id, `?limit=2&cursor=${cursor}`)).toEqual([b.id]);
    // The listing filters by album.
    const inTwo = (await (await as(owner, `/v1/images?album=${two.id}`)).json()) as {
      items: { id: string }[];
    };
    expect(inTwo.items.map((i) => i.id)).toEqual([c.id]);
    expect(
      (await as(owner, `/v1/albums/${one.id}/images/${c.id}`, { method: "DELETE" })).status,
    ).toBe(204);
    expect(await order(owner, one.id)).toEqual([a.id, b.id]);
    expect(await order(owner, two.id)).toEqual([c.id]);
    expect((await as(owner, `/v1/albums/${one.id}`, { method: "DELETE" })).status).toBe(204);
    for (const image of [a, b, c]) {
      expect((await as(owner, `/v1/images/${image.id}`)).status).toBe(200);
    }
    // Deleting an image takes it out of its albums.
    expect((await as(owner, `/v1/images/${c.id}`, { method: "DELETE" })).status).toBe(204);
    expect(await order(owner, two.id)).toEqual([]);
  });

  it("are their owner's: others get 404, public and unlisted albums are readable by anyone", async () => {
    const owner = "album-carol";
    const { image } = await seedReadyImage(owner, "public");
    const privateAlbum = await newAlbum(owner, { title: "private" });
    const publicAlbum = await newAlbum(owner, { title: "public", visibility: "public" });
    const unlisted = await newAlbum(owner, { title: "unlisted", visibility: "unlisted" });
    for (const album of [privateAlbum, publicAlbum, unlisted]) {
      expect((await add(owner, album.id, [image.id])).status).toBe(204);
    }
    expect((await as("album-mallory", `/v1/albums/${privateAlbum.id}`)).status).toBe(404);
    expect((await as(null, `/v1/albums/${privateAlbum.id}`)).status).toBe(404);
    expect(await order("album-mallory", publicAlbum.id)).toEqual([image.id]);
    expect(await order(null, unlisted.id)).toEqual([image.id]);
    const theirs = await createImage("album-mallory");
    for (const [method, path, body] of [
      ["PATCH", `/v1/albums/${publicAlbum.id}`, { title: "mine" }],
      ["DELETE", `/v1/albums/${publicAlbum.id}`, undefined],
      ["POST", `/v1/albums/${publicAlbum.id}/images`, { imageIds: [theirs.id] }],
      ["DELETE", `/v1/albums/${publicAlbum.id}/images/${image.id}`, undefined],
    ] as const) {
      const res = await as("album-mallory", path, {
        method,
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(await problemCode(res)).toBe("album_not_found");
    }
    // Someone else's image cannot go into my album.
    const refused = await add(owner, publicAlbum.id, [theirs.id]);
    expect(refused.status).toBe(404);
    expect(await problemCode(refused)).toBe("image_not_found");
  });

  it("validate what they are given", async () => {
    const owner = "album-dave";
    const album = await newAlbum(owner, { title: "x" });
    for (const body of [
      {},
      { title: "" },
      { title: "x".repeat(201) },
      { title: "x", visibility: "secret" },
      { title: "x", coverImageId: "nope" },
      { title: "x", extra: 1 },
    ]) {
      const res = await as(owner, "/v1/albums", { method: "POST", body: JSON.stringify(body) });
      expect(res.status, JSON.stringify(body)).toBe(400);
      await res.arrayBuffer();
    }
    const notMember = await createImage(owner);
    const cover = await as(owner, `/v1/albums/${album.id}`, {
      method: "PATCH",
      body: JSON.stringify({ coverImageId: notMember.id }),
    });
    expect(cover.status).toBe(400);
    for (const imageIds of [[], Array.from({ length: 101 }, () => notMember.id), ["bad"]]) {
      const res = await add(owner, album.id, imageIds);
      expect(res.status).toBe(400);
      await res.arrayBuffer();
    }
    expect((await as(null, "/v1/albums")).status).toBe(401);
    expect((await as(owner, "/v1/albums?cursor=zzz")).status).toBe(400);
  });
});

describe("album share links", () => {
  it("show the whole album without an account, with its images' variants, until revoked", async () => {
    const owner = "album-share";
    const a = await seedReadyImage(owner, "private");
    const b = await seedReadyImage(owner, "private");
    const outsider = await seedReadyImage(owner, "private");
    const album = await newAlbum(owner, { title: "Trip <2026>", description: "our trip" });
    expect((await add(owner, album.id, [a.image.id, b.image.id])).status).toBe(204);
    const created = await as(owner, `/v1/albums/${album.id}/shares`, {
      method: "POST",
      body: JSON.stringify({ expiresIn: 3600 }),
    });
    expect(created.status).toBe(201);
    const share = (await created.json()) as { id: string; token: string; albumId: string };
    expect(share.albumId).toBe(album.id);

    const page = await callApp(`/s/${share.token}`, { headers: { Accept: "text/html" } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain("Trip &lt;2026&gt;");
    expect(html).toContain(`/s/${share.token}/${a.image.id}/thumb?format=webp`);
    expect(html).toContain(`/s/${share.token}/${b.image.id}/medium?format=jpeg`);
    expect(html).not.toMatch(/<script/);
    const cookie = (page.headers.get("Set-Cookie") ?? "").split(";")[0] ?? "";

    const json = await callApp(`/s/${share.token}`, { headers: { Accept: "application/json" } });
    const body = (await json.json()) as {
      kind: string;
      images: { id: string; urls: Record<string, string> }[];
    };
    expect(body.kind).toBe("album");
    expect(body.images.map((i) => i.id)).toEqual([a.image.id, b.image.id]);
    expect(body.images[0]?.urls.thumb).toBe(
      `https://images.test/s/${share.token}/${a.image.id}/thumb`,
    );

    const variant = await callApp(`/s/${share.token}/${a.image.id}/thumb`, {
      headers: { Accept: "image/webp", Cookie: cookie },
    });
    expect(variant.status).toBe(200);
    expect(new Uint8Array(await variant.arrayBuffer())).toEqual(a.bytes["thumb.webp"]);
    // Only the album's images, and not through the image-share path.
    for (const path of [
      `/s/${share.token}/${outsider.image.id}/thumb`,
      `/s/${share.token}/thumb`,
    ]) {
      const res = await callApp(path, { headers: { Cookie: cookie } });
      expect(res.status, path).toBe(404);
      expect(await problemCode(res)).toBe("variant_not_found");
    }
    // Listed for the owner; others learn nothing.
    const listed = await as(owner, `/v1/albums/${album.id}/shares`);
    expect(((await listed.json()) as { items: { id: string }[] }).items.map((s) => s.id)).toEqual([
      share.id,
    ]);
    expect((await as("album-stranger", `/v1/albums/${album.id}/shares`)).status).toBe(404);
    // Revoke all of the album's shares at once.
    expect((await as(owner, `/v1/albums/${album.id}/shares`, { method: "DELETE" })).status).toBe(
      204,
    );
    expect((await callApp(`/s/${share.token}`)).status).toBe(404);
    expect(
      (await callApp(`/s/${share.token}/${a.image.id}/thumb`, { headers: { Cookie: cookie } }))
        .status,
    ).toBe(404);
  });

  it("stop when the album is deleted or made private", async () => {
    const owner = "album-share-2";
    const { image } = await seedReadyImage(owner, "private");
    const album = await newAlbum(owner, { title: "x", visibility: "unlisted" });
    await add(owner, album.id, [image.id]);
    const mk = async () =>
      (
        (await (
          await as(owner, `/v1/albums/${album.id}/shares`, { method: "POST", body: "{}" })
        ).json()) as { token: string }
      ).token;
    const first = await mk();
    expect((await callApp(`/s/${first}`)).status).toBe(200);
    await as(owner, `/v1/albums/${album.id}`, {
      method: "PATCH",
      body: JSON.stringify({ visibility: "private" }),
    });
    expect((await callApp(`/s/${first}`)).status).toBe(404);
    const second = await mk();
    expect((await callApp(`/s/${second}`)).status).toBe(200);
    await as(owner, `/v1/albums/${album.id}`, { method: "DELETE" });
    expect((await callApp(`/s/${second}`)).status).toBe(404);
    // The image is still there.
    expect((await as(owner, `/v1/images/${image.id}`)).status).toBe(200);
  });
});
