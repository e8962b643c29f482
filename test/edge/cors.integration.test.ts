import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/http/app";
import { call, callAs, createImage, ORIGIN, token } from "../helpers/edge";

const WEB_APP = "https://app.example";

function preflight(path: string, method: string, requestHeaders: string): Promise<Response> {
  return call(path, {
    method: "OPTIONS",
    headers: {
      Origin: WEB_APP,
      "Access-Control-Request-Method": method,
      "Access-Control-Request-Headers": requestHeaders,
    },
  });
}

function listOf(res: Response, name: string): string[] {
  return (res.headers.get(name) ?? "").split(",").map((h) => h.trim().toLowerCase());
}

function expectPreflight(res: Response, method: string): void {
  expect(res.status).toBe(204);
  expect(res.headers.get("Access-Control-Allow-Origin")).toBe("*");
  expect(res.headers.get("Access-Control-Allow-Credentials")).toBeNull();
  expect(listOf(res, "Access-Control-Allow-Methods")).toContain(method.toLowerCase());
  for (const header of [
    "Authorization",
    "Content-Type",
    "Idempotency-Key",
    "Upload-Length",
    "Upload-Offset",
    "Upload-Metadata",
    "Upload-Checksum",
    "Upload-Concat",
    "Upload-Defer-Length",
    "Tus-Resumable",
    "X-Request-Id",
  ]) {
    expect(listOf(res, "Access-Control-Allow-Headers")).toContain(header.toLowerCase());
  }
  expect(Number(res.headers.get("Access-Control-Max-Age"))).toBeGreaterThan(0);
  expect(res.headers.get("X-Content-Type-Options")).toBe("nosniff");
}

function expectExposed(res: Response): void {
  for (const header of [
    "ETag",
    "Location",
    "Upload-Offset",
    "Upload-Length",
    "Upload-Expires",
    "Tus-Resumable",
    "X-Request-Id",
    "Retry-After",
  ]) {
    expect(listOf(res, "Access-Control-Expose-Headers")).toContain(header.toLowerCase());
  }
}

describe("CORS for the API and the upload URLs", () => {
  it("answers preflights and lets a browser create an image and PUT its bytes", async () => {
    expectPreflight(await preflight("/v1/images", "POST", "authorization,content-type"), "POST");

    const create = await callAs("alice", "/v1/images", {
      method: "POST",
      headers: { Origin: WEB_APP, "Content-Type": "application/json" },
      body: JSON.stringify({ size: 4 }),
    });
    expect(create.status).toBe(201);
    expect(create.headers.get("Access-Control-Allow-Origin")).toBe("*");
    expect(create.headers.get("Access-Control-Allow-Credentials")).toBeNull();
    expectExposed(create);
    const { upload } = (await create.json()) as { upload: { url: string } };
    const uploadUrl = new URL(upload.url);

    const put = await preflight(uploadUrl.pathname + uploadUrl.search, "PUT", "content-type");
    expectPreflight(put, "PUT");

    const res = await call(upload.url, {
      method: "PUT",
      headers: { Origin: WEB_APP, "Content-Type": "image/png" },
      body: new Uint8Array(4),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe("*");
    expectExposed(res);
    await res.arrayBuffer();
  });

  it("puts the CORS headers on error responses too", async () => {
    const res = await call("/v1/images", { headers: { Origin: WEB_APP } });
    expect(res.status).toBe(401);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe("*");
    await res.arrayBuffer();
    const created = await createImage("alice");
    const bad = await call(`${new URL(created.upload.url).pathname}?kid=k1&exp=1&sig=x`, {
      method: "PUT",
      headers: { Origin: WEB_APP },
      body: new Uint8Array(4),
    });
    expect(bad.status).toBe(403);
    expect(bad.headers.get("Access-Control-Allow-Origin")).toBe("*");
    await bad.arrayBuffer();
  });

  it("honours CORS_ALLOWED_ORIGINS: listed origins are echoed, others get nothing", async () => {
    const app = createApp();
    const restricted = { ...env, CORS_ALLOWED_ORIGINS: `${WEB_APP}, https://other.example/` };
    const ask = (origin: string) =>
      app.fetch(
        new Request(new URL("/v1/images", ORIGIN), {
          method: "OPTIONS",
          headers: { Origin: origin, "Access-Control-Request-Method": "GET" },
        }),
        restricted,
      );
    const allowed = await ask(WEB_APP);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get("Access-Control-Allow-Origin")).toBe(WEB_APP);
    expect(allowed.headers.get("Vary")).toContain("Origin");
    expect((await ask("https://other.example")).headers.get("Access-Control-Allow-Origin")).toBe(
      "https://other.example",
    );
    const denied = await ask("https://evil.example");
    expect(denied.headers.get("Access-Control-Allow-Origin")).toBeNull();

    const list = await app.fetch(
      new Request(new URL("/v1/images", ORIGIN), {
        headers: { Origin: WEB_APP, Authorization: `Bearer ${await token("alice")}` },
      }),
      restricted,
    );
    expect(list.status).toBe(200);
    expect(list.headers.get("Access-Control-Allow-Origin")).toBe(WEB_APP);
    await list.arrayBuffer();
  });

  it("does not add CORS to the health check", async () => {
    const res = await call("/healthz", { headers: { Origin: WEB_APP } });
    expect(res.headers.get("Access-Control-Allow-Origin")).toBeNull();
    await res.arrayBuffer();
  });
});
