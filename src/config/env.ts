import { z } from "zod";
import type { JwtVerifierConfig } from "../auth/jwt";
import { parseKeyring, type SigningKeyring } from "../auth/url-signing";
import { normaliseRefererPattern } from "../domain/hotlink";
import type { PendingDelivery } from "../domain/moderation";
import type { ShareLimits } from "../domain/shares";
import { DEFAULT_MAX_PIXELS } from "../pipeline/presets";
import type { ZonePurgeConfig } from "../storage/zone-purge";

/** Validated configuration of the edge Worker. */
export interface Config {
  jwt: JwtVerifierConfig;
  signing: SigningKeyring;
  maxUploadBytes: number;
  uploadUrlTtlSeconds: number;
  viewUrlTtlSeconds: number;
  /** Browser origins allowed by CORS: any (`*`) or an exact list. */
  corsAllowedOrigins: "*" | string[];
  /** Sites allowed to embed every public image (normalised patterns; empty: no global list). */
  hotlinkAllowedReferers: string[];
  /** Cloudflare's purge API for the zone, when `CF_ZONE_ID` and `CF_API_TOKEN` are set. */
  zonePurge: ZonePurgeConfig | null;
  /** Delay of the second local cache delete after a purge (purge-cache.ts). */
  cacheRefillGuardMs: number;
  /** Lifetimes of share links (domain/shares.ts). */
  shares: ShareLimits;
  /** Longest lifetime of a delivery cookie (`POST /v1/delivery-cookies`). */
  deliveryCookieMaxTtlSeconds: number;
  /** Resumable uploads (tus): largest upload and how long a session lives. */
  resumable: { maxBytes: number; ttlSeconds: number };
  /** The processor's pixel ceiling, for refusing an upload from its header early. */
  maxPixels: number;
  /** Moderation: how images under review are served, and how many reporters hold one. */
  moderation: { pendingDelivery: PendingDelivery; reportThreshold: number };
}

const positiveInt = z.coerce.number().int().positive();

const EnvSchema = z.object({
  JWT_ISSUER: z.string().min(1),
  JWT_AUDIENCE: z.string().min(1),
  JWT_JWKS_URL: z.string().default(""),
  JWT_SECRET: z.string().default(""),
  URL_SIGNING_KEY_ID: z.string().min(1),
  URL_SIGNING_KEYS: z.string().min(1),
  MAX_UPLOAD_BYTES: positiveInt,
  UPLOAD_URL_TTL_SECONDS: positiveInt,
  VIEW_URL_TTL_SECONDS: positiveInt,
  CORS_ALLOWED_ORIGINS: z.string().default("*"),
  HOTLINK_ALLOWED_REFERERS: z.string().default(""),
  CACHE_REFILL_GUARD_MS: z.coerce.number().int().min(0).max(10_000).default(1000),
  CF_ZONE_ID: z.string().default(""),
  CF_API_TOKEN: z.string().default(""),
  CF_API_BASE_URL: z.url({ protocol: /^https?$/ }).default("https://api.cloudflare.com/client/v4"),
  SHARE_DEFAULT_TTL_SECONDS: positiveInt.default(7 * 86400),
  SHARE_MAX_TTL_SECONDS: positiveInt.default(30 * 86400),
  SHARE_ALLOW_NEVER: z.enum(["true", "false"]).default("false"),
  DELIVERY_COOKIE_MAX_TTL_SECONDS: positiveInt.max(86400).default(3600),
  RESUMABLE_MAX_UPLOAD_BYTES: positiveInt.default(32 * 1024 * 1024),
  RESUMABLE_UPLOAD_TTL_SECONDS: positiveInt.max(7 * 86400).default(86400),
  MAX_PIXELS: z.coerce.number().int().min(0).default(0),
  MODERATION_PENDING_DELIVERY: z.enum(["owner_only", "blurred", "451"]).default("owner_only"),
  MODERATION_REPORT_THRESHOLD: positiveInt.max(1000).default(3),
});

/** Parses `HOTLINK_ALLOWED_REFERERS` (comma-separated host patterns); null when one is invalid. */
function parseRefererList(spec: string): string[] | null {
  const patterns: string[] = [];
  for (const raw of spec.split(",")) {
    if (raw.trim() === "") continue;
    const pattern = normaliseRefererPattern(raw);
    if (pattern === null) return null;
    patterns.push(pattern);
  }
  return patterns;
}

/**
 * Parses `CORS_ALLOWED_ORIGINS`: empty or containing `*` allows any origin; otherwise a
 * comma-separated list of exact origins (`https://app.example.com`).
 */
