import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { parseKeyring, signPath } from "../../src/auth/url-signing";
import { createApp } from "../../src/http/app";
import { callApp, createImage, problemCode, seedReadyImage, token } from "../helpers/edge";

/** One public route, with what it needs to get past routing. */
interface Route {
  name: string;
  method: string;
  path: string;
  auth?: boolean;
  /** Sent with an admin's user token instead of alice's. */
  admin?: boolean;
  body?: () => BodyInit;
  json?: boolean;
  form?: boolean;
  headers?: Record<string, string>;
}

let alice = "";
let admin = "";
let routes: Route[] = [];
let idRoutes: ((id: string) => Route)[] = [];
/** Admin routes keyed by a user id: any string names a user, so a hostile one may still be a 2xx. */
let userIdRoutes: ((id: string) => Route)[] = [];

beforeAll(async () => {
  alice = await token("alice");
  admin = await token("battery-admin", { admin: true });
  const { image } = await seedReadyImage("alice", "public");
  const id = image.id;
  const view = await callApp(`/v1/images/${id}:view?variant=thumb&redirect=false`);
  const { url } = (await view.json()) as { url: string };
  const signed = new URL(url);
  const pending = await createImage("alice");
  const upload = new URL(pending.upload.url);
  const body = () => JSON.stringify({ title: "t" });
  const shared = await callApp(`/v1/images/${id}/shares`, {
    method: "POST",
    headers: { Authorization: `Bearer ${alice}`, "Content-Type": "application/json" },
    body: JSON.stringify({ password: "hostile battery" }),
  });
  const share = (await shared.json()) as { id: string; token: string };
  const tusCreated = await callApp("/v1/tus/", {
    method: "POST",
    headers: { Authorization: `Bearer ${alice}`, "Tus-Resumable": "1.0.0", "Upload-Length": "100" },
  });
  const tusPath = new URL(tusCreated.headers.get("Location") ?? "http://x/").pathname;
  const tus = { "Tus-Resumable": "1.0.0" };
  idRoutes = [
    (x) => ({ name: "GET image", method: "GET", path: `/v1/images/${x}`, auth: true }),
    (x) => ({
      name: "PATCH image",
      method: "PATCH",
      path: `/v1/images/${x}`,
      auth: true,
      body,
      json: true,
    }),
    (x) => ({ name: "GET original", method: "GET", path: `/v1/images/${x}/original`, auth: true }),
    (x) => ({ name: "GET :view", method: "GET", path: `/v1/images/${x}:view`, auth: true }),
    (x) => ({
      name: "POST :reprocess",
      method: "POST",
      path: `/v1/images/${x}:reprocess`,
      auth: true,
    }),
    (x) => ({
      name: "PUT upload",
      method: "PUT",
      path: `/upload/${x}${upload.search}`,
      body: () => new Uint8Array(8),
    }),
    (x) => ({ name: "GET /d", method: "GET", path: `/d/${x}/1/thumb${signed.search}` }),
    (x) => ({ name: "GET /i", method: "GET", path: `/i/${x}/thumb` }),
    (x) => ({ name: "GET /i revisioned", method: "GET", path: `/i/${x}/1/thumb` }),
    (x) => ({ name: "HEAD /i", method: "HEAD", path: `/i/${x}/medium` }),
    (x) => ({ name: "GET shares", method: "GET", path: `/v1/images/${x}/shares`, auth: true }),
    (x) => ({
      name: "POST shares",
      method: "POST",
      path: `/v1/images/${x}/shares`,
      auth: true,
      body: () => "{}",
      json: true,
    }),
    (x) => ({ name: "DELETE share", method: "DELETE", path: `/v1/shares/${x}`, auth: true }),
    (x) => ({ name: "GET share page", method: "GET", path: `/s/${x}` }),
    (x) => ({ name: "GET share variant", method: "GET", path: `/s/${x}/thumb` }),
    (x) => ({
      name: "POST share password",
      method: "POST",
      path: `/s/${x}`,
      body: () => "password=x",
      form: true,
    }),
    (x) => ({
      name: "POST share report",
      method: "POST",
      path: `/s/${x}/report`,
      body: () => "reason=spam",
      form: true,
    }),
    (x) => ({ name: "HEAD tus", method: "HEAD", path: `/v1/tus/${x}`, auth: true, headers: tus }),
    (x) => ({
      name: "PATCH tus",
      method: "PATCH",
      path: `/v1/tus/${x}`,
      auth: true,
      headers: { ...tus, "Content-Type": "application/offset+octet-stream", "Upload-Offset": "0" },
      body: () => new Uint8Array(8),
    }),
    (x) => ({
      name: "DELETE tus",
      method: "DELETE",
      path: `/v1/tus/${x}`,
      auth: true,
      headers: tus,
    }),
    (x) => ({ name: "GET album", method: "GET", path: `/v1/albums/${x}` }),
    (x) => ({
      name: "PATCH album",
      method: "PATCH",
      path: `/v1/albums/${x}`,
      auth: true,
      body: () => JSON.stringify({ title: "t" }),
      json: true,
    }),
    (x) => ({
      name: "POST album images",
      method: "POST",
      path: `/v1/albums/${x}/images`,
      auth: true,
      body: () => JSON.stringify({ imageIds: [x] }),
      json: true,
    }),
    (x) => ({
      name: "DELETE album image",
      method: "DELETE",
      path: `/v1/albums/${x}/images/${x}`,
      auth: true,
    }),
    (x) => ({
      name: "GET album shares",
      method: "GET",
      path: `/v1/albums/${x}/shares`,
      auth: true,
    }),
    (x) => ({ name: "GET share album variant", method: "GET", path: `/s/${x}/${x}/thumb` }),
    (x) => ({
      name: "POST report",
      method: "POST",
      path: `/v1/images/${x}/reports`,
      auth: true,
      body: () => JSON.stringify({ reason: "spam" }),
      json: true,
    }),
    (x) => ({
      name: "POST :appeal",
      method: "POST",
      path: `/v1/images/${x}:appeal`,
      auth: true,
      body: () => "{}",
      json: true,
    }),
    (x) => ({
      name: "GET moderation history",
      method: "GET",
      path: `/v1/admin/images/${x}/moderation`,
      admin: true,
    }),
    (x) => ({
      name: "POST :decide",
      method: "POST",
      path: `/v1/admin/images/${x}:decide`,
      admin: true,
      body: () => JSON.stringify({ decision: "allow", reason: "battery" }),
      json: true,
    }),
    (x) => ({ name: "DELETE album", method: "DELETE", path: `/v1/albums/${x}`, auth: true }),
    (x) => ({ name: "DELETE api key", method: "DELETE", path: `/v1/api-keys/${x}`, auth: true }),
    (x) => ({ name: "DELETE image", method: "DELETE", path: `/v1/images/${x}`, auth: true }),
  ];
  const empty = () => "{}";
  const byUserId: ((id: string) => Route)[] = [
    (x) => ({ name: "GET user policy", method: "GET", path: `/v1/admin/policies/users/${x}` }),
    (x) => ({
      name: "PUT user policy",
      method: "PUT",
      path: `/v1/admin/policies/users/${x}`,
      body: empty,
      json: true,
    }),
    (x) => ({
      name: "DELETE user policy",
      method: "DELETE",
      path: `/v1/admin/policies/users/${x}`,
    }),
    (x) => ({ name: "POST :suspend", method: "POST", path: `/v1/admin/users/${x}:suspend` }),
    (x) => ({ name: "POST :unsuspend", method: "POST", path: `/v1/admin/users/${x}:unsuspend` }),
  ];
  userIdRoutes = byUserId.map((make) => (x) => ({ ...make(x), admin: true }));
  routes = [
    { name: "GET healthz", method: "GET", path: "/healthz" },
    { name: "HEAD healthz", method: "HEAD", path: "/healthz" },
    { name: "POST images", method: "POST", path: "/v1/images", auth: true, body, json: true },
    { name: "GET images", method: "GET", path: "/v1/images", auth: true },
    ...idRoutes.slice(0, -1).map((r) => r(id)),
    { name: "GET /d (signed)", method: "GET", path: signed.pathname + signed.search },
    { name: "GET share page (real)", method: "GET", path: `/s/${share.token}` },
    { name: "GET share variant (locked)", method: "GET", path: `/s/${share.token}/medium` },
    {
      name: "POST share password (real)",
      method: "POST",
      path: `/s/${share.token}`,
      body: () => "password=wrong",
      form: true,
    },
    { name: "GET shares (real)", method: "GET", path: `/v1/images/${id}/shares`, auth: true },
    {
      name: "POST share report (real, locked)",
      method: "POST",
      path: `/s/${share.token}/report`,
      body: () => "reason=spam",
      form: true,
    },
    {
      name: "POST delivery cookie",
      method: "POST",
      path: "/v1/delivery-cookies",
      auth: true,
      body: () => JSON.stringify({ imageIds: [id] }),
      json: true,
    },
    { name: "GET /d (cookie path)", method: "GET", path: `/d/${id}/1/thumb` },
    { name: "OPTIONS tus", method: "OPTIONS", path: "/v1/tus/" },
    {
      name: "POST tus",
      method: "POST",
      path: "/v1/tus/",
      auth: true,
      headers: { ...tus, "Upload-Length": "1000" },
    },
    { name: "HEAD tus (real)", method: "HEAD", path: tusPath, auth: true, headers: tus },
    {
      name: "PATCH tus (real)",
      method: "PATCH",
      path: tusPath,
      auth: true,
      headers: { ...tus, "Content-Type": "application/offset+octet-stream", "Upload-Offset": "0" },
      body: () => new Uint8Array([0xff, 0xd8, 0xff]),
    },
    {
      name: "POST uploads:resumable",
      method: "POST",
      path: "/v1/uploads:resumable",
      auth: true,
      body: () => JSON.stringify({ imageId: pending.id, size: 100 }),
      json: true,
    },
    { name: "GET albums", method: "GET", path: "/v1/albums", auth: true },
    {
      name: "POST albums",
      method: "POST",
      path: "/v1/albums",
      auth: true,
      body: () => JSON.stringify({ title: "battery" }),
      json: true,
    },
    { name: "GET search", method: "GET", path: "/v1/search?q=sunset", auth: true },
    { name: "GET search public", method: "GET", path: "/v1/search?scope=public&q=a" },
    { name: "GET tags", method: "GET", path: "/v1/tags", auth: true },
    { name: "GET api keys", method: "GET", path: "/v1/api-keys", auth: true },
    {
      name: "POST api keys",
      method: "POST",
      path: "/v1/api-keys",
      auth: true,
      body: () => JSON.stringify({ name: "k", scopes: ["images:read"] }),
      json: true,
    },
    { name: "GET hotlink settings", method: "GET", path: "/v1/settings/hotlink", auth: true },
    {
      name: "PUT hotlink settings",
      method: "PUT",
      path: "/v1/settings/hotlink",
      auth: true,
      body: () => JSON.stringify({ allowedReferers: ["example.com"] }),
      json: true,
    },
    { name: "GET me policy", method: "GET", path: "/v1/me/policy", auth: true },
    { name: "GET me usage", method: "GET", path: "/v1/me/usage", auth: true },
    { name: "GET policies", method: "GET", path: "/v1/admin/policies", admin: true },
    {
      name: "PUT policies",
      method: "PUT",
      path: "/v1/admin/policies",
      admin: true,
      body: empty,
      json: true,
    },
    // A victim other than alice: suspending her would hide the battery's own image.
    ...userIdRoutes.map((r) => r("battery-victim")),
    { name: "GET audit", method: "GET", path: "/v1/admin/audit", admin: true },
    { name: "GET review queue", method: "GET", path: "/v1/admin/moderation/queue", admin: true },
    { name: "GET figures", method: "GET", path: "/v1/admin/moderation/figures", admin: true },
    { name: "unknown", method: "GET", path: "/nope/../etc" },
    { name: "unknown POST", method: "POST", path: "/v1/nope", auth: true, body, json: true },
  ];
});

