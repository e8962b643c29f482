import { env } from "cloudflare:workers";
import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { call, createImage, problemCode, token } from "../helpers/edge";

const INVALID_TOKEN_CHALLENGE = 'Bearer realm="image-host", error="invalid_token"';

function withBearer(jwt: string): RequestInit {
  return { headers: { Authorization: `Bearer ${jwt}` } };
}

describe("authentication", () => {
  it("serves /healthz without auth", async () => {
    const res = await call("/healthz");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
    expect(res.headers.get("X-Request-Id")).toBeTruthy();
    const icon = await call("/favicon.ico");
    expect(icon.status).toBe(204);
    expect(icon.headers.get("Cache-Control")).toBe("public, max-age=86400");
  });

  it("rejects a missing token with 401 unauthorized", async () => {
    const res = await call("/v1/images");
    expect(res.status).toBe(401);
    expect(await problemCode(res)).toBe("unauthorized");
    expect(res.headers.get("WWW-Authenticate")).toBe('Bearer realm="image-host"');
  });

  it("accepts a valid token", async () => {
    const res = await call("/v1/images", withBearer(await token("alice")));
    expect(res.status).toBe(200);
  });

  it.each([
    ["expired", { exp: Math.floor(Date.now() / 1000) - 120 }],
    ["wrong issuer", { iss: "someone-else" }],
    ["wrong audience", { aud: "other-api" }],
    ["wrong secret", { secret: "another-secret-that-is-long-enough-000" }],
    ["HS512 instead of the pinned HS256", { alg: "HS512" }],
  ])("rejects a token with %s", async (_name, overrides) => {
    const res = await call("/v1/images", withBearer(await token("alice", overrides)));
    expect(res.status).toBe(401);
    expect(res.headers.get("WWW-Authenticate")).toBe(INVALID_TOKEN_CHALLENGE);
    expect(await problemCode(res)).toBe("invalid_token");
  });

  it("rejects an unsigned (alg none) token", async () => {
    const header = btoa(JSON.stringify({ alg: "none" })).replace(/=+$/, "");
    const payload = btoa(
      JSON.stringify({
        sub: "alice",
        iss: env.JWT_ISSUER,
        aud: env.JWT_AUDIENCE,
        exp: Math.floor(Date.now() / 1000) + 60,
      }),
    ).replace(/=+$/, "");
    const res = await call("/v1/images", withBearer(`${header}.${payload}.x`));
    expect(res.status).toBe(401);
    expect(res.headers.get("WWW-Authenticate")).toBe(INVALID_TOKEN_CHALLENGE);
  });

  it("rejects a token without exp", async () => {
    const jwt = await new SignJWT({})
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("alice")
      .setIssuer(env.JWT_ISSUER)
      .setAudience(env.JWT_AUDIENCE)
      .sign(new TextEncoder().encode(env.JWT_SECRET));
    const res = await call("/v1/images", withBearer(jwt));
    expect(res.status).toBe(401);
    expect(res.headers.get("WWW-Authenticate")).toBe(INVALID_TOKEN_CHALLENGE);
  });

  it("grants admin only for the explicit admin claim, never for a role claim", async () => {
    const created = await createImage("alice");
    const roleToken = await new SignJWT({ role: "admin" })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("mallory")
      .setIssuer(env.JWT_ISSUER)
      .setAudience(env.JWT_AUDIENCE)
      .setExpirationTime("5m")
      .sign(new TextEncoder().encode(env.JWT_SECRET));
    const res = await call(`/v1/images/${created.id}`, withBearer(roleToken));
    expect(res.status).toBe(404);
  });

  it("rejects a malformed Authorization header", async () => {
    const res = await call("/v1/images", { headers: { Authorization: "Basic abc" } });
    expect(res.status).toBe(401);
    expect(await problemCode(res)).toBe("invalid_token");
  });

  it("answers unknown routes with a 404 problem", async () => {
    const res = await call("/nope");
    expect(res.status).toBe(404);
    expect(await problemCode(res)).toBe("not_found");
  });
});
