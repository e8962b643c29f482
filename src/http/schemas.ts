import { z } from "zod";
import { MAX_ALLOWED_REFERERS, normaliseRefererPattern } from "../domain/hotlink";

/** One site pattern (`example.com`, `*.example.org`, `*`), normalised; anything else is a 400. */
const RefererPattern = z
  .string()
  .max(260)
  .transform((value, ctx) => {
    const pattern = normaliseRefererPattern(value);
    if (pattern === null) {
      ctx.addIssue({
        code: "custom",
        message: "must be a host (example.com), a subdomain wildcard (*.example.org) or *",
      });
      return z.NEVER;
    }
    return pattern;
  });

/** A list of site patterns, deduplicated (hotlink settings, share links). */
export const RefererPatterns = z
  .array(RefererPattern)
  .max(MAX_ALLOWED_REFERERS)
  .transform((patterns) => [...new Set(patterns)]);
