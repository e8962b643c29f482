import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_POLICY } from "../../src/domain/policy";
import {
  callApp,
  callAs,
  catchUpIndex,
  createImage,
  problemCode,
  seedReadyImage,
  token,
} from "../helpers/edge";

const JSON_TYPE = { "Content-Type": "application/json" };
const WEBP = "image/webp,*/*";

async function asAdmin(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("Authorization", `Bearer ${await token("admin-1", { admin: true })}`);
  return callApp(path, { ...init, headers });
}

function put(body: unknown): RequestInit {
  return { method: "PUT", headers: JSON_TYPE, body: JSON.stringify(body) };
}

async function setUserPolicy(userId: string, document: Record<string, unknown>): Promise<void> {
  const res = await asAdmin(`/v1/admin/policies/users/${userId}`, put(document));
  if (res.status !== 200) throw new Error(`policy: ${res.status} ${await res.text()}`);
}

async function suspend(userId: string, op: "suspend" | "unsuspend"): Promise<Response> {
  return asAdmin(`/v1/admin/users/${userId}:${op}`, { method: "POST" });
}

function create(user: string, body: Record<string, unknown> = {}): Promise<Response> {
  return callAs(user, "/v1/images", {
    method: "POST",
    headers: JSON_TYPE,
    body: JSON.stringify(body),
  });
}

async function upload(url: string, bytes: Uint8Array): Promise<Response> {
  const u = new URL(url);
  return callApp(`${u.pathname}${u.search}`, {
    method: "PUT",
    headers: { "Content-Length": String(bytes.length) },
    body: bytes,
  });
}

// The global document is shared by every test in this file: each test that sets it puts the
// defaults back.
afterEach(async () => {
  await asAdmin("/v1/admin/policies", put({}));
});