function parseAllowedOrigins(spec: string): "*" | string[] {
  const origins = spec
    .split(",")
    .map((o) => o.trim().replace(/\/+$/, "").toLowerCase())
    .filter((o) => o !== "");
  return origins.length === 0 || origins.includes("*") ? "*" : origins;
}

/** Raised once per isolate when the deployment is misconfigured. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

const cache = new WeakMap<object, Config>();

/** Parses and caches the edge configuration for an env object; throws ConfigError when invalid. */
export function loadConfig(env: Env): Config {
  const hit = cache.get(env);
  if (hit) return hit;
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(`invalid configuration: ${z.prettifyError(parsed.error)}`);
  }
  const e = parsed.data;
  const signing = parseKeyring(e.URL_SIGNING_KEYS, e.URL_SIGNING_KEY_ID);
  if (!signing) {
    throw new ConfigError("URL_SIGNING_KEYS must be kid:secret pairs including URL_SIGNING_KEY_ID");
  }
  let jwt: JwtVerifierConfig;
  if (e.JWT_JWKS_URL !== "") {
    jwt = { kind: "jwks", url: e.JWT_JWKS_URL, issuer: e.JWT_ISSUER, audience: e.JWT_AUDIENCE };
  } else if (e.JWT_SECRET.length >= 32) {
    jwt = { kind: "secret", secret: e.JWT_SECRET, issuer: e.JWT_ISSUER, audience: e.JWT_AUDIENCE };
  } else {
    throw new ConfigError("set JWT_JWKS_URL, or JWT_SECRET with at least 32 characters");
  }
  const hotlinkAllowedReferers = parseRefererList(e.HOTLINK_ALLOWED_REFERERS);
  if (!hotlinkAllowedReferers) {
    throw new ConfigError(
      "HOTLINK_ALLOWED_REFERERS must be comma-separated hosts such as example.com or *.example.org",
    );
  }
  if (e.SHARE_DEFAULT_TTL_SECONDS > e.SHARE_MAX_TTL_SECONDS) {
    throw new ConfigError("SHARE_DEFAULT_TTL_SECONDS must not exceed SHARE_MAX_TTL_SECONDS");
  }
  if ([...signing.keys.keys()].some((kid) => !/^[\w-]{1,32}$/.test(kid))) {
    // Key ids travel verbatim in URLs and in signed cookie values.
    throw new ConfigError("URL_SIGNING_KEYS key ids must be 1-32 letters, digits, - or _");
  }
  if ((e.CF_ZONE_ID === "") !== (e.CF_API_TOKEN === "")) {
    throw new ConfigError("set both CF_ZONE_ID and the CF_API_TOKEN secret, or neither");
  }
  const config: Config = {
    jwt,
    signing,
    maxUploadBytes: e.MAX_UPLOAD_BYTES,
    uploadUrlTtlSeconds: e.UPLOAD_URL_TTL_SECONDS,
    viewUrlTtlSeconds: e.VIEW_URL_TTL_SECONDS,
    corsAllowedOrigins: parseAllowedOrigins(e.CORS_ALLOWED_ORIGINS),
    hotlinkAllowedReferers,
    cacheRefillGuardMs: e.CACHE_REFILL_GUARD_MS,
    shares: {
      defaultTtlSeconds: e.SHARE_DEFAULT_TTL_SECONDS,
      maxTtlSeconds: e.SHARE_MAX_TTL_SECONDS,
      allowNever: e.SHARE_ALLOW_NEVER === "true",
    },
    deliveryCookieMaxTtlSeconds: e.DELIVERY_COOKIE_MAX_TTL_SECONDS,
    resumable: {
      maxBytes: e.RESUMABLE_MAX_UPLOAD_BYTES,
      ttlSeconds: e.RESUMABLE_UPLOAD_TTL_SECONDS,
    },
    maxPixels: e.MAX_PIXELS === 0 ? DEFAULT_MAX_PIXELS : e.MAX_PIXELS,
    zonePurge:
      e.CF_ZONE_ID === ""
        ? null
        : { zoneId: e.CF_ZONE_ID, apiToken: e.CF_API_TOKEN, apiBase: e.CF_API_BASE_URL },
    moderation: {
      pendingDelivery: e.MODERATION_PENDING_DELIVERY,
      reportThreshold: e.MODERATION_REPORT_THRESHOLD,
    },
  };
  cache.set(env, config);
  return config;
}