/** Sends a request and checks the invariants every response must keep. */
async function expectSafe(label: string, path: string, init: RequestInit): Promise<Response> {
  const res = await callApp(path, init);
  const where = `${label}: ${init.method ?? "GET"} ${path.slice(0, 120)} -> ${res.status}`;
  expect(res.status, where).toBeLessThan(500);
  expect(res.headers.get("X-Content-Type-Options"), where).toBe("nosniff");
  if (res.status >= 400 && init.method === "HEAD") {
    expect(res.headers.get("Content-Type"), where).toBe("application/problem+json");
    expect(await res.text(), where).toBe("");
  } else if (res.status >= 400) {
    expect(res.headers.get("Content-Type"), where).toBe("application/problem+json");
    const problem = (await res.json()) as { code?: unknown; status?: unknown };
    expect(typeof problem.code, where).toBe("string");
    expect(problem.status, where).toBe(res.status);
  } else {
    await res.arrayBuffer();
  }
  return res;
}

function requestFor(route: Route, headers: Record<string, string> = {}): RequestInit {
  const h = new Headers({ ...route.headers, ...headers });
  if (route.admin && !h.has("Authorization")) h.set("Authorization", `Bearer ${admin}`);
  if (route.auth && !h.has("Authorization")) h.set("Authorization", `Bearer ${alice}`);
  if (route.json && !h.has("Content-Type")) h.set("Content-Type", "application/json");
  if (route.form && !h.has("Content-Type")) {
    h.set("Content-Type", "application/x-www-form-urlencoded");
  }
  return { method: route.method, headers: h, ...(route.body ? { body: route.body() } : {}) };
}