describe("policies", () => {
  it("shows the built-in defaults, and only admins with a user token may read or set them", async () => {
    const res = await asAdmin("/v1/admin/policies");
    expect(res.status).toBe(200);
    const body = (await res.json()) as { document: object; effective: object };
    expect(body.document).toEqual({});
    expect(body.effective).toEqual(DEFAULT_POLICY);

    expect((await callApp("/v1/admin/policies")).status).toBe(401);
    const user = await callAs("pol-user", "/v1/admin/policies");
    expect(user.status).toBe(403);
    expect(await problemCode(user)).toBe("forbidden");
    // An admin's API key is never an admin.
    const key = (await (
      await asAdmin("/v1/api-keys", {
        method: "POST",
        headers: JSON_TYPE,
        body: JSON.stringify({ name: "ci", scopes: ["images:read"] }),
      })
    ).json()) as { key: string };
    const byKey = await callApp("/v1/admin/policies", {
      headers: { Authorization: `Bearer ${key.key}` },
    });
    expect(byKey.status).toBe(403);
    const userPut = await callAs("pol-user", "/v1/admin/policies", put({ maxImages: 1 }));
    expect(userPut.status).toBe(403);
  });

  it("validates documents field by field: unknown fields, wrong types and bad values are 400", async () => {
    for (const bad of [
      { maxImages: -1 },
      { maxUploadBytes: "big" },
      { allowedFormats: ["bmp"] },
      { allowedFormats: [] },
      { metadataPolicy: "keep_everything" },
      { variantPresets: { thumb: { width: 99999, height: 10 } } },
      { hotlinkAllowedReferers: ["not a host/"] },
      { signedUrlMaxTtl: 1 },
      { colour: "blue" },
      [],
      "x",
    ]) {
      const res = await asAdmin("/v1/admin/policies", put(bad));
      expect(res.status, JSON.stringify(bad)).toBe(400);
      expect(await problemCode(res)).toBe("validation_failed");
    }
    const notJson = await asAdmin("/v1/admin/policies", {
      method: "PUT",
      headers: JSON_TYPE,
      body: "{",
    });
    expect(notJson.status).toBe(400);
  });

  it("versions the global document and a user's overrides, which hold only what they change", async () => {
    const first = await asAdmin("/v1/admin/policies", put({ maxImages: 100 }));
    const v1 = ((await first.json()) as { version: number }).version;
    const second = await asAdmin("/v1/admin/policies", put({ maxImages: 50, uploadsPerDay: 10 }));
    const body = (await second.json()) as {
      version: number;
      document: object;
      effective: typeof DEFAULT_POLICY;
    };
    expect(body.version).toBe(v1 + 1);
    expect(body.document).toEqual({ maxImages: 50, uploadsPerDay: 10 });
    expect(body.effective.maxImages).toBe(50);
    expect(body.effective.maxUploadBytes).toBe(DEFAULT_POLICY.maxUploadBytes);

    await setUserPolicy("pol-over", { maxImages: 5, allowedFormats: ["jpeg", "jpeg", "png"] });
    const override = (await (await asAdmin("/v1/admin/policies/users/pol-over")).json()) as {
      document: object;
      effective: typeof DEFAULT_POLICY;
    };
    expect(override.document).toEqual({ maxImages: 5, allowedFormats: ["jpeg", "png"] });
    expect(override.effective.uploadsPerDay).toBe(10);
    const mine = (await (
      await callAs("pol-over", "/v1/me/policy")
    ).json()) as typeof DEFAULT_POLICY;
    expect(mine.maxImages).toBe(5);
    expect(mine.uploadsPerDay).toBe(10);
    expect(mine.allowedFormats).toEqual(["jpeg", "png"]);

    expect((await asAdmin("/v1/admin/policies/users/pol-over", { method: "DELETE" })).status).toBe(
      204,
    );
    const restored = (await (await callAs("pol-over", "/v1/me/policy")).json()) as {
      maxImages: number;
    };
    expect(restored.maxImages).toBe(50);
    const again = await asAdmin("/v1/admin/policies/users/pol-over", { method: "DELETE" });
    expect(again.status).toBe(404);
    expect(await problemCode(again)).toBe("not_found");
  });

  it("applies a change to the next request, without a restart", async () => {
    expect((await create("pol-live")).status).toBe(201);
    await setUserPolicy("pol-live", { uploadsPerDay: 0 });
    const refused = await create("pol-live");
    expect(refused.status).toBe(429);
    expect(await problemCode(refused)).toBe("rate_limited");
    await asAdmin("/v1/admin/policies/users/pol-live", { method: "DELETE" });
    expect((await create("pol-live")).status).toBe(201);
  });

  it("gives new images the policy's default visibility", async () => {
    await setUserPolicy("pol-vis", { defaultVisibility: "unlisted" });
    const res = await create("pol-vis");
    expect(((await res.json()) as { visibility: string }).visibility).toBe("unlisted");
    const explicit = await create("pol-vis", { visibility: "public" });
    expect(((await explicit.json()) as { visibility: string }).visibility).toBe("public");
  });

  it("caps signed view URLs and share links by the owner's policy", async () => {
    const { image } = await seedReadyImage("pol-ttl", "private");
    await setUserPolicy("pol-ttl", { signedUrlMaxTtl: 30, shareMaxTtl: 3600 });
    const view = await callAs(
      "pol-ttl",
      `/v1/images/${image.id}:view?variant=thumb&redirect=false`,
    );
    const { expiresAt } = (await view.json()) as { expiresAt: string };
    expect(Date.parse(expiresAt) - Date.now()).toBeLessThanOrEqual(31_000);
    const share = await callAs("pol-ttl", `/v1/images/${image.id}/shares`, {
      method: "POST",
      headers: JSON_TYPE,
      body: JSON.stringify({ expiresIn: 7200 }),
    });
    expect(share.status).toBe(400);
    expect(await problemCode(share)).toBe("validation_failed");
  });
});

