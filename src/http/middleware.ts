import type { MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import { cors } from "hono/cors";
import { createMiddleware } from "hono/factory";
import { API_KEY_PREFIX } from "../auth/credentials";
import { createJwtVerifier } from "../auth/jwt";
import { readDeliveryCookie } from "../auth/signed-cookies";
import { type SignedPurpose, verifyPath } from "../auth/url-signing";
import { loadConfig } from "../config/env";
import { hasScope, type Principal, type Scope } from "../domain/access";
import { ApiError } from "../domain/errors";
import { RATE_LIMITS, rateLimitKey } from "../domain/rate-limit";
import { queueProducer } from "../events/producer";
import { createLogger } from "../observability/logger";
import { D1MetricsSink } from "../observability/metrics";
import { concat } from "../pipeline/bytes";
import { AlbumRepository } from "../storage/album-repository";
import { ApiKeyRepository } from "../storage/api-key-repository";
import { ControlRepository } from "../storage/control-repository";
import { DeliveryCache } from "../storage/delivery-cache";
import { ImageRepository } from "../storage/image-repository";
import { ModerationRepository } from "../storage/moderation-repository";
import { ObjectStore } from "../storage/object-store";
import { bindingRateLimiter } from "../storage/rate-limiter";
import { SearchRepository } from "../storage/search-repository";
import { SettingsRepository } from "../storage/settings-repository";
import { ShareRepository } from "../storage/share-repository";
import { ZonePurgeClient } from "../storage/zone-purge";
import { authenticateApiKey } from "../use-cases/api-keys";
import { controlPlane } from "../use-cases/policies";
import { edgeInvalidator } from "../use-cases/purge-cache";
import type { AppEnv, UserEnv } from "./context";
import { DELIVERY_COOKIE } from "./cookies";
import { clientIp } from "./rate-limit";

const edgeLog = createLogger({ worker: "edge" });

const REQUEST_ID = /^[\w.-]{1,64}$/;

/** Assigns a request id (honouring a sane incoming `X-Request-Id` or `Cf-Ray`) and echoes it. */
export function requestId() {
  return createMiddleware<AppEnv>(async (c, next) => {
    // Cf-Ray is only trustworthy behind Cloudflare's edge; anywhere else a client sets it.
    const id =
      [c.req.header("X-Request-Id"), c.req.header("Cf-Ray")].find(
        (value) => value !== undefined && REQUEST_ID.test(value),
      ) ?? crypto.randomUUID();
    c.set("requestId", id);
    await next();
    c.header("X-Request-Id", id);
  });
}

/**
 * Hardening applied to every response: `nosniff`, and on an error answer a request body
 * nobody read is cancelled and the connection closed, so the runtime does not wait to drain
 * bytes the client may never send (a huge Content-Length with a short body).
 */
export function hardenResponses() {
  return createMiddleware<AppEnv>(async (c, next) => {
    await next();
    c.res.headers.set("X-Content-Type-Options", "nosniff");
    const body = c.req.raw.body;
    if (c.res.status >= 400 && body !== null && !c.req.raw.bodyUsed) {
      c.res.headers.set("Connection", "close");
      await body.cancel().catch(() => undefined);
    }
  });
}

/**
 * Builds the per-request services (the use cases' deps) once and puts them on the context.
 * Background work (metrics, cache fills, zone purges) runs after the response through
 * `waitUntil`; called without an execution context (tests), the request waits for it.
 */
export function services() {
  return createMiddleware<AppEnv>(async (c, next) => {
    const config = loadConfig(c.env);
    const log = edgeLog.with({ requestId: c.get("requestId") });
    const metrics = new D1MetricsSink(c.env.DB, "edge");
    const inline: Promise<unknown>[] = [];
    const background = (task: Promise<unknown>) => {
      try {
        c.executionCtx.waitUntil(task);
      } catch {
        inline.push(task);
      }
    };
    const images = new ImageRepository(c.env.DB);
    const store = new ObjectStore(c.env.BUCKET);
    const events = queueProducer(c.env.EVENTS);
    const cache = new DeliveryCache(caches.default);
    const settings = new SettingsRepository(c.env.DB);
    const albums = new AlbumRepository(c.env.DB);
    const control = new ControlRepository(c.env.DB);
    const invalidate = edgeInvalidator({
      cache,
      zone: config.zonePurge ? new ZonePurgeClient(config.zonePurge) : null,
      events,
      metrics,
      log,
      now: Date.now,
      background,
      refillGuardMs: config.cacheRefillGuardMs,
    });
    const deps = {
      images,
      store,
      events,
      now: Date.now,
      log,
      metrics,
      invalidate,
      ...controlPlane(control, log),
    };
    const deliveryLimiter = bindingRateLimiter(
      c.env.DELIVERY_LIMITER,
      RATE_LIMITS.delivery.periodSeconds,
    );
    c.set("services", {
      config,
      verifyJwt: createJwtVerifier(config.jwt),
      deps,
      delivery: {
        images,
        store,
        log,
        cache,
        settings,
        control,
        policy: deps.policy,
        now: Date.now,
        background,
        pendingDelivery: config.moderation.pendingDelivery,
        admitOrigin: () => deliveryLimiter.limit(rateLimitKey(null, clientIp(c))),
      },
      settings,
      albums,
      search: new SearchRepository(c.env.DB),
      policyDeps: { control, now: Date.now, log },
      moderationDeps: { ...deps, moderation: new ModerationRepository(c.env.DB) },
      apiKeyDeps: { apiKeys: new ApiKeyRepository(c.env.DB), now: Date.now, metrics, background },
      shareDeps: {
        images,
        albums,
        control,
        policy: deps.policy,
        shares: new ShareRepository(c.env.DB),
        now: Date.now,
        metrics,
        limits: config.shares,
        unlockLimiters: {
          perClient: bindingRateLimiter(
            c.env.SHARE_UNLOCK_CLIENT_LIMITER,
            RATE_LIMITS.shareUnlockClient.periodSeconds,
          ),
          perShare: bindingRateLimiter(
            c.env.SHARE_UNLOCK_LIMITER,
            RATE_LIMITS.shareUnlock.periodSeconds,
          ),
        },
      },
    });
    await next();
    background(metrics.flush().catch((err: unknown) => log.warn("metrics_flush_failed", { err })));
    await Promise.all(inline);
  });
}

/**
 * Reads an optional credential (a user's JWT or an API key); a present but invalid one is a
 * 401, never anonymous.
 */
export function authenticate() {
  return createMiddleware<AppEnv>(async (c, next) => {
    // An empty header is still a header: a client that meant to authenticate gets told.
    if (!c.req.raw.headers.has("Authorization")) {
      c.set("principal", null);
      return next();
    }
    const header = c.req.header("Authorization") ?? "";
    const match = /^Bearer\s+([\w-]+\.[\w-]+\.[\w-]+|ihk_[\w-]{1,200})\s*$/i.exec(header);
    const credential = match?.[1];
    if (!credential) {
      throw new ApiError(
        "invalid_token",
        "Authorization must be 'Bearer <jwt>' or 'Bearer <API key>'.",
      );
    }
    const services = c.get("services");
    const principal = credential.startsWith(API_KEY_PREFIX)
      ? await authenticateApiKey(services.apiKeyDeps, credential)
      : await services.verifyJwt(credential);
    if (!principal) throw new ApiError("invalid_token");
    c.set("principal", principal);
    return next();
  });
}

function insufficientScope(detail: string, scope?: Scope): ApiError {
  return new ApiError("insufficient_scope", detail, undefined, {
    "WWW-Authenticate": `Bearer realm="image-host", error="insufficient_scope"${scope ? `, scope="${scope}"` : ""}`,
  });
}

function checkScope(principal: Principal, scope: Scope): void {
  if (!hasScope(principal, scope)) {
    throw insufficientScope(`This API key lacks the scope ${scope}.`, scope);
  }
}

/**
 * Rejects anonymous callers with 401, and a credential without `scope` with 403; handlers
 * after it read the caller as `c.get("user")`. Every authenticated route declares its scope.
 */
export function requireUser(scope: Scope) {
  return createMiddleware<AppEnv & UserEnv>(async (c, next) => {
    const principal = c.get("principal");
    if (!principal) throw new ApiError("unauthorized");
    checkScope(principal, scope);
    c.set("user", principal);
    return next();
  });
}

/** For routes open to anonymous callers: a credential that is present must carry `scope`. */
export function scopeIfSignedIn(scope: Scope) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const principal = c.get("principal");
    if (principal) checkScope(principal, scope);
    return next();
  });
}