const HUGE = "x".repeat(16_384);
const GARBAGE_VALUES = [
  ",",
  "abc",
  '"abc',
  "W/abc",
  "*, *",
  '"a",'.repeat(4000),
  "bytes=-",
  "bytes=0-0,-1",
  `bytes=${"9".repeat(400)}-`,
  "Sun, 31 Feb 2022 99:99:99 GMT",
  "-1",
  "0x10",
  "Bearer",
  "Bearer a.b.c",
  HUGE,
];
const HEADERS = [
  "If-None-Match",
  "If-Match",
  "If-Modified-Since",
  "If-Unmodified-Since",
  "If-Range",
  "Range",
  "Accept",
  "Authorization",
  "Content-Type",
  "X-Request-Id",
  "Cf-Ray",
  "Origin",
  "Referer",
  "Cookie",
  "Upload-Offset",
  "Upload-Length",
  "Upload-Metadata",
  "Upload-Checksum",
  "Tus-Resumable",
  "X-HTTP-Method-Override",
  "Idempotency-Key",
];

describe("hostile headers on every route", () => {
  it.each(HEADERS)("%s", { timeout: 30_000 }, async (header) => {
    for (const route of routes) {
      for (const value of GARBAGE_VALUES) {
        await expectSafe(header, route.path, requestFor(route, { [header]: value }));
      }
    }
  });

  it("Content-Length that does not describe the body", async () => {
    for (const route of routes) {
      for (const value of ["abc", "-1", "99999999999999999999", "0", "3", "1e3"]) {
        await expectSafe(
          "Content-Length",
          route.path,
          requestFor(route, { "Content-Length": value }),
        );
      }
    }
  });
});

