import { zValidator } from "@hono/zod-validator";
import type { ValidationTargets } from "hono";
import type { ZodType } from "zod";
import { ApiError } from "../domain/errors";

/** zod validation whose failures become one `validation_failed` problem listing each issue. */
export function validate<T extends ZodType, Target extends keyof ValidationTargets>(
  target: Target,
  schema: T,
) {
  return zValidator(target, schema, (result) => {
    if (!result.success) {
      const errors = result.error.issues.map((issue) => ({
        path: issue.path.join(".") || "(root)",
        message: issue.message,
      }));
      const first = errors[0];
      throw new ApiError(
        "validation_failed",
        first ? `${target} ${first.path}: ${first.message}` : `invalid ${target}`,
        errors,
      );
    }
  });
}
