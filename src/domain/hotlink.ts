/**
 * Hotlink rules (docs/architecture.md, "Delivery"): which web pages may embed an owner's
 * public images, decided from the `Referer` header. Hosts are parsed with `URL` and compared
 * exactly, or by whole labels for a `*.` pattern; never by substring.
 */

/** What a blocked request gets: a 403 problem, or a small placeholder image. */
export type BlockedResponse = "403" | "placeholder";

/** One owner's rules, as stored and as set through `PUT /v1/settings/hotlink`. */
export interface HotlinkRules {
  /** `example.com`, `*.example.org` (any subdomain, not the apex), or `*` (any site). */
  allowedReferers: string[];
  /** Whether a request without a Referer (privacy settings, apps, direct visits) is served. */
  allowEmptyReferer: boolean;
  blockedResponse: BlockedResponse;
}

/** Rules of an owner who never set any: every site may embed (the point of a public image). */
export const DEFAULT_HOTLINK_RULES: HotlinkRules = Object.freeze({
  allowedReferers: [],
  allowEmptyReferer: true,
  blockedResponse: "403",
}) as HotlinkRules;

/** Longest pattern list an owner may set. */
export const MAX_ALLOWED_REFERERS = 100;

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/**
 * Normalises a pattern to `*`, `host` or `*.host` (lower case, IDNs as punycode, no port, no
 * trailing dot); null when it is not one of those.
 */
export function normaliseRefererPattern(pattern: string): string | null {
  const text = pattern.trim().toLowerCase();
  if (text === "*") return "*";
  const wildcard = text.startsWith("*.");
  const host = wildcard ? text.slice(2) : text;
  if (host === "" || host.length > 253 || /[^\p{L}\p{N}.-]/u.test(host)) return null;
  let parsed: string;
  try {
    parsed = new URL(`http://${host}/`).hostname;
  } catch {
    return null;
  }
  const labels = parsed.replace(/\.$/, "").split(".");
  if (!labels.every((l) => LABEL.test(l))) return null;
  // A pattern names a site: a bare TLD (`*.com`, `com`) or an IP-literal wildcard is refused.
  if (labels.length < 2 && parsed !== "localhost") return null;
  if (wildcard && labels.every((l) => /^\d+$/.test(l))) return null;
  return (wildcard ? "*." : "") + labels.join(".");
}

/** Whether a normalised pattern covers a hostname (already lower case, from `URL`). */
export function hostMatches(pattern: string, hostname: string): boolean {
  if (pattern === "*") return true;
  if (pattern.startsWith("*.")) return hostname.endsWith(pattern.slice(1));
  return hostname === pattern;
}

/** What a `Referer` header says about where a request comes from. */
export type RefererOrigin =
  | { kind: "none" }
  | { kind: "site"; host: string; hostname: string }
  /** Present but not an http(s) URL: counts as a foreign site that matches no pattern. */
  | { kind: "unknown" };

/** Parses a Referer header; oversized or non-URL values are `unknown`, never an error. */
export function parseReferer(header: string | null): RefererOrigin {
  if (header === null || header.trim() === "") return { kind: "none" };
  if (header.length > 4096) return { kind: "unknown" };
  let url: URL;
  try {
    url = new URL(header.trim());
  } catch {
    return { kind: "unknown" };
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return { kind: "unknown" };
  return { kind: "site", host: url.host, hostname: url.hostname.replace(/\.$/, "") };
}

/** The decision: served, blocked, or it depends on the owner's rules (fetched only then). */
export type HotlinkVerdict = "allowed" | "blocked" | "ask_owner";

/**
 * Decides what the deployment alone can: the service's own pages and the global allowlist
 * are always served. `ownHost` is the host (with port) the request was sent to.
 */
export function hotlinkBeforeOwner(
  referer: RefererOrigin,
  ownHost: string,
  globalAllowed: readonly string[],
): "allowed" | "ask_owner" {
  if (referer.kind !== "site") return "ask_owner";
  if (referer.host === ownHost) return "allowed";
  return globalAllowed.some((p) => hostMatches(p, referer.hostname)) ? "allowed" : "ask_owner";
}

/**
 * The full decision for a request `hotlinkBeforeOwner` left open. The allowlist in force is
 * the global one plus the owner's; when both are empty every site may embed.
 */
export function hotlinkWithOwner(
  referer: RefererOrigin,
  globalAllowed: readonly string[],
  rules: HotlinkRules,
): "allowed" | "blocked" {
  if (referer.kind === "none") return rules.allowEmptyReferer ? "allowed" : "blocked";
  if (globalAllowed.length === 0 && rules.allowedReferers.length === 0) return "allowed";
  if (referer.kind === "unknown") return "blocked";
  const { hostname } = referer;
  return rules.allowedReferers.some((p) => hostMatches(p, hostname)) ? "allowed" : "blocked";
}

/**
 * Whether a share link's variant may be fetched from where the request comes from: a share
 * with an `allowedReferers` list is served to its own pages (the service's origin), to
 * requests without a Referer (the token is the authority) and to the listed sites.
 */
export function shareRefererAllowed(
  referer: RefererOrigin,
  ownHost: string,
  patterns: readonly string[],
): boolean {
  if (patterns.length === 0 || referer.kind === "none") return true;
  if (referer.kind === "unknown") return false;
  return referer.host === ownHost || patterns.some((p) => hostMatches(p, referer.hostname));
}