/** Routes only a user's own token may call (managing API keys): never an API key. */
export function requireUserToken() {
  return createMiddleware<AppEnv & UserEnv>(async (c, next) => {
    const principal = c.get("principal");
    if (!principal) throw new ApiError("unauthorized");
    if (principal.apiKeyId !== undefined) {
      throw insufficientScope("API keys are managed with a user token, not with an API key.");
    }
    c.set("user", principal);
    return next();
  });
}

/**
 * Requires a valid signed URL (`kid`, `exp`, `sig`, each exactly once) for `purpose`, capped
 * at the TTL this deployment signs that purpose with.
 */
export function requireSignature(purpose: SignedPurpose) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const { config } = c.get("services");
    const once = (name: string): string | undefined => {
      const values = c.req.queries(name);
      return values?.length === 1 ? values[0] : undefined;
    };
    const check = await verifyPath(
      config.signing,
      purpose,
      c.req.path,
      { kid: once("kid"), exp: once("exp"), sig: once("sig") },
      Math.floor(Date.now() / 1000),
      purpose === "view" ? config.viewUrlTtlSeconds : config.uploadUrlTtlSeconds,
    );
    if (check === "expired") {
      throw new ApiError(
        "signature_expired",
        purpose === "upload" ? "The upload URL has expired." : "The URL has expired.",
      );
    }
    if (check !== "valid") throw new ApiError("signature_invalid");
    c.set("viewExpires", Number(once("exp")));
    return next();
  });
}