const HOSTILE_IDS = [
  "a".repeat(5000),
  "..%2F..%2Fetc%2Fpasswd",
  "%2e%2e",
  "\u00fc\u0000\u{1f600}",
  "%00",
  "%E0%A4%A",
  "%ZZ",
  "'%20OR%201=1--",
  "1;DROP%20TABLE%20images",
  "AAAAAAAAAAAAAAAAAAAAAA",
  "AAAAAAAAAAAAAAAAAAAA%00",
];

describe("hostile ids", () => {
  it.each(HOSTILE_IDS)("%s", { timeout: 30_000 }, async (id) => {
    for (const make of idRoutes) {
      const route = make(id);
      const res = await expectSafe("id", route.path, requestFor(route));
      expect(res.status, `${route.name} ${id.slice(0, 40)}`).toBeGreaterThanOrEqual(400);
    }
  });
});

describe("hostile user ids on admin routes", () => {
  it.each(HOSTILE_IDS)("%s", { timeout: 30_000 }, async (id) => {
    for (const make of userIdRoutes) {
      const route = make(id);
      const res = await expectSafe("user id", route.path, requestFor(route));
      // Longer than a user id may be: no such user.
      if (id.length > 128) expect(res.status, route.name).toBe(404);
    }
  });
});

const HOSTILE_LIST_QUERIES = [
  "limit=0x10",
  "limit=1e1",
  "limit=-1",
  "limit=0",
  "limit=101",
  "limit=",
  "limit=%205",
  "limit=5.0",
  "limit=1&limit=2",
  `limit=${"9".repeat(400)}`,
  `cursor=${"A".repeat(16_384)}`,
  "cursor=%00",
  "cursor=a&cursor=b",
  "owner=bob",
];

