import { createMiddleware } from "hono/factory";
import { secretDigest } from "../auth/secrets";
import { ApiError } from "../domain/errors";
import { IdempotencyRepository } from "../storage/idempotency-repository";
import type { AppEnv, UserEnv } from "./context";

const KEY = /^[\x21-\x7e]{1,255}$/;

/** Headers of a first answer worth giving again. */
const REPLAYED_HEADERS = ["Content-Type", "Location", "Cache-Control"];

interface Stored {
  headers: Record<string, string>;
  body: string;
}

/**
 * `Idempotency-Key` for a creating route: the first request with a key runs; a retry with
 * the same key and body gets the first 2xx answer again (`Idempotency-Replayed: true`)
 * instead of creating a second resource; the same key with another body is a 422, and a
 * retry while the first still runs a 409. Keys are per caller and route, kept a day.
 * Goes after authentication and `requireJsonBody` (it digests the body it read).
 */
export function idempotent(route: string) {
  return createMiddleware<AppEnv & UserEnv>(async (c, next) => {
    const key = c.req.header("Idempotency-Key");
    if (key === undefined) return next();
    if (!KEY.test(key)) {
      throw new ApiError("validation_failed", "Idempotency-Key: 1-255 printable ASCII characters.");
    }
    const owner = c.get("user").userId;
    const body = await c.req.raw.clone().text();
    const digest = await secretDigest(`${c.req.method}\n${c.req.path}\n${body}`);
    const repo = new IdempotencyRepository(c.env.DB);
    const found = await repo.reserve(owner, route, key, digest, Date.now());
    if (found.kind !== "reserved") {
      if (found.requestDigest !== digest) {
        throw new ApiError("idempotency_key_reused", "This key was used with another request.");
      }
      if (found.kind === "running") {
        throw new ApiError(
          "idempotency_in_progress",
          "The first request with this key is running.",
          undefined,
          {
            "Retry-After": "1",
          },
        );
      }
      const stored = JSON.parse(found.response) as Stored;
      return new Response(stored.body, {
        status: found.status,
        headers: { ...stored.headers, "Idempotency-Replayed": "true" },
      });
    }
    try {
      await next();
    } catch (err) {
      await repo.release(owner, route, key);
      throw err;
    }
    if (c.res.status < 200 || c.res.status > 299) {
      await repo.release(owner, route, key);
      return;
    }
    const headers: Record<string, string> = {};
    for (const name of REPLAYED_HEADERS) {
      const value = c.res.headers.get(name);
      if (value !== null) headers[name] = value;
    }
    const stored: Stored = { headers, body: await c.res.clone().text() };
    await repo.answer(owner, route, key, c.res.status, JSON.stringify(stored));
  });
}
