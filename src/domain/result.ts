import type { ErrorCode } from "./errors";

/** Result type: domain and use-case code return expected failures instead of throwing. */
export type Result<T, E> = { ok: true; value: T } | { ok: false; error: E };

/** An expected failure of a use case: a stable code and a human detail. */
export interface Failure {
  code: ErrorCode;
  detail?: string;
  /** For `rate_limited`: when the caller may try again (seconds). */
  retryAfterSeconds?: number;
}

/** A use case's result. */
export type Outcome<T> = Result<T, Failure>;

/** A success. */
export function ok<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}

/** An expected failure with its code. */
export function fail(code: ErrorCode, detail?: string): { ok: false; error: Failure } {
  return { ok: false, error: detail === undefined ? { code } : { code, detail } };
}

/** A refusal because a limit was hit, with when to try again. */
export function rateLimited(
  detail: string,
  retryAfterSeconds: number,
): { ok: false; error: Failure } {
  return { ok: false, error: { code: "rate_limited", detail, retryAfterSeconds } };
}
