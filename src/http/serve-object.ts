import {
  evaluatePreconditions,
  hasPreconditions,
  type PreconditionOutcome,
  parseEntityTag,
  parseHttpDate,
  parsePreconditions,
  storageConditionHint,
} from "../domain/conditional";
import { ApiError } from "../domain/errors";
import { parseRange, type RangeRequest } from "../domain/http-range";
import type { Rendition } from "../use-cases/deliver-variant";

/** Everything needed to answer a GET for one stored object. */
export interface StoredObject {
  contentType: string;
  /** Size from D1, so a Range can be checked before R2 is asked. */
  size: number;
  /** ETag recorded in D1 when known: an If-None-Match/If-Match is answered without R2. */
  etag?: string;
  cacheControl: string;
  /** Extra headers (Vary, Content-Disposition, ...). */
  headers?: Readonly<Record<string, string>>;
  get: (options: R2GetOptions) => Promise<R2ObjectBody | R2Object | null>;
}

/** Headers every image response carries (docs/architecture.md, "Delivery": nosniff + sandboxed CSP). */
export function imageSecurityHeaders(): Headers {
  return new Headers({
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cross-Origin-Resource-Policy": "cross-origin",
    "Accept-Ranges": "bytes",
  });
}

function responseHeaders(object: StoredObject, etag: string, uploaded?: Date): Headers {
  const headers = imageSecurityHeaders();
  headers.set("ETag", etag);
  headers.set("Cache-Control", object.cacheControl);
  if (uploaded) headers.set("Last-Modified", uploaded.toUTCString());
  for (const [name, value] of Object.entries(object.headers ?? {})) headers.set(name, value);
  return headers;
}

function rangeOption(range: RangeRequest): Pick<R2GetOptions, "range"> {
  return range.kind === "partial" ? { range: { offset: range.offset, length: range.length } } : {};
}

function unsatisfiable(size: number): ApiError {
  return new ApiError("range_not_satisfiable", undefined, undefined, {
    "Content-Range": `bytes */${size}`,
  });
}

/** Answers a stopped precondition: 304 with the validators, or a 412 problem. */
function stopped(outcome: PreconditionOutcome, headers: Headers): Response {
  if (outcome === "not_modified") return new Response(null, { status: 304, headers });
  throw new ApiError("precondition_failed");
}

/**
 * Streams an R2 object with conditional (304/412) and single-range (206/416) semantics.
 * Preconditions are parsed and evaluated here (RFC 9110 §13.2.2 order, before Range); R2 only
 * ever sees a well-formed hint, so a malformed header can never make it throw.
 */
export async function serveObject(req: Request, object: StoredObject): Promise<Response> {
  const preconditions = parsePreconditions(req.headers, req.method);
  const conditional = hasPreconditions(preconditions);
  // R2 cannot evaluate If-Range; ignoring the Range (a full 200) is always allowed and never
  // stitches bytes of two different versions together.
  const rangeHeader = req.headers.has("If-Range") ? null : req.headers.get("Range");
  const range = parseRange(rangeHeader, object.size);

  let decided = false;
  if (conditional && object.etag !== undefined) {
    // The D1 etag settles the etag preconditions without an R2 read.
    const outcome = evaluatePreconditions(preconditions, req.method, { etag: object.etag });
    if (outcome === "not_modified" || outcome === "failed") {
      return stopped(outcome, responseHeaders(object, object.etag));
    }
    decided = outcome === "proceed";
  }
  if (!conditional || decided) {
    if (range.kind === "unsatisfiable") throw unsatisfiable(object.size);
    const obj = await object.get(rangeOption(range));
    return respond(object, obj, range);
  }

  // A date precondition (or an unknown etag) needs R2's validators. With an unsatisfiable
  // Range no bytes are wanted: `If-None-Match: *` fails on any existing object, so R2 answers
  // with metadata only.
  const hint = storageConditionHint(preconditions);
  let obj = await object.get(
    range.kind === "unsatisfiable"
      ? { onlyIf: { etagDoesNotMatch: "*" } }
      : { ...(hint ? { onlyIf: hint } : {}), ...rangeOption(range) },
  );
  if (!obj) throw new ApiError("variant_not_found");
  const outcome = evaluatePreconditions(preconditions, req.method, {
    etag: obj.httpEtag,
    lastModified: obj.uploaded.getTime(),
  });
  if (outcome !== "proceed") {
    if ("body" in obj) await obj.body.cancel();
    return stopped(outcome, responseHeaders(object, obj.httpEtag, obj.uploaded));
  }
  if (range.kind === "unsatisfiable") {
    if ("body" in obj) await obj.body.cancel();
    throw unsatisfiable(object.size);
  }
  // The hint was stricter than our own evaluation (R2's date boundaries): read it plainly.
  if (!("body" in obj)) obj = await object.get(rangeOption(range));
  return respond(object, obj, range);
}