describe("quotas", () => {
  it("lets exactly 3 of 10 parallel creations through a maxImages of 3", async () => {
    await setUserPolicy("quota-race", { maxImages: 3 });
    const results = await Promise.all(Array.from({ length: 10 }, () => create("quota-race")));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(3);
    const refused = results.filter((r) => r.status !== 201);
    expect(new Set(refused.map((r) => r.status))).toEqual(new Set([403]));
    expect(await problemCode(refused[0] ?? new Response())).toBe("quota_exceeded");
    const usage = (await (await callAs("quota-race", "/v1/me/usage")).json()) as {
      images: { used: number; limit: number };
    };
    expect(usage.images).toEqual({ used: 3, limit: 3 });
    // A deleted image frees its place.
    const list = (await (await callAs("quota-race", "/v1/images")).json()) as {
      items: { id: string }[];
    };
    const first = list.items[0]?.id ?? "";
    expect((await callAs("quota-race", `/v1/images/${first}`, { method: "DELETE" })).status).toBe(
      204,
    );
    expect((await create("quota-race")).status).toBe(201);
  });

  it("refuses an upload over maxUploadBytes at creation and at the PUT", async () => {
    await setUserPolicy("quota-bytes", { maxUploadBytes: 1000 });
    const declared = await create("quota-bytes", { size: 1001 });
    expect(declared.status).toBe(413);
    expect(await problemCode(declared)).toBe("upload_too_large");
    const created = await createImage("quota-bytes");
    expect(created.upload.maxBytes).toBe(1000);
    const sent = await upload(created.upload.url, new Uint8Array(1001));
    expect(sent.status).toBe(413);
    expect(await problemCode(sent)).toBe("upload_too_large");
  });

  it("holds maxStorageBytes against parallel uploads: no two pass it together", async () => {
    await setUserPolicy("quota-store", { maxStorageBytes: 2500 });
    const images = await Promise.all(Array.from({ length: 4 }, () => createImage("quota-store")));
    const results = await Promise.all(
      images.map((i) => upload(i.upload.url, new Uint8Array(1000).fill(7))),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 200)).toHaveLength(2);
    const refused = results.filter((r) => r.status !== 200);
    for (const r of refused) {
      expect(r.status).toBe(403);
      expect(await problemCode(r)).toBe("quota_exceeded");
    }
    const usage = (await (await callAs("quota-store", "/v1/me/usage")).json()) as {
      storageBytes: { used: number; limit: number };
    };
    expect(usage.storageBytes).toEqual({ used: 2000, limit: 2500 });
  });

  it("counts uploadsPerDay atomically and says when the day resets", async () => {
    await setUserPolicy("quota-day", { uploadsPerDay: 2 });
    const results = await Promise.all(Array.from({ length: 5 }, () => create("quota-day")));
    expect(results.filter((r) => r.status === 201)).toHaveLength(2);
    const refused = results.find((r) => r.status === 429);
    expect(refused).toBeDefined();
    const retry = Number(refused?.headers.get("Retry-After"));
    expect(retry).toBeGreaterThan(0);
    expect(retry).toBeLessThanOrEqual(86400);
    const usage = (await (await callAs("quota-day", "/v1/me/usage")).json()) as {
      uploadsToday: { used: number; limit: number };
    };
    expect(usage.uploadsToday.limit).toBe(2);
    // Refused creations leave nothing behind.
    const list = (await (await callAs("quota-day", "/v1/images")).json()) as { items: unknown[] };
    expect(list.items).toHaveLength(2);
  });

  it("holds a new account's burst of uploads for review", async () => {
    await setUserPolicy("quota-new", {
      newAccountReview: { accountAgeHours: 24, uploadsPerHour: 2 },
    });
    const moderation: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await create("quota-new", { visibility: "public" });
      moderation.push(((await res.json()) as { moderation: string }).moderation);
    }
    expect(moderation).toEqual(["allowed", "allowed", "pending_review"]);
  });

  it("shows usage only to its owner", async () => {
    expect((await callApp("/v1/me/usage")).status).toBe(401);
    expect((await callApp("/v1/me/policy")).status).toBe(401);
  });
});

