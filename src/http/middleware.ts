import { createMiddleware } from "hono/factory";
import { createJwtVerifier } from "../auth/jwt";
import { loadConfig } from "../config/env";
import { ApiError } from "../domain/errors";
import { ImageRepository } from "../storage/image-repository";
import { ObjectStore } from "../storage/object-store";
import type { AppEnv } from "./context";

/** Assigns a request id (honouring a sane incoming `X-Request-Id`) and echoes it back. */
export function requestId() {
  return createMiddleware<AppEnv>(async (c, next) => {
    const incoming = c.req.header("X-Request-Id");
    const id =
      incoming && /^[\w.-]{1,64}$/.test(incoming)
        ? incoming
        : (c.req.header("Cf-Ray") ?? crypto.randomUUID());
    c.set("requestId", id);
    await next();
    c.header("X-Request-Id", id);
  });
}

/** Builds the per-request services once and puts them on the context. */
export function services() {
  return createMiddleware<AppEnv>(async (c, next) => {
    const config = loadConfig(c.env);
    c.set("services", {
      config,
      images: new ImageRepository(c.env.DB),
      store: new ObjectStore(c.env.BUCKET),
      verifyJwt: createJwtVerifier(config.jwt),
      events: c.env.EVENTS,
    });
    await next();
  });
}

/** Reads an optional bearer token; a present but invalid token is a 401, never anonymous. */
export function authenticate() {
  return createMiddleware<AppEnv>(async (c, next) => {
    const header = c.req.header("Authorization");
    if (header === undefined) {
      c.set("principal", null);
      return next();
    }
    const match = /^Bearer\s+([\w-]+\.[\w-]+\.[\w-]+)\s*$/i.exec(header);
    if (!match?.[1]) throw new ApiError("invalid_token", "Authorization must be 'Bearer <jwt>'.");
    const principal = await c.get("services").verifyJwt(match[1]);
    if (!principal) throw new ApiError("invalid_token");
    c.set("principal", principal);
    return next();
  });
}

/** Rejects anonymous callers with 401. */
export function requireUser() {
  return createMiddleware<AppEnv>(async (c, next) => {
    if (!c.get("principal")) throw new ApiError("unauthorized");
    return next();
  });
}

/** Requests with a body must declare it as JSON (so a form post is never half-read). */
export function requireJsonBody() {
  return createMiddleware<AppEnv>(async (c, next) => {
    const length = c.req.header("Content-Length");
    const hasBody = (length !== undefined && length !== "0") || c.req.header("Transfer-Encoding");
    const type = c.req.header("Content-Type") ?? "";
    if (hasBody && !/^application\/(?:[\w.-]+\+)?json\s*(?:;|$)/i.test(type)) {
      throw new ApiError("unsupported_media_type", "Send the body as application/json.");
    }
    return next();
  });
}