function respond(
  object: StoredObject,
  obj: R2ObjectBody | R2Object | null,
  range: RangeRequest,
): Response {
  if (!obj) throw new ApiError("variant_not_found");
  if (!("body" in obj)) throw new Error("R2 returned no body for an unconditional read");
  const headers = responseHeaders(object, obj.httpEtag, obj.uploaded);
  headers.set("Content-Type", object.contentType);
  if (range.kind === "partial") {
    headers.set(
      "Content-Range",
      `bytes ${range.offset}-${range.offset + range.length - 1}/${obj.size}`,
    );
    headers.set("Content-Length", String(range.length));
    return new Response(obj.body, { status: 206, headers });
  }
  headers.set("Content-Length", String(obj.size));
  return new Response(obj.body, { headers });
}

/**
 * Whether a Range applies under `If-Range` (RFC 9110 §13.1.5): only when the validator names
 * this exact representation (a strong entity-tag match, or its exact Last-Modified date).
 */
function rangeStillValid(ifRange: string | null, etag: string, lastModified: number): boolean {
  if (ifRange === null) return true;
  const tag = parseEntityTag(ifRange);
  if (tag) {
    const current = parseEntityTag(etag);
    return !tag.weak && current !== null && !current.weak && current.opaque === tag.opaque;
  }
  const date = parseHttpDate(ifRange);
  return date !== null && date === Math.floor(lastModified / 1000) * 1000;
}

/**
 * Answers a GET or HEAD for a rendition, from the cache or from R2 alike: preconditions and
 * Range are decided from its metadata (ETag, Last-Modified, size) before any byte is read, so
 * a 304, 412, 416 or HEAD never opens R2 and only discards a cached body.
 */
export async function serveRendition(
  req: Request,
  rendition: Rendition,
  cacheControl: string,
  extra: Readonly<Record<string, string>>,
): Promise<Response> {
  const { meta } = rendition;
  const headers = imageSecurityHeaders();
  headers.set("ETag", meta.etag);
  headers.set("Last-Modified", new Date(meta.lastModified).toUTCString());
  headers.set("Cache-Control", cacheControl);
  for (const [name, value] of Object.entries(extra)) headers.set(name, value);

  const preconditions = parsePreconditions(req.headers, req.method);
  const outcome = evaluatePreconditions(preconditions, req.method, {
    etag: meta.etag,
    lastModified: meta.lastModified,
  });
  if (outcome === "not_modified" || outcome === "failed") {
    await rendition.discard();
    return stopped(outcome, headers);
  }
  const range = rangeStillValid(req.headers.get("If-Range"), meta.etag, meta.lastModified)
    ? parseRange(req.headers.get("Range"), meta.size)
    : ({ kind: "full" } as const);
  if (range.kind === "unsatisfiable") {
    await rendition.discard();
    throw unsatisfiable(meta.size);
  }
  headers.set("Content-Type", meta.contentType);
  const partial = range.kind === "partial";
  if (partial) {
    headers.set(
      "Content-Range",
      `bytes ${range.offset}-${range.offset + range.length - 1}/${meta.size}`,
    );
  }
  headers.set("Content-Length", String(partial ? range.length : meta.size));
  const status = partial ? 206 : 200;
  if (req.method === "HEAD") {
    await rendition.discard();
    return new Response(null, { status, headers });
  }
  const body = await rendition.body(
    partial ? { offset: range.offset, length: range.length } : undefined,
  );
  if (!body) throw new ApiError("variant_not_found");
  return new Response(body, { status, headers });
}