describe("suspension", () => {
  it("stops every URL of the user's images at once, and unsuspending brings them back", async () => {
    const owner = "susp-owner";
    const { image } = await seedReadyImage(owner, "public");
    await env.DB.prepare("update images set title = 'zebracorn' where id = ?").bind(image.id).run();
    await catchUpIndex();
    const view = (await (
      await callAs(owner, `/v1/images/${image.id}:view?variant=thumb&redirect=false`)
    ).json()) as { url: string };
    const signed = new URL(view.url);
    const share = (await (
      await callAs(owner, `/v1/images/${image.id}/shares`, {
        method: "POST",
        headers: JSON_TYPE,
        body: "{}",
      })
    ).json()) as { token: string };
    const urls = {
      publicHit: `/i/${image.id}/thumb`,
      publicMiss: `/i/${image.id}/medium`,
      signed: `${signed.pathname}${signed.search}`,
      sharePage: `/s/${share.token}`,
      shareVariant: `/s/${share.token}/thumb`,
    };
    const statuses = async () => {
      const out: Record<string, number> = {};
      for (const [name, path] of Object.entries(urls)) {
        const res = await callApp(path, { headers: { Accept: WEBP } });
        await res.arrayBuffer();
        out[name] = res.status;
      }
      out.api = (await callAs("someone-else", `/v1/images/${image.id}`)).status;
      const search = await callApp("/v1/search?q=zebracorn&scope=public");
      out.search = ((await search.json()) as { items: unknown[] }).items.length;
      return out;
    };
    const visible = {
      publicHit: 200,
      publicMiss: 200,
      signed: 200,
      sharePage: 200,
      shareVariant: 200,
      api: 200,
      search: 1,
    };
    // The public thumb is in the edge cache before the suspension.
    expect(await statuses()).toEqual(visible);
    urls.publicMiss = `/i/${image.id}/large`;

    const res = await suspend(owner, "suspend");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ userId: owner, suspended: true, changed: true });
    expect(await statuses()).toEqual({
      publicHit: 404,
      publicMiss: 404,
      signed: 404,
      sharePage: 404,
      shareVariant: 404,
      api: 404,
      search: 0,
    });
    const refused = await create(owner);
    expect(refused.status).toBe(403);
    expect(await problemCode(refused)).toBe("account_suspended");

    expect(await (await suspend(owner, "unsuspend")).json()).toEqual({
      userId: owner,
      suspended: false,
      changed: true,
    });
    expect(await statuses()).toEqual(visible);
    expect((await create(owner)).status).toBe(201);
  });

  it("refuses an upload to an image created before the suspension", async () => {
    const created = await createImage("susp-upload");
    await suspend("susp-upload", "suspend");
    const res = await upload(created.upload.url, new Uint8Array(100));
    expect(res.status).toBe(403);
    expect(await problemCode(res)).toBe("account_suspended");
  });

  it("is idempotent, admin-only, takes an optional reason and refuses other bodies", async () => {
    expect(
      (await callAs("susp-x", "/v1/admin/users/susp-y:suspend", { method: "POST" })).status,
    ).toBe(403);
    const first = await asAdmin("/v1/admin/users/susp-y:suspend", {
      method: "POST",
      headers: JSON_TYPE,
      body: JSON.stringify({ reason: "spam" }),
    });
    expect(((await first.json()) as { changed: boolean }).changed).toBe(true);
    const again = await suspend("susp-y", "suspend");
    expect(((await again.json()) as { changed: boolean }).changed).toBe(false);
    const bad = await asAdmin("/v1/admin/users/susp-y:unsuspend", {
      method: "POST",
      headers: JSON_TYPE,
      body: JSON.stringify({ reason: 5 }),
    });
    expect(bad.status).toBe(400);
    expect(await problemCode(bad)).toBe("validation_failed");
    const unknownOp = await asAdmin("/v1/admin/users/susp-y:ban", { method: "POST" });
    expect(unknownOp.status).toBe(404);
  });
});

