import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { callApp, createImage, problemCode, token } from "../helpers/edge";

async function post(user: string, path: string, body: unknown, key?: string) {
  return callApp(path, {
    method: "POST",
    headers: {
      Authorization: `Bearer ${await token(user)}`,
      "Content-Type": "application/json",
      ...(key === undefined ? {} : { "Idempotency-Key": key }),
    },
    body: JSON.stringify(body),
  });
}

async function imageCount(owner: string): Promise<number> {
  const row = await env.DB.prepare("select count(*) as n from images where owner_id = ?")
    .bind(owner)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

describe("Idempotency-Key", () => {
  it("answers a retry of POST /v1/images with the first result instead of a second image", async () => {
    const first = await post("idem-a", "/v1/images", { title: "once" }, "key-1");
    expect(first.status).toBe(201);
    const created = (await first.json()) as { id: string };
    const retry = await post("idem-a", "/v1/images", { title: "once" }, "key-1");
    expect(retry.status).toBe(201);
    expect(retry.headers.get("Idempotency-Replayed")).toBe("true");
    expect(retry.headers.get("Location")).toBe(`/v1/images/${created.id}`);
    expect(((await retry.json()) as { id: string }).id).toBe(created.id);
    expect(await imageCount("idem-a")).toBe(1);
    // Without a key, or with another one: a new image each time.
    await (await post("idem-a", "/v1/images", { title: "once" })).arrayBuffer();
    await (await post("idem-a", "/v1/images", { title: "once" }, "key-2")).arrayBuffer();
    expect(await imageCount("idem-a")).toBe(3);
  });

  it("refuses the same key with another body, and keeps keys per caller", async () => {
    await (await post("idem-b", "/v1/images", { title: "one" }, "shared")).arrayBuffer();
    const reused = await post("idem-b", "/v1/images", { title: "two" }, "shared");
    expect(reused.status).toBe(422);
    expect(await problemCode(reused)).toBe("idempotency_key_reused");
    const other = await post("idem-c", "/v1/images", { title: "two" }, "shared");
    expect(other.status).toBe(201);
    expect(other.headers.get("Idempotency-Replayed")).toBeNull();
    await other.arrayBuffer();
    for (const key of ["", "a b", "x".repeat(256), "\u00e9"]) {
      const res = await post("idem-b", "/v1/images", {}, key);
      expect(res.status, JSON.stringify(key)).toBe(400);
      await res.arrayBuffer();
    }
  });

  it("does not remember a request that failed, so its retry runs", async () => {
    const bad = await post("idem-d", "/v1/images", { visibility: "nope" }, "k");
    expect(bad.status).toBe(400);
    await bad.arrayBuffer();
    const good = await post("idem-d", "/v1/images", { visibility: "nope" }, "k");
    expect(good.status).toBe(400);
    expect(good.headers.get("Idempotency-Replayed")).toBeNull();
    await good.arrayBuffer();
  });

  it("creates exactly one image under ten concurrent retries", async () => {
    const results = await Promise.all(
      Array.from({ length: 10 }, () => post("idem-e", "/v1/images", { title: "race" }, "race")),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.every((s) => s === 201 || s === 409)).toBe(true);
    const ids = new Set<string>();
    for (const r of results) {
      if (r.status === 201) ids.add(((await r.json()) as { id: string }).id);
      else await r.arrayBuffer();
    }
    expect(ids.size).toBe(1);
    expect(await imageCount("idem-e")).toBe(1);
  });

  it("answers a retry of POST /v1/uploads:resumable with the same upload", async () => {
    const image = await createImage("idem-f", {});
    const body = { imageId: image.id, size: 5000 };
    const first = await post("idem-f", "/v1/uploads:resumable", body, "upload-1");
    expect(first.status).toBe(201);
    const retry = await post("idem-f", "/v1/uploads:resumable", body, "upload-1");
    expect(retry.status).toBe(201);
    expect(retry.headers.get("Idempotency-Replayed")).toBe("true");
    expect(await retry.json()).toEqual(await first.json());
    // Without the key the image's slot is taken: the first result is the only session.
    const again = await post("idem-f", "/v1/uploads:resumable", body);
    expect(again.status).toBe(409);
    await again.arrayBuffer();
  });
});
