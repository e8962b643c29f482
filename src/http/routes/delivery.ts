import { type Context, Hono } from "hono";
import { attachmentDisposition } from "../../domain/download";
import { ApiError } from "../../domain/errors";
import { parseReferer } from "../../domain/hotlink";
import { isImageId } from "../../domain/ids";
import {
  FORCEABLE_FORMATS,
  type ForceableFormat,
  type FormatChoice,
  formatClass,
  VARIANT_NAMES,
  type VariantName,
} from "../../domain/images";
import { RATE_LIMITS } from "../../domain/rate-limit";
import { deliverVariant, type Viewer } from "../../use-cases/deliver-variant";
import type { AppEnv } from "../context";
import { requireViewGrant } from "../middleware";
import { orThrow } from "../outcome";
import { placeholderPng } from "../placeholder";
import { rateLimitRefusal } from "../rate-limit";
import { imageSecurityHeaders, serveRendition } from "../serve-object";

/** The stable URL: short, so a change reaches browsers and shared caches within a minute. */
const STABLE_CACHE_CONTROL = "public, max-age=60, must-revalidate";
/** Revisioned URLs never change their bytes: a reprocess makes new URLs. */
const IMMUTABLE_CACHE_CONTROL = "public, max-age=31536000, immutable";

/** What the query string asks for: `?format=` and `?download=` (other parameters are ignored). */
export interface DeliveryQuery {
  forced: ForceableFormat | null;
  download: boolean;
}

function single(params: URLSearchParams, name: string): string | null {
  const values = params.getAll(name);
  if (values.length > 1) {
    throw new ApiError("validation_failed", `query ${name}: give it at most once`);
  }
  return values[0] ?? null;
}

/** Parses the delivery query; a bad value is a 400 naming the parameter. */
export function deliveryQuery(url: string): DeliveryQuery {
  const at = url.indexOf("?");
  if (at < 0) return { forced: null, download: false };
  const params = new URLSearchParams(url.slice(at + 1));
  const format = single(params, "format");
  if (format !== null && !(FORCEABLE_FORMATS as readonly string[]).includes(format)) {
    throw new ApiError(
      "validation_failed",
      `query format: must be one of ${FORCEABLE_FORMATS.join(", ")}`,
    );
  }
  const download = single(params, "download");
  if (download !== null && !["1", "0", "true", "false"].includes(download)) {
    throw new ApiError("validation_failed", "query download: must be 1 or 0");
  }
  return {
    forced: format as ForceableFormat | null,
    download: download === "1" || download === "true",
  };
}

/** Whether a path segment names a variant. */
export function isVariantName(value: string): value is VariantName {
  return (VARIANT_NAMES as readonly string[]).includes(value);
}

/** The variant named by the path; a malformed id or name is an image that does not exist. */
function target(c: Context<AppEnv>): { imageId: string; variant: VariantName } {
  const { id = "", variant = "" } = c.req.param();
  if (!isImageId(id) || !isVariantName(variant)) throw new ApiError("image_not_found");
  return { imageId: id, variant };
}

/** One view to serve: which rendition, for whom, and how long it may be cached. */
export interface ViewRequest {
  imageId: string;
  variant: VariantName;
  revision: number | "current";
  viewer: Viewer;
  cacheControl: string;
  query: DeliveryQuery;
}

/**
 * Serves one view (`/i`, `/d`, `/s/{token}/{variant}`): cache or origin, hotlink verdict, then
 * conditional and range handling.
 */
