/**
 * Conditional requests (RFC 9110 §13): strict parsing of the four precondition headers and
 * their evaluation in the order of §13.2.2. A malformed header is treated as absent, as the
 * RFC asks for invalid dates and as is the only safe reading of a broken entity-tag list.
 */

/** One entity tag: its opaque value (without quotes) and whether it is weak. */
export interface EntityTag {
  weak: boolean;
  opaque: string;
}

/** A parsed `If-Match`/`If-None-Match` value: `*` or a non-empty list of tags. */
export type EntityTagCondition = { kind: "any" } | { kind: "tags"; tags: readonly EntityTag[] };

// etagc = %x21 / %x23-7E / obs-text (RFC 9110 §8.8.3)
const ENTITY_TAG = /^(W\/)?"([\x21\x23-\x7e\x80-\xff]*)"$/;

/** Parses one entity tag such as `"abc"` or `W/"abc"`; null when malformed. */
export function parseEntityTag(value: string): EntityTag | null {
  const m = ENTITY_TAG.exec(value.trim());
  if (!m) return null;
  return { weak: m[1] !== undefined, opaque: m[2] ?? "" };
}

/** Longest list we look at: real clients send one or a handful of tags. */
const MAX_TAGS = 64;

/** Parses `*` or a comma-separated entity-tag list; null when absent, empty or malformed. */
export function parseEntityTagCondition(header: string | null): EntityTagCondition | null {
  if (header === null) return null;
  const text = header.trim();
  if (text === "*") return { kind: "any" };
  // One list element (possibly empty, RFC 9110 §5.6.1) and its delimiter per match.
  const element = /[ \t]*(?:((?:W\/)?"[\x21\x23-\x7e\x80-\xff]*")[ \t]*)?(,|$)/y;
  const tags: EntityTag[] = [];
  for (;;) {
    const m = element.exec(text);
    if (!m) return null;
    const tag = m[1] === undefined ? null : parseEntityTag(m[1]);
    if (tag) tags.push(tag);
    if (tags.length > MAX_TAGS) return null;
    if (m[2] === "") break;
  }
  return tags.length > 0 ? { kind: "tags", tags } : null;
}

const DAY_NAMES = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const LONG_DAY_NAMES = [
  "Sunday",
  "Monday",
  "Tuesday",
  "Wednesday",
  "Thursday",
  "Friday",
  "Saturday",
];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