describe("hotlink and share budgets", () => {
  it("serves an owner's embedded views up to the daily budget, then the placeholder or 429", async () => {
    const { image } = await seedReadyImage("budget-owner", "public");
    await setUserPolicy("budget-owner", { hotlinkRequestsPerDay: 2 });
    const embedded = { Accept: WEBP, Referer: "https://blog.example/post" };
    const path = `/i/${image.id}/thumb`;
    const statuses: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await callApp(path, { headers: embedded });
      await res.arrayBuffer();
      statuses.push(`${res.status} ${res.headers.get("Content-Type")}`);
    }
    expect(statuses.slice(0, 2)).toEqual(["200 image/webp", "200 image/webp"]);
    expect(statuses[2]).toBe("429 image/png");
    // Views on the service's own pages and without a Referer are not embeds.
    expect((await callApp(path, { headers: { Accept: WEBP } })).headers.get("Content-Type")).toBe(
      "image/webp",
    );
    await setUserPolicy("budget-owner", { hotlinkRequestsPerDay: 2, overBudgetResponse: "429" });
    const refused = await callApp(path, { headers: embedded });
    expect(refused.status).toBe(429);
    expect(await problemCode(refused)).toBe("rate_limited");
    expect(Number(refused.headers.get("Retry-After"))).toBeGreaterThan(0);
  });

  it("serves one share link's views up to its daily budget", async () => {
    const { image } = await seedReadyImage("budget-share", "private");
    await setUserPolicy("budget-share", { shareRequestsPerDay: 2, overBudgetResponse: "429" });
    const mk = async () =>
      (
        (await (
          await callAs("budget-share", `/v1/images/${image.id}/shares`, {
            method: "POST",
            headers: JSON_TYPE,
            body: "{}",
          })
        ).json()) as { token: string }
      ).token;
    const first = await mk();
    const statuses = [];
    for (let i = 0; i < 3; i++) {
      const res = await callApp(`/s/${first}/thumb`, { headers: { Accept: WEBP } });
      await res.arrayBuffer();
      statuses.push(res.status);
    }
    expect(statuses).toEqual([200, 200, 429]);
    // Each link has its own budget.
    expect((await callApp(`/s/${await mk()}/thumb`, { headers: { Accept: WEBP } })).status).toBe(
      200,
    );
  });
});

