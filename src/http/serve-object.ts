import { ApiError } from "../domain/errors";
import { etagMatches, parseRange } from "../domain/http-range";

/** Everything needed to answer a GET for one stored object. */
export interface StoredObject {
  contentType: string;
  /** Size from D1, so a Range can be checked before R2 is asked. */
  size: number;
  /** ETag recorded in D1 when known: a matching If-None-Match is answered without R2. */
  etag?: string;
  cacheControl: string;
  /** Extra headers (Vary, Content-Disposition, ...). */
  headers?: Readonly<Record<string, string>>;
  get: (options: R2GetOptions) => Promise<R2ObjectBody | R2Object | null>;
}

/** Headers every image response carries (DESIGN.md: nosniff + sandboxed CSP). */
export function imageSecurityHeaders(): Headers {
  return new Headers({
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cross-Origin-Resource-Policy": "cross-origin",
    "Accept-Ranges": "bytes",
  });
}

function responseHeaders(object: StoredObject, etag: string): Headers {
  const headers = imageSecurityHeaders();
  headers.set("ETag", etag);
  headers.set("Cache-Control", object.cacheControl);
  for (const [name, value] of Object.entries(object.headers ?? {})) headers.set(name, value);
  return headers;
}

/** Streams an R2 object with conditional (304/412) and single-range (206/416) semantics. */
export async function serveObject(req: Request, object: StoredObject): Promise<Response> {
  // R2 cannot evaluate If-Range; ignoring the Range (a full 200) is always allowed and never
  // stitches bytes of two different versions together.
  const rangeHeader = req.headers.has("If-Range") ? null : req.headers.get("Range");
  const range = parseRange(rangeHeader, object.size);
  if (range.kind === "unsatisfiable") {
    throw new ApiError("range_not_satisfiable", undefined, undefined, {
      "Content-Range": `bytes */${object.size}`,
    });
  }
  if (object.etag !== undefined && etagMatches(req.headers.get("If-None-Match"), object.etag)) {
    return new Response(null, { status: 304, headers: responseHeaders(object, object.etag) });
  }
  const obj = await object.get({
    onlyIf: req.headers,
    ...(range.kind === "partial" ? { range: { offset: range.offset, length: range.length } } : {}),
  });
  if (!obj) throw new ApiError("variant_not_found");
  const headers = responseHeaders(object, obj.httpEtag);
  headers.set("Content-Type", object.contentType);
  headers.set("Last-Modified", obj.uploaded.toUTCString());
  if (!("body" in obj)) {
    // R2 answers a failed precondition without a body; only If-Match/If-Unmodified-Since
    // failures are 412, a matching If-None-Match/If-Modified-Since is a 304.
    const ifMatch = req.headers.get("If-Match");
    const unmodifiedSince = Date.parse(req.headers.get("If-Unmodified-Since") ?? "");
    if (
      (ifMatch !== null && !etagMatches(ifMatch, obj.httpEtag)) ||
      (!Number.isNaN(unmodifiedSince) && obj.uploaded.getTime() > unmodifiedSince + 999)
    ) {
      throw new ApiError("precondition_failed");
    }
    return new Response(null, { status: 304, headers });
  }
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
