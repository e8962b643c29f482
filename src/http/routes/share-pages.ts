import { type Context, Hono } from "hono";
import { generateCookie, getCookie } from "hono/cookie";
import { z } from "zod";
import { parseShareToken } from "../../auth/credentials";
import { secretDigest } from "../../auth/secrets";
import { readShareSession, type ShareSession, shareSessionValue } from "../../auth/signed-cookies";
import { ApiError } from "../../domain/errors";
import { parseReferer } from "../../domain/hotlink";
import { base64url } from "../../domain/ids";
import {
  moderationGate,
  moderationRefusal,
  REPORT_REASONS,
  reporterAddress,
} from "../../domain/moderation";
import type { Outcome } from "../../domain/result";
import type { VariantRow } from "../../storage/schema";
import { albumPage } from "../../use-cases/albums";
import { reportImage } from "../../use-cases/moderation";
import { type OpenedShare, openShare, sharedVariants, unlockShare } from "../../use-cases/shares";
import type { AppEnv } from "../context";
import { isLocalHttp } from "../cookies";
import { readCapped } from "../middleware";
import { orThrow } from "../outcome";
import { clientIp } from "../rate-limit";
import { renderSharePage, type SharePageModel, sharePageHeaders } from "../share-page";
import { reportIssues } from "../validate";
import { deliveryQuery, isVariantName, serveView } from "./delivery";

/** How long a browser's share session (unlocked, view counted) lasts. */
export const SHARE_SESSION_SECONDS = 1800;
const MAX_FORM_BYTES = 4096;
/** Share variants are revalidated on every use: a revoke or an expiry stops them at once. */
const SHARE_VARIANT_CACHE_CONTROL = "private, no-cache";

const cookieName = (shareId: string) => `ih_share_${shareId}`;

/** The Set-Cookie of a share session, scoped to the share's own path. */
async function sessionCookie(
  c: Context<AppEnv>,
  token: string,
  shareId: string,
  session: ShareSession,
): Promise<string> {
  const expires = Math.floor(Date.now() / 1000) + SHARE_SESSION_SECONDS;
  const value = await shareSessionValue(
    c.get("services").config.signing,
    shareId,
    session,
    expires,
  );
  return generateCookie(cookieName(shareId), value, {
    path: `/s/${token}`,
    httpOnly: true,
    secure: !isLocalHttp(c.req.url),
    sameSite: "Lax",
    maxAge: SHARE_SESSION_SECONDS,
  });
}

/** The token's parts and the session the browser's cookie proves; null for a malformed token. */
async function parsed(c: Context<AppEnv>) {
  const token = c.req.param("token") ?? "";
  const parts = parseShareToken(token);
  if (!parts) return null;
  const session = await readShareSession(
    c.get("services").config.signing,
    getCookie(c, cookieName(parts.id)),
    parts.id,
    Math.floor(Date.now() / 1000),
    SHARE_SESSION_SECONDS,
  );
  return { token, shareId: parts.id, session };
}

/** Browsers get an HTML page; API clients the usual problem+json. */
function wantsHtml(c: Context<AppEnv>): boolean {
  return /\btext\/html\b/i.test(c.req.header("Accept")?.slice(0, 4096) ?? "");
}

function page(
  c: Context<AppEnv>,
  model: SharePageModel,
  status: 200 | 401 | 404 | 429,
  extra: Record<string, string> = {},
): Response {
  const nonce = base64url(crypto.getRandomValues(new Uint8Array(16)));
  const headers = new Headers({ ...sharePageHeaders(nonce), ...extra });
  const body = c.req.method === "HEAD" ? null : renderSharePage(model, nonce);
  return new Response(body, { status, headers });
}