/**
 * Requires a grant to view `/d/{id}/...`: a delivery cookie naming the image or an album that
 * holds it (when the URL
 * carries no signature parameters), or else a valid signed URL. Either way `viewExpires`
 * says until when, so nothing is cached longer than the grant lives.
 */
export function requireViewGrant() {
  const signature = requireSignature("view");
  return createMiddleware<AppEnv>(async (c, next) => {
    const signed = ["kid", "exp", "sig"].some((name) => c.req.query(name) !== undefined);
    if (!signed) {
      const { config } = c.get("services");
      const grant = await readDeliveryCookie(
        config.signing,
        getCookie(c, DELIVERY_COOKIE),
        Math.floor(Date.now() / 1000),
        config.deliveryCookieMaxTtlSeconds,
      );
      const imageId = c.req.param("id") ?? "";
      const granted =
        grant?.grant.kind === "images"
          ? grant.grant.imageIds.has(imageId)
          : grant?.grant.kind === "album" &&
            (await c.get("services").albums.contains(grant.grant.albumId, [imageId]));
      if (grant && granted) {
        c.set("viewExpires", grant.expires);
        return next();
      }
    }
    return signature(c, next);
  });
}

/** Largest JSON request body accepted: metadata only, far above any valid request. */
export const MAX_JSON_BODY_BYTES = 64 * 1024;

function payloadTooLarge(maxBytes: number): ApiError {
  return new ApiError(
    "payload_too_large",
    `JSON bodies are limited to ${maxBytes} bytes.`,
    undefined,
    { Connection: "close" },
  );
}

/** Reads a stream to its end, or cancels it and returns null once it passes `maxBytes`. */
export async function readCapped(
  stream: ReadableStream<Uint8Array>,
  maxBytes: number,
): Promise<Uint8Array | null> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      return null;
    }
    chunks.push(value);
  }
  return concat(chunks);
}

/**
 * Requests with a body must declare it as JSON (so a form post is never half-read) and keep
 * it under `maxBytes`, checked from Content-Length and again while reading (chunked bodies).
 */
export function requireJsonBody(maxBytes = MAX_JSON_BODY_BYTES) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const req = c.req.raw;
    const length = c.req.header("Content-Length");
    if (req.body === null || length === "0") return next();
    const type = c.req.header("Content-Type") ?? "";
    if (!/^application\/(?:[\w.-]+\+)?json\s*(?:;|$)/i.test(type)) {
      throw new ApiError("unsupported_media_type", "Send the body as application/json.");
    }
    if (length !== undefined && /^\d+$/.test(length) && Number(length) > maxBytes) {
      throw payloadTooLarge(maxBytes);
    }
    const bytes = await readCapped(req.body, maxBytes);
    if (bytes === null) throw payloadTooLarge(maxBytes);
    // The validator reads the body again; hand it the bytes we already hold.
    c.req.raw = new Request(req, { body: bytes });
    return next();
  });
}

/** Request headers a browser may send to the API and the upload URLs. */
const CORS_ALLOW_HEADERS = [
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
  "X-HTTP-Method-Override",
  "X-Request-Id",
];

/** Response headers a browser script may read. */
const CORS_EXPOSE_HEADERS = [
  "ETag",
  "Location",
  "Upload-Offset",
  "Upload-Length",
  "Upload-Expires",
  "Tus-Resumable",
  "Tus-Version",
  "X-Image-Id",
  "Idempotency-Replayed",
  "X-Request-Id",
  "Retry-After",
];

const CORS_MAX_AGE_SECONDS = 600;

// One handler per distinct setting, built on first use in the isolate.
const corsHandlers = new Map<string, MiddlewareHandler>();

/**
 * CORS for bearer-token calls (never credentialed, so `*` is safe by default). The origins
 * come from the configuration (`CORS_ALLOWED_ORIGINS`).
 */
export function corsPolicy() {
  return createMiddleware<AppEnv>(async (c, next) => {
    const allowed = loadConfig(c.env).corsAllowedOrigins;
    const key = allowed === "*" ? "*" : allowed.join(",");
    let handler = corsHandlers.get(key);
    if (!handler) {
      handler = cors({
        origin:
          allowed === "*"
            ? "*"
            : (origin) => (allowed.includes(origin.toLowerCase()) ? origin : null),
        allowMethods: ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
        allowHeaders: CORS_ALLOW_HEADERS,
        exposeHeaders: CORS_EXPOSE_HEADERS,
        maxAge: CORS_MAX_AGE_SECONDS,
        credentials: false,
      });
      corsHandlers.set(key, handler);
    }
    // A plain OPTIONS (no preflight headers) is a request of its own: tus asks the server
    // what it supports that way.
    if (c.req.method === "OPTIONS" && !c.req.header("Access-Control-Request-Method")) {
      return next();
    }
    return handler(c, next);
  });
}