export async function serveView(c: Context<AppEnv>, view: ViewRequest): Promise<Response> {
  const req = c.req.raw;
  const { imageId, variant, revision, viewer, query } = view;
  if (revision !== "current" && revision < 1) throw new ApiError("image_not_found");
  const choice: FormatChoice = query.forced
    ? { kind: "forced", format: query.forced }
    : { kind: "negotiate", cls: formatClass(req.headers.get("Accept")) };
  const { delivery } = c.get("services");
  const result = orThrow(
    await deliverVariant(delivery, {
      imageId,
      variant,
      revision,
      viewer,
      choice,
      fill: req.method === "GET" && !req.headers.has("Range"),
    }),
  );
  if (result.kind === "throttled") throw rateLimitRefusal(c, RATE_LIMITS.delivery);
  if (result.kind === "blurred") {
    const headers = imageSecurityHeaders();
    headers.set("Content-Type", "image/webp");
    // Never cached: the decision may come any minute.
    headers.set("Cache-Control", "private, no-store");
    headers.set("X-Moderation", "pending_review");
    if (req.method === "HEAD") await result.body.cancel();
    return new Response(req.method === "HEAD" ? null : result.body, { status: 200, headers });
  }
  if (result.kind === "blocked" || result.kind === "over_budget") {
    const over = result.kind === "over_budget";
    const retry: Record<string, string> = over
      ? { "Retry-After": String(result.retryAfterSeconds) }
      : {};
    if (result.response !== "placeholder") {
      throw over
        ? new ApiError("rate_limited", result.detail, undefined, retry)
        : new ApiError("hotlink_blocked");
    }
    const headers = imageSecurityHeaders();
    headers.set("Content-Type", "image/png");
    headers.set("Cache-Control", "no-store");
    for (const [name, value] of Object.entries(retry)) headers.set(name, value);
    const body = req.method === "HEAD" ? null : placeholderPng();
    return new Response(body, { status: over ? 429 : 403, headers });
  }
  // Whether this data centre's edge cache answered (no D1, no R2): for operators and clients.
  const headers: Record<string, string> = { "X-Cache": result.cached ? "HIT" : "MISS" };
  if (choice.kind === "negotiate") headers.Vary = "Accept";
  if (query.download) {
    headers["Content-Disposition"] = attachmentDisposition(
      result.meta.filename,
      imageId,
      variant,
      result.meta.format,
    );
  }
  return serveRendition(req, result, view.cacheControl, headers);
}

/** Serves the view a `/i` or `/d` path names. */
function view(
  c: Context<AppEnv>,
  revision: number | "current",
  viewer: Viewer,
  cacheControl: string,
): Promise<Response> {
  const query = deliveryQuery(c.req.url);
  const { imageId, variant } = target(c);
  return serveView(c, { imageId, variant, revision, viewer, cacheControl, query });
}

/** The viewer of an unsigned URL: hotlink rules apply. */
function publicViewer(c: Context<AppEnv>): Viewer {
  return {
    kind: "public",
    referer: parseReferer(c.req.header("Referer") ?? null),
    ownHost: new URL(c.req.url).host,
    globalAllowed: c.get("services").config.hotlinkAllowedReferers,
  };
}

/**
 * Signed delivery, mounted at `/d`: `/d/{id}/{revision}/{variant}?kid&exp&sig`, or the same
 * path without a signature for the holder of a delivery cookie naming the image.
 */
export const signedDeliveryApp = new Hono<AppEnv>().get(
  "/:id/:revision{[0-9]{1,9}}/:variant",
  requireViewGrant(),
  (c) => {
    // Never cached by anyone longer than the signature (or the cookie) lives.
    const maxAge = Math.max(0, c.get("viewExpires") - Math.floor(Date.now() / 1000));
    return view(
      c,
      Number(c.req.param("revision")),
      { kind: "signed" },
      `private, max-age=${maxAge}`,
    );
  },
);

/**
 * Public delivery, mounted at `/i`: the stable `/i/{id}/{variant}` (the served revision,
 * short TTL) and the revisioned `/i/{id}/{revision}/{variant}` (immutable), public images only.
 */
export const publicDeliveryApp = new Hono<AppEnv>()
  .get("/:id/:variant", (c) => view(c, "current", publicViewer(c), STABLE_CACHE_CONTROL))
  .get("/:id/:revision{[0-9]{1,9}}/:variant", (c) =>
    view(c, Number(c.req.param("revision")), publicViewer(c), IMMUTABLE_CACHE_CONTROL),
  );
