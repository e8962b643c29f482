import { ApiError } from "../domain/errors";
import type { Outcome } from "../domain/result";

/** The value of a use case's result, or its expected failure raised as a problem response. */
export function orThrow<T>(outcome: Outcome<T>): T {
  if (!outcome.ok) {
    const { code, detail, retryAfterSeconds } = outcome.error;
    const headers: Record<string, string> =
      retryAfterSeconds === undefined ? {} : { "Retry-After": String(retryAfterSeconds) };
    throw new ApiError(code, detail, undefined, headers);
  }
  return outcome.value;
}