describe("hostile query strings", () => {
  it.each(HOSTILE_LIST_QUERIES)("GET /v1/images?%s is a 400 validation_failed", async (query) => {
    const res = await callApp(`/v1/images?${query}`, {
      headers: { Authorization: `Bearer ${alice}` },
    });
    expect(res.status).toBe(400);
    expect(await problemCode(res)).toBe("validation_failed");
  });

  it.each(HOSTILE_LIST_QUERIES)(
    "GET /v1/admin/audit and the review queue ?%s are a 400 validation_failed",
    async (query) => {
      for (const path of ["/v1/admin/audit", "/v1/admin/moderation/queue"]) {
        const res = await callApp(`${path}?${query}`, {
          headers: { Authorization: `Bearer ${admin}` },
        });
        expect(res.status, path).toBe(400);
        expect(await problemCode(res)).toBe("validation_failed");
      }
    },
  );

  it("still accepts plain decimal limits", async () => {
    for (const limit of ["1", "16", "100"]) {
      const images = await expectSafe("limit", `/v1/images?limit=${limit}`, {
        headers: { Authorization: `Bearer ${alice}` },
      });
      expect(images.status).toBe(200);
      const audit = await expectSafe("limit", `/v1/admin/audit?limit=${limit}`, {
        headers: { Authorization: `Bearer ${admin}` },
      });
      expect(audit.status).toBe(200);
    }
  });

  it("is never a 5xx on any route", async () => {
    for (const route of routes) {
      for (const query of [
        "variant=huge&variant=thumb",
        "redirect=maybe",
        "kid=k1&kid=k0",
        "%ZZ=1",
        "format=gif",
        "format=jpeg&format=webp",
        `format=${"j".repeat(5000)}`,
        "download=yes",
        "download=1&download=1",
      ]) {
        const sep = route.path.includes("?") ? "&" : "?";
        await expectSafe("query", `${route.path}${sep}${query}`, requestFor(route));
      }
    }
  });
});

/** A body that arrives chunked, without a Content-Length. */
function chunked(total: number, chunk = 8192): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= total) return controller.close();
      const size = Math.min(chunk, total - sent);
      controller.enqueue(new TextEncoder().encode("[".repeat(size)));
      sent += size;
    },
  });
}

const MANY_KEYS = JSON.stringify(
  Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`k${i}`, i])),
);
const HOSTILE_BODIES: [string, () => BodyInit, string][] = [
  ["invalid JSON", () => "{", "application/json"],
  ["1 MB JSON", () => JSON.stringify({ title: "x".repeat(1_048_576) }), "application/json"],
  ["deep nesting", () => "[".repeat(60_000) + "]".repeat(60_000), "application/json"],
  [
    "deep nesting (small)",
    () => `{"title":${"[".repeat(30_000)}${"]".repeat(30_000)}}`,
    "application/json",
  ],
  ["50,000 keys", () => MANY_KEYS, "application/json"],
  ["JSON null", () => "null", "application/json"],
  ["JSON array", () => "[1,2,3]", "application/json"],
  ["NUL in a string", () => JSON.stringify({ title: "a\u0000b" }), "application/json"],
  ["wrong content type", () => JSON.stringify({ title: "t" }), "text/plain"],
  ["form", () => "title=t", "application/x-www-form-urlencoded"],
  ["JSON with charset", () => JSON.stringify({ title: "t" }), "application/json; charset=utf-16"],
  ["chunked 1 MB", () => chunked(1_048_576), "application/json"],
];

describe("hostile bodies", () => {
  it.each(HOSTILE_BODIES)("%s", { timeout: 30_000 }, async (_name, body, type) => {
    for (const route of routes.filter((r) => r.method !== "GET" && r.method !== "HEAD")) {
      await expectSafe(_name, route.path, {
        ...requestFor(route, { "Content-Type": type }),
        body: body(),
      });
    }
  });
});