/** A failed open or unlock: an HTML page for browsers, problem+json for everyone else. */
function refusal(c: Context<AppEnv>, outcome: Extract<Outcome<unknown>, { ok: false }>): Response {
  const { code, retryAfterSeconds } = outcome.error;
  if (!wantsHtml(c)) orThrow(outcome);
  if (code === "rate_limited") {
    return page(c, { kind: "unavailable", reason: "rate_limited" }, 429, {
      "Retry-After": String(retryAfterSeconds ?? 60),
    });
  }
  return page(c, { kind: "unavailable", reason: "not_found" }, 404);
}

/** Browsers get the page; clients that ask for JSON get the shared content as JSON. */
function wantsJson(c: Context<AppEnv>): boolean {
  const accept = c.req.header("Accept")?.slice(0, 4096) ?? "";
  return /\bapplication\/json\b/i.test(accept) && !/\btext\/html\b/i.test(accept);
}

/** The variant URLs of one shared image: `/s/{token}[/{imageId}]/{variant}`. */
function variantUrls(origin: string, base: string, variants: readonly VariantRow[]) {
  return Object.fromEntries(
    [...new Set(variants.map((v) => v.name))].map((name) => [name, `${origin}${base}/${name}`]),
  );
}

const ALBUM_PAGE_SIZE = 100;

async function showShare(
  c: Context<AppEnv>,
  token: string,
  opened: OpenedShare,
  before: ShareSession,
): Promise<Response> {
  const { share, image, album, session } = opened;
  const extra: Record<string, string> =
    session.counted !== before.counted || session.unlocked !== before.unlocked
      ? { "Set-Cookie": await sessionCookie(c, token, share.id, session) }
      : {};
  const services = c.get("services");
  const origin = new URL(c.req.url).origin;
  const base = { token, expiresAt: share.expiresAt, allowDownload: share.allowDownload };
  if (album) {
    const view = await albumPage(
      { ...services.deps, albums: services.albums },
      album,
      ALBUM_PAGE_SIZE,
      null,
    );
    if (wantsJson(c)) {
      return c.json(
        {
          kind: "album",
          title: album.title,
          description: album.description,
          expiresAt: share.expiresAt === null ? null : new Date(share.expiresAt).toISOString(),
          allowDownload: share.allowDownload,
          images: view.images.map(({ image: i, variants }) => ({
            id: i.id,
            title: i.title,
            width: i.width,
            height: i.height,
            urls: variantUrls(origin, `/s/${token}/${i.id}`, variants),
          })),
        },
        200,
        { ...extra, "Cache-Control": "no-store", "X-Robots-Tag": "noindex, nofollow" },
      );
    }
    return page(
      c,
      {
        ...base,
        kind: "album",
        title: album.title,
        description: album.description,
        tiles: view.images.map(({ image: i, variants }) => ({
          imageId: i.id,
          title: i.title ?? i.filename ?? "",
          width: i.width ?? 0,
          height: i.height ?? 0,
          variants,
        })),
      },
      200,
      extra,
    );
  }
  if (!image) throw new ApiError("share_not_found");
  switch (moderationGate(image.moderation, services.config.moderation.pendingDelivery)) {
    case "hide":
      throw new ApiError("share_not_found");
    case "unavailable":
      orThrow(moderationRefusal(image.moderation));
      break;
    default:
      break;
  }
  const variants = await sharedVariants(services.shareDeps, image);
  if (wantsJson(c)) {
    return c.json(
      {
        kind: "image",
        title: image.title,
        width: image.width,
        height: image.height,
        expiresAt: share.expiresAt === null ? null : new Date(share.expiresAt).toISOString(),
        allowDownload: share.allowDownload,
        urls: variantUrls(origin, `/s/${token}`, variants),
      },
      200,
      { ...extra, "Cache-Control": "no-store", "X-Robots-Tag": "noindex, nofollow" },
    );
  }
  return page(
    c,
    {
      ...base,
      kind: "image",
      title: image.title ?? image.filename ?? "Shared image",
      width: image.width ?? 0,
      height: image.height ?? 0,
      dominantColor: image.dominantColor,
      variants,
    },
    200,
    extra,
  );
}