const IMF_FIXDATE =
  /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{2}) ([A-Z][a-z]{2}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
const RFC_850 =
  /^(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (\d{2})-([A-Z][a-z]{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
const ASCTIME =
  /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) ([A-Z][a-z]{2}) ( \d|\d{2}) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/;

function utc(
  year: number,
  monthName: string,
  day: number,
  hour: number,
  minute: number,
  second: number,
): number | null {
  const month = MONTHS.indexOf(monthName);
  if (month < 0 || hour > 23 || minute > 59 || second > 60) return null;
  const ms = Date.UTC(year, month, day, hour, minute, Math.min(second, 59));
  // Rejects 31 Feb and friends instead of letting Date roll them over.
  if (new Date(ms).getUTCDate() !== day || day < 1) return null;
  return ms;
}

/**
 * Parses an HTTP-date (IMF-fixdate, or the obsolete RFC 850 and asctime forms, RFC 9110
 * §5.6.7) into milliseconds; null for anything else (Date.parse would accept "1" or "Jan").
 */
export function parseHttpDate(value: string | null, nowMs = Date.now()): number | null {
  if (value === null) return null;
  const text = value.trim();
  let m = IMF_FIXDATE.exec(text);
  if (m) {
    const [, dayName = "", d = "", mon = "", y = "", h = "", mi = "", s = ""] = m;
    const ms = utc(Number(y), mon, Number(d), Number(h), Number(mi), Number(s));
    return ms !== null && DAY_NAMES[new Date(ms).getUTCDay()] === dayName ? ms : null;
  }
  m = RFC_850.exec(text);
  if (m) {
    const [, dayName = "", d = "", mon = "", yy = "", h = "", mi = "", s = ""] = m;
    // Two-digit years more than 50 years ahead belong to the previous century (§5.6.7).
    const nowYear = new Date(nowMs).getUTCFullYear();
    let year = Math.floor(nowYear / 100) * 100 + Number(yy);
    if (year > nowYear + 50) year -= 100;
    const ms = utc(year, mon, Number(d), Number(h), Number(mi), Number(s));
    return ms !== null && LONG_DAY_NAMES[new Date(ms).getUTCDay()] === dayName ? ms : null;
  }
  m = ASCTIME.exec(text);
  if (m) {
    const [, dayName = "", mon = "", d = "", h = "", mi = "", s = "", y = ""] = m;
    const ms = utc(Number(y), mon, Number(d.trim()), Number(h), Number(mi), Number(s));
    return ms !== null && DAY_NAMES[new Date(ms).getUTCDay()] === dayName ? ms : null;
  }
  return null;
}

/** The preconditions of one request that actually apply (RFC 9110 §13.2.2). */
export interface Preconditions {
  ifMatch: EntityTagCondition | null;
  /** Milliseconds; only when there is no (valid) If-Match. */
  ifUnmodifiedSince: number | null;
  ifNoneMatch: EntityTagCondition | null;
  /** Milliseconds; only for GET/HEAD without a (valid) If-None-Match. */
  ifModifiedSince: number | null;
}

/** Reads the precondition headers, dropping malformed ones and those that do not apply. */
export function parsePreconditions(
  headers: Headers,
  method: string,
  nowMs = Date.now(),
): Preconditions {
  const ifMatch = parseEntityTagCondition(headers.get("If-Match"));
  const ifNoneMatch = parseEntityTagCondition(headers.get("If-None-Match"));
  const safe = method === "GET" || method === "HEAD";
  const modifiedSince = parseHttpDate(headers.get("If-Modified-Since"), nowMs);
  return {
    ifMatch,
    ifUnmodifiedSince: ifMatch ? null : parseHttpDate(headers.get("If-Unmodified-Since"), nowMs),
    ifNoneMatch,
    // A date in the future is invalid (§13.1.3) and must not pin a stale copy.
    ifModifiedSince:
      safe && !ifNoneMatch && modifiedSince !== null && modifiedSince <= nowMs
        ? modifiedSince
        : null,
  };
}

/** Whether any precondition applies at all. */
export function hasPreconditions(p: Preconditions): boolean {
  return (
    p.ifMatch !== null ||
    p.ifUnmodifiedSince !== null ||
    p.ifNoneMatch !== null ||
    p.ifModifiedSince !== null
  );
}

function matches(condition: EntityTagCondition, current: EntityTag, strong: boolean): boolean {
  if (condition.kind === "any") return true;
  return condition.tags.some(
    (t) => t.opaque === current.opaque && (!strong || (!t.weak && !current.weak)),
  );
}

/** Current validators of the selected representation; lastModified may be unknown. */
export interface Validators {
  etag: string;
  /** Milliseconds; undefined when not known without a storage read. */
  lastModified?: number;
}

/**
 * Result of the evaluation: go on (maybe with a Range), 304, 412, or "unknown" when a date
 * precondition needs a Last-Modified that was not supplied.
 */
export type PreconditionOutcome = "proceed" | "not_modified" | "failed" | "unknown";

/** Evaluates the preconditions in RFC 9110 §13.2.2 order. */
export function evaluatePreconditions(
  p: Preconditions,
  method: string,
  current: Validators,
): PreconditionOutcome {
  const etag = parseEntityTag(current.etag);
  // HTTP dates have one-second resolution.
  const lastModified =
    current.lastModified === undefined ? undefined : Math.floor(current.lastModified / 1000) * 1000;
  if (p.ifMatch) {
    if (!etag || !matches(p.ifMatch, etag, true)) return "failed";
  } else if (p.ifUnmodifiedSince !== null) {
    if (lastModified === undefined) return "unknown";
    if (lastModified > p.ifUnmodifiedSince) return "failed";
  }
  if (p.ifNoneMatch) {
    if (etag && matches(p.ifNoneMatch, etag, false)) {
      return method === "GET" || method === "HEAD" ? "not_modified" : "failed";
    }
  } else if (p.ifModifiedSince !== null) {
    if (lastModified === undefined) return "unknown";
    if (lastModified <= p.ifModifiedSince) return "not_modified";
  }
  return "proceed";
}

/** A storage-side precondition (the shape of R2's `onlyIf`), used as a hint only. */
export interface StorageConditionHint {
  etagMatches?: string;
  etagDoesNotMatch?: string;
  uploadedBefore?: Date;
  uploadedAfter?: Date;
  secondsGranularity?: boolean;
}

// R2 takes one unquoted tag and treats a bare * as the wildcard; its own tags are hex.
const HINTABLE_TAG = /^[0-9A-Za-z]{1,128}$/;

function singleTag(c: EntityTagCondition | null): string | undefined {
  if (c === null) return undefined;
  if (c.kind === "any") return "*";
  const [only, ...rest] = c.tags;
  return only && rest.length === 0 && HINTABLE_TAG.test(only.opaque) ? only.opaque : undefined;
}

/**
 * A storage condition that holds whenever the preconditions let the request proceed, so a
 * body is only streamed when it will be sent. It is a hint: lists it cannot express are left
 * out, and the caller re-evaluates with the object's validators and never trusts it alone.
 */
export function storageConditionHint(p: Preconditions): StorageConditionHint | undefined {
  const hint: StorageConditionHint = {};
  const match = singleTag(p.ifMatch);
  if (match !== undefined) hint.etagMatches = match;
  const noneMatch = singleTag(p.ifNoneMatch);
  if (noneMatch !== undefined) hint.etagDoesNotMatch = noneMatch;
  // R2's "uploaded before" is strict; If-Unmodified-Since passes at the same second.
  if (p.ifUnmodifiedSince !== null) hint.uploadedBefore = new Date(p.ifUnmodifiedSince + 1000);
  if (p.ifModifiedSince !== null) hint.uploadedAfter = new Date(p.ifModifiedSince);
  if (hint.uploadedBefore || hint.uploadedAfter) hint.secondsGranularity = true;
  return Object.keys(hint).length > 0 ? hint : undefined;
}