describe("JSON body limits", () => {
  it("answers 413 payload_too_large from Content-Length and while reading a chunked body", async () => {
    const big = await callApp("/v1/images", {
      method: "POST",
      headers: { Authorization: `Bearer ${alice}`, "Content-Type": "application/json" },
      body: JSON.stringify({ title: "x".repeat(70_000) }),
    });
    expect(big.status).toBe(413);
    expect(await problemCode(big)).toBe("payload_too_large");
    const streamed = await callApp("/v1/images", {
      method: "POST",
      headers: { Authorization: `Bearer ${alice}`, "Content-Type": "application/json" },
      body: chunked(70_000),
    });
    expect(streamed.status).toBe(413);
    expect(await problemCode(streamed)).toBe("payload_too_large");
    // Just under the cap still reaches validation.
    const fits = await callApp("/v1/images", {
      method: "POST",
      headers: { Authorization: `Bearer ${alice}`, "Content-Type": "application/json" },
      body: JSON.stringify({ title: "x".repeat(60_000) }),
    });
    expect(fits.status).toBe(400);
    expect(await problemCode(fits)).toBe("validation_failed");
  });

  it("keeps the validation problem small however many keys are sent", async () => {
    const keys = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`, 0]));
    const res = await callApp("/v1/images", {
      method: "POST",
      headers: { Authorization: `Bearer ${alice}`, "Content-Type": "application/json" },
      body: JSON.stringify(keys),
    });
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(text.length).toBeLessThan(4096);
    const problem = JSON.parse(text) as { code: string; errors: unknown[] };
    expect(problem.code).toBe("validation_failed");
    expect(problem.errors.length).toBeGreaterThan(0);
    expect(problem.errors.length).toBeLessThanOrEqual(21);
  });
});

describe("Authorization", () => {
  it.each([
    "",
    "   ",
    "Basic YTpi",
    "Bearer",
    "Bearer ",
    "bearer a.b",
    "Bearer a.b.c d",
    "Token a.b.c",
  ])("%j is 401 invalid_token, never anonymous", async (value) => {
    // Straight into the app: the loopback fetch drops an empty header before the Worker.
    const res = await callApp("/v1/images", { headers: { Authorization: value } });
    expect(res.status).toBe(401);
    expect(await problemCode(res)).toBe("invalid_token");
    // A route that is public for anonymous callers must not treat it as anonymous either.
    const pub = await callApp("/v1/images/AAAAAAAAAAAAAAAAAAAAAA", {
      headers: { Authorization: value },
    });
    expect(pub.status).toBe(401);
    await pub.arrayBuffer();
  });
});

describe("request ids", () => {
  it("echoes a sane X-Request-Id or Cf-Ray and ignores anything else", async () => {
    const check = async (headers: Record<string, string>) => {
      const res = await callApp("/healthz", { headers });
      await res.arrayBuffer();
      return res.headers.get("X-Request-Id") ?? "";
    };
    expect(await check({ "X-Request-Id": "abc-123" })).toBe("abc-123");
    expect(await check({ "Cf-Ray": "8f2b3c4d5e6f7a8b-AMS" })).toBe("8f2b3c4d5e6f7a8b-AMS");
    for (const bad of ["<script>alert(1)</script>", "a b", HUGE, "x".repeat(65)]) {
      const id = await check({ "Cf-Ray": bad, "X-Request-Id": bad });
      expect(id).not.toBe(bad);
      expect(id).toMatch(/^[\w.-]{1,64}$/);
    }
    expect(await check({ "X-Request-Id": "bad id", "Cf-Ray": "ray-1" })).toBe("ray-1");
  });
});

describe("nosniff", () => {
  it("is on successful JSON responses too", async () => {
    for (const [path, headers] of [
      ["/healthz", {}],
      ["/v1/images", { Authorization: `Bearer ${alice}` }],
    ] as const) {
      const res = await callApp(path, { headers });
      expect(res.status).toBe(200);
      expect(res.headers.get("X-Content-Type-Options")).toBe("nosniff");
      await res.arrayBuffer();
    }
  });
});

/** Resolves to "timeout" if `promise` takes longer than `ms`. */
function within<T>(promise: Promise<T>, ms: number): Promise<T | "timeout"> {
  return Promise.race([promise, new Promise<"timeout">((r) => setTimeout(() => r("timeout"), ms))]);
}

describe("PUT /upload with a body that will never arrive", () => {
  it.each([
    ["over the limit", {}, String(30 * 1024 * 1024), "upload_too_large"],
    ["not the declared size", { size: 10 }, "20", "size_mismatch"],
  ] as const)(
    "%s: answered at once, connection closed, nothing left to drain",
    async (_name, create, length, code) => {
      const created = await createImage("alice", create);
      // Sends 16 bytes, then stalls: a client waiting for the verdict before sending the rest.
      let sent = false;
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (!sent) controller.enqueue(new Uint8Array(16));
          sent = true;
          return new Promise(() => undefined);
        },
      });
      const request = new Request(created.upload.url, {
        method: "PUT",
        body,
        headers: { "Content-Length": length },
      });
      const started = Date.now();
      // The app itself, as `wrangler dev` runs it: it drains an unread body before answering.
      const res = await createApp().fetch(request, env);
      const drained = await within(
        (async () => {
          if (request.body !== null && !request.bodyUsed) {
            const reader = request.body.getReader();
            while (!(await reader.read()).done) {}
          }
        })(),
        2000,
      );
      expect(drained).not.toBe("timeout");
      expect(Date.now() - started).toBeLessThan(2000);
      expect(res.headers.get("Connection")).toBe("close");
      expect(await problemCode(res)).toBe(code);
    },
  );
});

describe("signed URLs", () => {
  async function signed(path: string, purpose: "view" | "upload", expires: number) {
    const ring = parseKeyring(env.URL_SIGNING_KEYS, env.URL_SIGNING_KEY_ID);
    if (!ring) throw new Error("no keyring");
    return new URLSearchParams(await signPath(ring, purpose, path, expires));
  }

  it("refuses a valid MAC whose expiry is beyond the TTL, and non-canonical spellings", async () => {
    const { image } = await seedReadyImage("alice", "public");
    const path = `/d/${image.id}/1/thumb`;
    const now = Math.floor(Date.now() / 1000);
    const forever = await signed(path, "view", 999_999_999_999);
    const res = await callApp(`${path}?${forever}`);
    expect(res.status).toBe(403);
    expect(await problemCode(res)).toBe("signature_invalid");

    const ok = await signed(path, "view", now + 120);
    const good = await callApp(`${path}?${ok}`);
    expect(good.status).toBe(200);
    const maxAge = Number(
      /^private, max-age=(\d+)$/.exec(good.headers.get("Cache-Control") ?? "")?.[1],
    );
    expect(maxAge).toBeGreaterThan(100);
    expect(maxAge).toBeLessThanOrEqual(120);
    await good.arrayBuffer();

    const sig = ok.get("sig") ?? "";
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const last = alphabet.indexOf(sig.at(-1) ?? "");
    const alias = alphabet[last ^ 1] ?? "";
    const variants = [
      { ...Object.fromEntries(ok), sig: sig.slice(0, -1) + alias },
      { ...Object.fromEntries(ok), exp: `0${ok.get("exp")}` },
      { ...Object.fromEntries(ok), kid: "k9" },
    ];
    for (const params of variants) {
      const bad = await callApp(`${path}?${new URLSearchParams(params)}`);
      expect(bad.status).toBe(403);
      expect(await problemCode(bad)).toBe("signature_invalid");
    }
    const repeated = await callApp(`${path}?${ok}&sig=${sig}`);
    expect(repeated.status).toBe(403);
    await repeated.arrayBuffer();
  });

  it("caps upload URLs at the upload TTL", async () => {
    const created = await createImage("alice");
    const path = `/upload/${created.id}`;
    const beyond = Math.floor(Date.now() / 1000) + Number(env.UPLOAD_URL_TTL_SECONDS) + 3600;
    const res = await callApp(`${path}?${await signed(path, "upload", beyond)}`, {
      method: "PUT",
      body: new Uint8Array(4),
    });
    expect(res.status).toBe(403);
    expect(await problemCode(res)).toBe("signature_invalid");
  });
});