/**
 * Serves one variant of a shared image (`imageId` null for an image share, the image's id in
 * an album share), under the share's own rules: downloads, allowed sites, its session.
 */
async function shareVariant(c: Context<AppEnv>, imageId: string | null, variant: string) {
  const request = await parsed(c);
  if (!request) throw new ApiError("share_not_found");
  const query = deliveryQuery(c.req.url);
  if (!isVariantName(variant)) throw new ApiError("variant_not_found");
  const services = c.get("services");
  const opened = orThrow(
    await openShare(services.shareDeps, {
      token: request.token,
      session: request.session,
      purpose: "variant",
    }),
  );
  const { share } = opened;
  let image = opened.image;
  if (opened.album) {
    // An album share shows its images: one that is in the album, live and processed.
    const member = imageId !== null && (await services.albums.contains(opened.album.id, [imageId]));
    image = member && imageId !== null ? await services.deps.images.get(imageId) : null;
  } else if (imageId !== null) {
    image = null;
  }
  if (!image || image.servedRevision === null) throw new ApiError("variant_not_found");
  // An album shows only what moderation allows; a single image's share is gated by serveView.
  if (opened.album && image.moderation !== "allowed") throw new ApiError("variant_not_found");
  if ((variant === "original" || query.download) && !share.allowDownload) {
    throw new ApiError("download_not_allowed");
  }
  const res = await serveView(c, {
    imageId: image.id,
    variant,
    revision: image.servedRevision,
    viewer: {
      kind: "share",
      shareId: share.id,
      referer: parseReferer(c.req.header("Referer") ?? null),
      ownHost: new URL(c.req.url).host,
      allowedReferers: opened.allowedReferers,
    },
    cacheControl: SHARE_VARIANT_CACHE_CONTROL,
    query,
  });
  if (opened.session.counted !== request.session.counted) {
    res.headers.append(
      "Set-Cookie",
      await sessionCookie(c, request.token, share.id, opened.session),
    );
  }
  return res;
}

const ReportForm = z.strictObject({
  reason: z.enum(REPORT_REASONS),
  note: z
    .string()
    .trim()
    .max(2000)
    .transform((n) => (n === "" ? undefined : n))
    .optional(),
});

/**
 * Another site's page must not post reports on its visitors' behalf (an auto-submitting form
 * would make every visitor a reporter): browsers say where a request comes from.
 */
function refuseCrossSite(c: Context<AppEnv>): void {
  const site = c.req.header("Sec-Fetch-Site");
  const origin = c.req.header("Origin");
  const own = new URL(c.req.url).origin;
  if ((site && site !== "same-origin" && site !== "none") || (origin && origin !== own)) {
    throw new ApiError("cross_site_request", "Report from the share page itself.");
  }
}

/** A form's body as text, at most MAX_FORM_BYTES (`what` names it in the 413). */
async function smallBody(c: Context<AppEnv>, what: string): Promise<string> {
  const body = c.req.raw.body ? await readCapped(c.req.raw.body, MAX_FORM_BYTES) : null;
  if (c.req.raw.body && body === null) {
    throw new ApiError("payload_too_large", `${what} are limited to ${MAX_FORM_BYTES} bytes.`);
  }
  return new TextDecoder().decode(body ?? undefined);
}