describe("rate limits", () => {
  /** The Worker's bindings with the API and delivery limiters at 3 a minute. */
  const tight = {
    ...env,
    API_LIMITER: env.TEST_TIGHT_LIMITER,
    DELIVERY_LIMITER: env.TEST_TIGHT_LIMITER,
  };

  it("limits the API per user and says which limit and when to retry", async () => {
    const auth = { Authorization: `Bearer ${await token("rl-user")}` };
    const statuses: number[] = [];
    let last = new Response();
    for (let i = 0; i < 4; i++) {
      last = await callApp("/v1/images", { headers: auth }, tight);
      statuses.push(last.status);
      if (i === 0) {
        expect(last.headers.get("RateLimit-Policy")).toBe('"api";q=1200;w=60');
      }
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(await problemCode(last)).toBe("rate_limited");
    expect(last.headers.get("Retry-After")).toBe("60");
    expect(last.headers.get("RateLimit")).toBe('"api";r=0;t=60');
    expect(last.headers.get("RateLimit-Policy")).toBe('"api";q=1200;w=60');
    // Another user has a budget of their own.
    const other = await callApp(
      "/v1/images",
      { headers: { Authorization: `Bearer ${await token("rl-other")}` } },
      tight,
    );
    expect(other.status).toBe(200);
  });

  it("counts each API key apart from its user's token", async () => {
    const created = (await (
      await callAs("rl-keys", "/v1/api-keys", {
        method: "POST",
        headers: JSON_TYPE,
        body: JSON.stringify({ name: "a", scopes: ["images:read"] }),
      })
    ).json()) as { key: string };
    const byKey = { Authorization: `Bearer ${created.key}` };
    const statuses = [];
    for (let i = 0; i < 4; i++)
      statuses.push((await callApp("/v1/images", { headers: byKey }, tight)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const byToken = { Authorization: `Bearer ${await token("rl-keys")}` };
    expect((await callApp("/v1/images", { headers: byToken }, tight)).status).toBe(200);
  });

  it("limits views per client IP where they reach the origin; cache hits are free", async () => {
    const { image } = await seedReadyImage("rl-delivery", "public");
    const other = (await seedReadyImage("rl-delivery", "public")).image;
    const from = (ip: string) => ({ headers: { Accept: WEBP, "CF-Connecting-IP": ip } });
    const get = async (path: string, ip = "203.0.113.7") => {
      const res = await callApp(path, from(ip), tight);
      await res.clone().arrayBuffer();
      return res;
    };
    const seen: [string, number][] = [];
    for (const path of [
      `/i/${image.id}/thumb`, // miss: 1
      `/i/${image.id}/thumb`, // hit
      `/i/${image.id}/thumb`, // hit
      `/i/${image.id}/medium`, // miss: 2
      `/i/${image.id}/large`, // miss: 3
      `/i/${other.id}/thumb`, // miss: refused
    ]) {
      const res = await get(path);
      seen.push([res.headers.get("X-Cache") ?? res.status.toString(), res.status]);
    }
    expect(seen).toEqual([
      ["MISS", 200],
      ["HIT", 200],
      ["HIT", 200],
      ["MISS", 200],
      ["MISS", 200],
      ["429", 429],
    ]);
    const refused = await get(`/i/${other.id}/medium`);
    expect(refused.status).toBe(429);
    expect(await problemCode(refused)).toBe("rate_limited");
    expect(refused.headers.get("RateLimit")).toBe('"delivery";r=0;t=60');
    expect(refused.headers.get("Retry-After")).toBe("60");
    // What the cache holds is still served to the same client; another client has its own rate.
    expect((await get(`/i/${image.id}/thumb`)).status).toBe(200);
    expect((await get(`/i/${other.id}/thumb`, "198.51.100.1")).status).toBe(200);
  });

  it("limits share pages per client IP", async () => {
    const { image } = await seedReadyImage("rl-share", "private");
    const created = await callAs("rl-share", `/v1/images/${image.id}/shares`, {
      method: "POST",
      headers: JSON_TYPE,
      body: "{}",
    });
    const { token: shareToken } = (await created.json()) as { token: string };
    const statuses = [];
    for (let i = 0; i < 4; i++) {
      const res = await callApp(
        `/s/${shareToken}`,
        { headers: { "CF-Connecting-IP": "203.0.113.9" } },
        tight,
      );
      await res.arrayBuffer();
      statuses.push(res.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
  });
});

describe("audit log", () => {
  it("records every admin action with who did it, newest first, in pages", async () => {
    await asAdmin("/v1/admin/policies", put({ maxImages: 9 }));
    await setUserPolicy("audit-u", { uploadsPerDay: 1 });
    await asAdmin("/v1/admin/policies/users/audit-u", { method: "DELETE" });
    await suspend("audit-u", "suspend");
    await suspend("audit-u", "unsuspend");
    const res = await asAdmin("/v1/admin/audit?limit=5");
    expect(res.status).toBe(200);
    const page = (await res.json()) as {
      items: { action: string; actor: string; target: string; detail: unknown }[];
      nextCursor: string | null;
    };
    expect(page.items.map((e) => `${e.action} ${e.target}`)).toEqual([
      "user.unsuspend audit-u",
      "user.suspend audit-u",
      "policy.user.delete audit-u",
      "policy.user.put audit-u",
      "policy.global.put global",
    ]);
    expect(page.items.every((e) => e.actor === "admin-1")).toBe(true);
    expect(page.nextCursor).not.toBeNull();
    const next = await asAdmin(`/v1/admin/audit?limit=5&cursor=${page.nextCursor}`);
    expect(next.status).toBe(200);
    const bad = await asAdmin("/v1/admin/audit?cursor=nope");
    expect(bad.status).toBe(400);
    expect((await callAs("audit-x", "/v1/admin/audit")).status).toBe(403);
  });
});
