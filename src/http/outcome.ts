import { ApiError } from "../domain/errors";
import type { Outcome } from "../domain/result";

/** The value of a use case's result, or its expected failure raised as a problem response. */
export function orThrow<T>(outcome: Outcome<T>): T {
  if (!outcome.ok) throw new ApiError(outcome.error.code, outcome.error.detail);
  return outcome.value;
}