/** The report form's fields (form-encoded from the page, or JSON), validated. */
async function reportFields(c: Context<AppEnv>): Promise<z.infer<typeof ReportForm>> {
  const type = c.req.header("Content-Type") ?? "";
  const form = /^application\/x-www-form-urlencoded\s*(;|$)/i.test(type);
  if (!form && !/^application\/json\s*(;|$)/i.test(type)) {
    throw new ApiError("unsupported_media_type", "Send the report as a form or as JSON.");
  }
  const text = await smallBody(c, "Reports");
  let raw: unknown = null;
  if (form) raw = Object.fromEntries(new URLSearchParams(text));
  else {
    try {
      raw = JSON.parse(text);
    } catch {
      throw new ApiError("invalid_json");
    }
  }
  const parsed = ReportForm.safeParse(raw);
  if (!parsed.success) {
    throw new ApiError(
      "validation_failed",
      "Send a reason and, optionally, a note.",
      reportIssues(parsed.error.issues),
    );
  }
  return parsed.data;
}

/** Share links, mounted at `/s`: the page, its password form, and the shared variants. */
export const sharePagesApp = new Hono<AppEnv>()
  .get("/:token", async (c) => {
    const request = await parsed(c);
    if (!request) return refusal(c, { ok: false, error: { code: "share_not_found" } });
    const outcome = await openShare(c.get("services").shareDeps, {
      token: request.token,
      session: request.session,
      purpose: "page",
    });
    if (!outcome.ok) return refusal(c, outcome);
    if (outcome.value.locked) {
      if (wantsJson(c)) throw new ApiError("share_locked");
      return page(c, { kind: "locked", token: request.token, wrongPassword: false }, 200);
    }
    return showShare(c, request.token, outcome.value, request.session);
  })
  .post("/:token", async (c) => {
    const request = await parsed(c);
    if (!request) return refusal(c, { ok: false, error: { code: "share_not_found" } });
    const type = c.req.header("Content-Type") ?? "";
    if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(type)) {
      throw new ApiError("unsupported_media_type", "Send the password as a form field.");
    }
    const password = new URLSearchParams(await smallBody(c, "Forms")).get("password");
    const outcome = await unlockShare(c.get("services").shareDeps, {
      token: request.token,
      password: password ?? "",
      client: clientIp(c),
    });
    if (!outcome.ok) {
      if (outcome.error.code === "share_password_invalid" && wantsHtml(c)) {
        return page(c, { kind: "locked", token: request.token, wrongPassword: true }, 401);
      }
      return refusal(c, outcome);
    }
    const cookie = await sessionCookie(c, request.token, request.shareId, outcome.value.session);
    return new Response(null, {
      status: 303,
      headers: {
        Location: `/s/${request.token}`,
        "Set-Cookie": cookie,
        "Cache-Control": "no-store",
      },
    });
  })
  .post("/:token/report", async (c) => {
    refuseCrossSite(c);
    const request = await parsed(c);
    if (!request) return refusal(c, { ok: false, error: { code: "share_not_found" } });
    const fields = await reportFields(c);
    const services = c.get("services");
    const opened = await openShare(services.shareDeps, {
      token: request.token,
      session: request.session,
      purpose: "variant",
    });
    if (!opened.ok) return refusal(c, opened);
    // An album's images are reported from the API; the page reports the image it shows.
    const image = opened.value.image;
    if (!image) throw new ApiError("share_not_found");
    // Share viewers are not signed in: each client address of each share counts as one reporter.
    const reporter = await secretDigest(`${request.shareId}\n${reporterAddress(clientIp(c))}`);
    const result = orThrow(
      await reportImage(services.moderationDeps, {
        principal: null,
        viaShare: true,
        reporterId: `share:${reporter.slice(0, 32)}`,
        imageId: image.id,
        reason: fields.reason,
        note: fields.note ?? null,
        threshold: services.config.moderation.reportThreshold,
      }),
    );
    if (wantsHtml(c)) return page(c, { kind: "reported", token: request.token }, 200);
    return c.json(result, result.duplicate ? 200 : 201, { "Cache-Control": "no-store" });
  })
  .get("/:token/:variant", (c) => shareVariant(c, null, c.req.param("variant")))
  .get("/:token/:imageId/:variant", (c) =>
    shareVariant(c, c.req.param("imageId"), c.req.param("variant")),
  );
