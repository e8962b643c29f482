import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ObjectStore } from "../../src/storage/object-store";
import { call, callAs, createImage, problemCode, seedReadyImage, token } from "../helpers/edge";

const json = { "Content-Type": "application/json" };

describe("POST /v1/images", () => {
  it("creates a pending private image with a signed upload URL", async () => {
    const res = await callAs("alice", "/v1/images", {
      method: "POST",
      headers: json,
      body: JSON.stringify({ title: "Cat", filename: "cat.jpg", size: 1234 }),
    });
    expect(res.status).toBe(201);
    const body = (await res.json()) as {
      id: string;
      status: string;
      visibility: string;
      title: string;
      upload: { url: string; method: string; expiresAt: string; maxBytes: number };
    };
    expect(body.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(body.status).toBe("pending");
    expect(body.visibility).toBe("private");
    expect(body.title).toBe("Cat");
    expect(body.upload.method).toBe("PUT");
    expect(body.upload.maxBytes).toBe(1234);
    const url = new URL(body.upload.url);
    expect(url.pathname).toBe(`/upload/${body.id}`);
    expect(url.searchParams.get("sig")).toBeTruthy();
    expect(Date.parse(body.upload.expiresAt)).toBeGreaterThan(Date.now());
    expect(res.headers.get("Location")).toBe(`/v1/images/${body.id}`);
  });

  it("accepts an empty body", async () => {
    const res = await callAs("alice", "/v1/images", { method: "POST" });
    expect(res.status).toBe(201);
  });

  it("rejects malformed JSON with invalid_json", async () => {
    const res = await callAs("alice", "/v1/images", { method: "POST", headers: json, body: "{" });
    expect(res.status).toBe(400);
    expect(await problemCode(res)).toBe("invalid_json");
  });

  it("rejects unknown fields with validation_failed and lists them", async () => {
    const res = await callAs("alice", "/v1/images", {
      method: "POST",
      headers: json,
      body: JSON.stringify({ title: "x", owner: "mallory" }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { code: string; errors: unknown[] };
    expect(body.code).toBe("validation_failed");
    expect(body.errors.length).toBeGreaterThan(0);
  });

  it("rejects a bad visibility", async () => {
    const res = await callAs("alice", "/v1/images", {
      method: "POST",
      headers: json,
      body: JSON.stringify({ visibility: "secret" }),
    });
    expect(await problemCode(res)).toBe("validation_failed");
  });

  it("rejects a declared size over both upload limits with 413", async () => {
    const res = await callAs("alice", "/v1/images", {
      method: "POST",
      headers: json,
      body: JSON.stringify({ size: Number(env.RESUMABLE_MAX_UPLOAD_BYTES) + 1 }),
    });
    expect(res.status).toBe(413);
    expect(await problemCode(res)).toBe("upload_too_large");
  });

  it("offers only the resumable path for a declared size over the single PUT's limit", async () => {
    const create = (size: number) =>
      callAs("alice", "/v1/images", {
        method: "POST",
        headers: json,
        body: JSON.stringify({ size }),
      });
    const big = (await (await create(Number(env.MAX_UPLOAD_BYTES) + 1)).json()) as {
      upload: unknown;
      resumable: { url: string; tusEndpoint: string; maxBytes: number };
    };
    expect(big.upload).toBeNull();
    expect(big.resumable).toEqual({
      url: "https://images.test/v1/uploads:resumable",
      tusEndpoint: "https://images.test/v1/tus/",
      maxBytes: Number(env.RESUMABLE_MAX_UPLOAD_BYTES),
    });
    const small = (await (await create(1000)).json()) as { upload: { maxBytes: number } };
    expect(small.upload.maxBytes).toBe(1000);
  });

  it("rejects a non-JSON body with 415", async () => {
    const res = await callAs("alice", "/v1/images", {
      method: "POST",
      headers: { "Content-Type": "text/plain" },
      body: "title=x",
    });
    expect(res.status).toBe(415);
    expect(await problemCode(res)).toBe("unsupported_media_type");
  });

  it("requires authentication", async () => {
    const res = await call("/v1/images", { method: "POST", headers: json, body: "{}" });
    expect(res.status).toBe(401);
  });
});

describe("GET /v1/images/{id}", () => {
  it("returns the owner's image with its variants", async () => {
    const { image } = await seedReadyImage("alice", "private");
    const res = await callAs("alice", `/v1/images/${image.id}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      status: string;
      width: number;
      colour: string;
      originalRepairs: string[];
      variants: { name: string; format: string; width: number; bytes: number }[];
    };
    expect(body.status).toBe("ready");
    expect(body.width).toBe(3000);
    expect([body.colour, body.originalRepairs]).toEqual(["srgb", []]);
    expect(
      body.variants
        .filter((v) => v.name === "thumb")
        .map((v) => v.format)
        .sort(),
    ).toEqual(["avif", "jpeg", "webp"]);
  });

  it("hides a private image from other users and anonymous callers (404)", async () => {
    const { image } = await seedReadyImage("alice", "private");
    const asBob = await callAs("bob", `/v1/images/${image.id}`);
    expect(asBob.status).toBe(404);
    expect(await problemCode(asBob)).toBe("image_not_found");
    expect((await call(`/v1/images/${image.id}`)).status).toBe(404);
  });

  it("shows public and unlisted images to anyone", async () => {
    for (const visibility of ["public", "unlisted"] as const) {
      const { image } = await seedReadyImage("alice", visibility);
      expect((await call(`/v1/images/${image.id}`)).status).toBe(200);
      expect((await callAs("bob", `/v1/images/${image.id}`)).status).toBe(200);
    }
  });

  it("answers 404 for unknown and malformed ids", async () => {
    expect((await callAs("alice", "/v1/images/AAAAAAAAAAAAAAAAAAAAAA")).status).toBe(404);
    expect((await callAs("alice", "/v1/images/not-an-id")).status).toBe(404);
  });
});

describe("PATCH /v1/images/{id}", () => {
  it("changes title, description and visibility for the owner", async () => {
    const { image } = await seedReadyImage("alice", "private");
    const res = await callAs("alice", `/v1/images/${image.id}`, {
      method: "PATCH",
      headers: json,
      body: JSON.stringify({ title: "New", visibility: "public", description: null }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { title: string; visibility: string; variants: unknown[] };
    expect(body).toMatchObject({ title: "New", visibility: "public" });
    expect(body.variants.length).toBeGreaterThan(0);
    expect((await call(`/i/${image.id}/thumb`)).status).toBe(200);
  });

  it("rejects empty and unknown updates and hides others' images", async () => {
    const { image } = await seedReadyImage("alice", "private");
    const empty = await callAs("alice", `/v1/images/${image.id}`, {
      method: "PATCH",
      headers: json,
      body: "{}",
    });
    expect(await problemCode(empty)).toBe("validation_failed");
    const unknown = await callAs("alice", `/v1/images/${image.id}`, {
      method: "PATCH",
      headers: json,
      body: JSON.stringify({ ownerId: "bob" }),
    });
    expect(await problemCode(unknown)).toBe("validation_failed");
    const other = await callAs("bob", `/v1/images/${image.id}`, {
      method: "PATCH",
      headers: json,
      body: JSON.stringify({ visibility: "public" }),
    });
    expect(other.status).toBe(404);
    expect(
      (await call(`/v1/images/${image.id}`, { method: "PATCH", headers: json, body: "{}" })).status,
    ).toBe(401);
  });
});

describe("admin tokens", () => {
  it("may read and delete any image", async () => {
    const { image } = await seedReadyImage("alice", "private");
    const headers = { Authorization: `Bearer ${await token("root", { admin: true })}` };
    expect((await call(`/v1/images/${image.id}`, { headers })).status).toBe(200);
    expect((await call(`/v1/images/${image.id}`, { method: "DELETE", headers })).status).toBe(204);
  });
});

describe("GET /v1/images (list)", () => {
  it("lists only the caller's images, newest first, with a cursor", async () => {
    const owner = `lister-${crypto.randomUUID()}`;
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push((await createImage(owner, { title: `n${i}` })).id);
      await new Promise((r) => setTimeout(r, 5));
    }
    await createImage("someone-else");
    const first = await callAs(owner, "/v1/images?limit=2");
    expect(first.status).toBe(200);
    const page1 = (await first.json()) as { items: { id: string }[]; nextCursor: string | null };
    expect(page1.nextCursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(page1.items.map((i) => i.id)).toEqual([ids[2], ids[1]]);
    expect(page1.nextCursor).toBeTruthy();
    const second = await callAs(
      owner,
      `/v1/images?limit=2&cursor=${encodeURIComponent(page1.nextCursor ?? "")}`,
    );
    const page2 = (await second.json()) as { items: { id: string }[]; nextCursor: string | null };
    expect(page2.items.map((i) => i.id)).toEqual([ids[0]]);
    expect(page2.nextCursor).toBeNull();
  });

  it("includes each image's served variants", async () => {
    const owner = `lister-${crypto.randomUUID()}`;
    await seedReadyImage(owner, "private");
    await createImage(owner);
    const res = await callAs(owner, "/v1/images");
    const body = (await res.json()) as { items: { status: string; variants: unknown[] }[] };
    expect(body.items.map((i) => [i.status, i.variants.length > 0])).toEqual([
      ["pending", false],
      ["ready", true],
    ]);
  });

  it("rejects a bad cursor, a bad limit and unknown parameters", async () => {
    for (const q of ["cursor=%%%", "limit=0", "limit=101", "foo=1"]) {
      const res = await callAs("alice", `/v1/images?${q}`);
      expect(res.status, q).toBe(400);
      expect(await problemCode(res)).toBe("validation_failed");
    }
  });
});

describe("DELETE /v1/images/{id}", () => {
  it("removes the rows, the original and every variant", async () => {
    const { image } = await seedReadyImage("alice", "public");
    const store = new ObjectStore(env.BUCKET);
    expect(await store.getVariant(image.id, 1, "thumb", "webp")).not.toBeNull();
    const res = await callAs("alice", `/v1/images/${image.id}`, { method: "DELETE" });
    expect(res.status).toBe(204);
    expect((await callAs("alice", `/v1/images/${image.id}`)).status).toBe(404);
    expect(await store.getVariant(image.id, 1, "thumb", "webp")).toBeNull();
    const listed = await env.BUCKET.list({ prefix: `variants/${image.id}/` });
    expect(listed.objects).toHaveLength(0);
    const row = await env.DB.prepare("select count(*) as n from variants where image_id = ?")
      .bind(image.id)
      .first<{ n: number }>();
    expect(row?.n).toBe(0);
    expect((await call(`/i/${image.id}/thumb`)).status).toBe(404);
  });

  it("is a 404 for anyone but the owner, and leaves the image alone", async () => {
    const { image } = await seedReadyImage("alice", "public");
    const res = await callAs("bob", `/v1/images/${image.id}`, { method: "DELETE" });
    expect(res.status).toBe(404);
    expect((await callAs("alice", `/v1/images/${image.id}`)).status).toBe(200);
    expect((await call(`/v1/images/${image.id}`, { method: "DELETE" })).status).toBe(401);
  });
});

describe("POST /v1/images/{id}:reprocess", () => {
  it("starts a new revision for a ready image", async () => {
    const { image } = await seedReadyImage("alice", "private");
    const res = await callAs("alice", `/v1/images/${image.id}:reprocess`, { method: "POST" });
    expect(res.status).toBe(202);
    const body = (await res.json()) as { status: string; revision: number };
    expect(body).toMatchObject({ status: "uploaded", revision: 2 });
  });

  it("restarts an upload whose processing stalled for 30 minutes", async () => {
    const created = await createImage("alice");
    const put = await call(created.upload.url, { method: "PUT", body: new Uint8Array(100) });
    expect(put.status).toBe(200);
    const early = await callAs("alice", `/v1/images/${created.id}:reprocess`, { method: "POST" });
    expect(early.status).toBe(409);
    await env.DB.prepare("update images set updated_at = ? where id = ?")
      .bind(Date.now() - 31 * 60_000, created.id)
      .run();
    const res = await callAs("alice", `/v1/images/${created.id}:reprocess`, { method: "POST" });
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ status: "uploaded", revision: 2 });
  });

  it("refuses images that have nothing to reprocess, and hides others' images", async () => {
    const created = await createImage("alice");
    const pending = await callAs("alice", `/v1/images/${created.id}:reprocess`, { method: "POST" });
    expect(pending.status).toBe(409);
    expect(await problemCode(pending)).toBe("image_not_ready");
    const { image } = await seedReadyImage("alice", "public");
    const other = await callAs("bob", `/v1/images/${image.id}:reprocess`, { method: "POST" });
    expect(other.status).toBe(404);
  });
});
