import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { callApp, createImage, problemCode, seedReadyImage, token } from "../helpers/edge";

interface KeyJson {
  id: string;
  name: string;
  scopes: string[];
  key?: string;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

async function asUser(user: string, path: string, init: RequestInit = {}, admin = false) {
  const headers = new Headers(init.headers);
  headers.set("Authorization", `Bearer ${await token(user, { admin })}`);
  if (init.body) headers.set("Content-Type", "application/json");
  return callApp(path, { ...init, headers });
}

function withKey(key: string, path: string, init: RequestInit = {}) {
  const headers = new Headers(init.headers);
  headers.set("Authorization", `Bearer ${key}`);
  if (init.body) headers.set("Content-Type", "application/json");
  return callApp(path, { ...init, headers });
}

async function mintKey(
  user: string,
  scopes: string[],
  extra: Record<string, unknown> = {},
  admin = false,
): Promise<KeyJson & { key: string }> {
  const res = await asUser(
    user,
    "/v1/api-keys",
    { method: "POST", body: JSON.stringify({ name: `${user} app`, scopes, ...extra }) },
    admin,
  );
  expect(res.status).toBe(201);
  return res.json();
}

describe("API keys", () => {
  it("is shown once, listed without its secret, and acts for its owner", async () => {
    const minted = await mintKey("key-alice", ["images:read", "images:write"]);
    expect(minted.key).toMatch(/^ihk_[A-Za-z0-9_-]{59}$/);
    expect(minted.key.slice(4, 20)).toBe(minted.id);
    expect(minted.expiresAt).toBeNull();

    const created = await withKey(minted.key, "/v1/images", {
      method: "POST",
      body: JSON.stringify({ title: "from an app" }),
    });
    expect(created.status).toBe(201);
    const image = (await created.json()) as { id: string };
    // The owner sees the image the key made: it acts as its owner.
    const read = await asUser("key-alice", `/v1/images/${image.id}`);
    expect(read.status).toBe(200);
    await read.arrayBuffer();

    await vi.waitFor(async () => {
      const list = await asUser("key-alice", "/v1/api-keys");
      const { items } = (await list.json()) as { items: KeyJson[] };
      const listed = items.find((k) => k.id === minted.id);
      expect(listed).toMatchObject({ name: "key-alice app", scopes: minted.scopes });
      expect(listed).not.toHaveProperty("key");
      expect(JSON.stringify(items)).not.toContain(minted.key.slice(20));
      expect(listed?.lastUsedAt).not.toBeNull();
    });
    const row = await env.DB.prepare("select secret_digest from api_keys where id = ?")
      .bind(minted.id)
      .first<{ secret_digest: string }>();
    expect(row?.secret_digest).toMatch(/^[0-9a-f]{64}$/);
    expect(row?.secret_digest).not.toContain(minted.key.slice(20));
  });

  it("refuses routes outside its scopes with 403 insufficient_scope", async () => {
    const { key } = await mintKey("key-bob", ["images:read"]);
    const { image } = await seedReadyImage("key-bob", "private");
    expect((await withKey(key, "/v1/images")).status).toBe(200);
    expect((await withKey(key, `/v1/images/${image.id}`)).status).toBe(200);
    const view = await withKey(key, `/v1/images/${image.id}:view?redirect=false`);
    expect(view.status).toBe(200);
    await view.arrayBuffer();
    const writes: [string, string, unknown?][] = [
      ["POST", "/v1/images", {}],
      ["PATCH", `/v1/images/${image.id}`, { title: "x" }],
      ["DELETE", `/v1/images/${image.id}`],
      ["POST", `/v1/images/${image.id}:reprocess`],
      ["PUT", "/v1/settings/hotlink", { allowedReferers: [] }],
      ["GET", "/v1/settings/hotlink"],
    ];
    for (const [method, path, body] of writes) {
      const res = await withKey(key, path, {
        method,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(res.headers.get("WWW-Authenticate")).toContain('error="insufficient_scope"');
      expect(await problemCode(res)).toBe("insufficient_scope");
    }
    // Nothing was changed.
    const after = await asUser("key-bob", `/v1/images/${image.id}`);
    expect(((await after.json()) as { title: string | null }).title).toBeNull();
  });

  it("never acts as an admin, even for an admin's key", async () => {
    const { image } = await seedReadyImage("key-carol", "private");
    const asAdmin = await asUser("key-root", `/v1/images/${image.id}`, {}, true);
    expect(asAdmin.status).toBe(200);
    await asAdmin.arrayBuffer();
    const { key } = await mintKey("key-root", ["images:read", "images:write"], {}, true);
    expect((await withKey(key, `/v1/images/${image.id}`)).status).toBe(404);
    expect(
      (
        await withKey(key, `/v1/images/${image.id}`, {
          method: "DELETE",
        })
      ).status,
    ).toBe(404);
  });

  it("cannot mint, list or revoke keys", async () => {
    const { key, id } = await mintKey("key-dave", ["images:read", "images:write"]);
    for (const [method, path] of [
      ["POST", "/v1/api-keys"],
      ["GET", "/v1/api-keys"],
      ["DELETE", `/v1/api-keys/${id}`],
    ] as const) {
      const res = await withKey(key, path, {
        method,
        ...(method === "POST"
          ? { body: JSON.stringify({ name: "x", scopes: ["images:read"] }) }
          : {}),
      });
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(await problemCode(res)).toBe("insufficient_scope");
    }
  });

  it("is refused on its next call once revoked, and once expired", async () => {
    const { key, id } = await mintKey("key-erin", ["images:read"]);
    expect((await withKey(key, "/v1/images")).status).toBe(200);
    const revoked = await asUser("key-erin", `/v1/api-keys/${id}`, { method: "DELETE" });
    expect(revoked.status).toBe(204);
    const after = await withKey(key, "/v1/images");
    expect(after.status).toBe(401);
    expect(after.headers.get("WWW-Authenticate")).toBe(
      'Bearer realm="image-host", error="invalid_token"',
    );
    expect(await problemCode(after)).toBe("invalid_token");
    expect((await asUser("key-erin", `/v1/api-keys/${id}`, { method: "DELETE" })).status).toBe(404);

    const expiring = await mintKey("key-erin", ["images:read"], { expiresIn: 3600 });
    expect(expiring.expiresAt).not.toBeNull();
    expect((await withKey(expiring.key, "/v1/images")).status).toBe(200);
    await env.DB.prepare("update api_keys set expires_at = ? where id = ?")
      .bind(Date.now() - 1, expiring.id)
      .run();
    expect((await withKey(expiring.key, "/v1/images")).status).toBe(401);
  });

  it("gives enumeration nothing but 401 and 404", async () => {
    const { key, id } = await mintKey("key-frank", ["images:read"]);
    const wrongSecret = `${key.slice(0, 20)}${key.slice(20).replace(/./g, "A")}`;
    const guesses = [
      wrongSecret,
      `ihk_${"A".repeat(59)}`,
      `ihk_${id}`,
      `${key}A`,
      key.slice(0, -1),
      "ihk_",
      `ihk_${"x".repeat(200)}`,
    ];
    for (const guess of guesses) {
      const res = await withKey(guess, "/v1/images");
      expect(res.status, guess).toBe(401);
      expect(await problemCode(res)).toBe("invalid_token");
    }
    // Another user's key id: the same 404 as a key that never existed.
    for (const path of [`/v1/api-keys/${id}`, `/v1/api-keys/${"B".repeat(16)}`, "/v1/api-keys/x"]) {
      const res = await asUser("key-grace", path, { method: "DELETE" });
      expect(res.status, path).toBe(404);
      expect(await problemCode(res)).toBe("not_found");
    }
    expect((await withKey(key, "/v1/images")).status).toBe(200);
  });

  it("validates what it is asked to create", async () => {
    for (const body of [
      {},
      { name: "", scopes: ["images:read"] },
      { name: "a", scopes: [] },
      { name: "a", scopes: ["admin"] },
      { name: "a", scopes: ["images:read"], expiresIn: 10 },
      { name: "a", scopes: ["images:read"], expiresIn: "never" },
      { name: "a\u0000b", scopes: ["images:read"] },
      { name: "a", scopes: ["images:read"], admin: true },
    ]) {
      const res = await asUser("key-henry", "/v1/api-keys", {
        method: "POST",
        body: JSON.stringify(body),
      });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(await problemCode(res)).toBe("validation_failed");
    }
    expect((await callApp("/v1/api-keys")).status).toBe(401);
  });

  it("keeps one user's keys apart from another's", async () => {
    await mintKey("key-ivan", ["images:read"]);
    const mine = await asUser("key-judy", "/v1/api-keys");
    expect(((await mine.json()) as { items: unknown[] }).items).toEqual([]);
    const image = await createImage("key-ivan");
    const { key } = await mintKey("key-judy", ["images:read"]);
    expect((await withKey(key, `/v1/images/${image.id}`)).status).toBe(404);
  });
});
