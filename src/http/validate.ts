import { zValidator } from "@hono/zod-validator";
import type { ValidationTargets } from "hono";
import { type ZodType, z } from "zod";
import { ApiError } from "../domain/errors";

/** Most issues echoed back: a hostile body must not turn into a megabyte-sized error. */
export const MAX_REPORTED_ISSUES = 20;
const MAX_ISSUE_TEXT = 200;

function clip(text: string): string {
  return text.length > MAX_ISSUE_TEXT ? `${text.slice(0, MAX_ISSUE_TEXT)}…` : text;
}

/** Shapes zod issues for a problem body: at most MAX_REPORTED_ISSUES, then a count. */
export function reportIssues(
  issues: readonly { path: readonly PropertyKey[]; message: string }[],
): { path: string; message: string }[] {
  const errors = issues.slice(0, MAX_REPORTED_ISSUES).map((issue) => ({
    path: clip(issue.path.map(String).join(".") || "(root)"),
    message: clip(issue.message),
  }));
  if (issues.length > MAX_REPORTED_ISSUES) {
    errors.push({
      path: "(more)",
      message: `${issues.length - MAX_REPORTED_ISSUES} more issues not shown`,
    });
  }
  return errors;
}

/** zod validation whose failures become one `validation_failed` problem listing the issues. */
export function validate<T extends ZodType, Target extends keyof ValidationTargets>(
  target: Target,
  schema: T,
) {
  return zValidator(target, schema, (result) => {
    if (!result.success) {
      const errors = reportIssues(result.error.issues);
      const first = errors[0];
      throw new ApiError(
        "validation_failed",
        first ? `${target} ${first.path}: ${first.message}` : `invalid ${target}`,
        errors,
      );
    }
  });
}

/**
 * A query-string integer in plain decimal digits: `z.coerce` would also take `0x10`, `1e1`,
 * ` 5` or `-0`, which no client means.
 */
export function decimalInteger(min: number, max: number) {
  return z
    .string()
    .regex(/^\d{1,15}$/, "must be written in decimal digits")
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
}
