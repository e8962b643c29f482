import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { ApiError, ERROR_CODES } from "../domain/errors";
import { createLogger } from "../observability/logger";
import type { AppEnv } from "./context";

const log = createLogger({ worker: "edge" });

/** Formats any thrown error as RFC 9457 problem+json; unknown errors become a logged 500. */
export function problemResponse(err: unknown, c: Context<AppEnv>): Response {
  const apiError = toApiError(err);
  if (apiError.code === "internal_error") {
    log.error("internal_error", {
      requestId: c.get("requestId"),
      code: "internal_error",
      path: c.req.path,
      err,
    });
  }
  const body = {
    type: `urn:image-host:problem:${apiError.code}`,
    title: ERROR_CODES[apiError.code].title,
    status: apiError.status,
    code: apiError.code,
    detail: apiError.message,
    instance: c.req.path,
    requestId: c.get("requestId"),
    ...(apiError.errors ? { errors: apiError.errors } : {}),
  };
  const headers = new Headers({
    "Content-Type": "application/problem+json",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
  });
  // RFC 6750 §3: a rejected credential says so; a missing one only names the scheme.
  if (apiError.status === 401) {
    headers.set(
      "WWW-Authenticate",
      apiError.code === "invalid_token"
        ? 'Bearer realm="image-host", error="invalid_token"'
        : 'Bearer realm="image-host"',
    );
  }
  for (const [name, value] of Object.entries(apiError.headers)) headers.set(name, value);
  return new Response(JSON.stringify(body), { status: apiError.status, headers });
}

function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof HTTPException) {
    if (err.status === 400 && err.message.startsWith("Malformed JSON")) {
      return new ApiError("invalid_json", "The request body is not valid JSON.");
    }
    if (err.status === 400) return new ApiError("bad_request", err.message);
    if (err.status === 401) return new ApiError("unauthorized", err.message);
    if (err.status === 404) return new ApiError("not_found", err.message);
    if (err.status === 413) return new ApiError("payload_too_large", err.message);
  }
  return new ApiError("internal_error", "An unexpected error occurred.");
}
