import { Hono } from "hono";
import { z } from "zod";
import { isCredentialId } from "../../auth/credentials";
import { SCOPES } from "../../domain/access";
import { ApiError } from "../../domain/errors";
import type { ApiKey } from "../../storage/api-key-repository";
import { createApiKey, listApiKeys, revokeApiKey } from "../../use-cases/api-keys";
import type { AppEnv } from "../context";
import { requireJsonBody, requireUserToken } from "../middleware";
import { orThrow } from "../outcome";
import { validate } from "../validate";

const MAX_KEY_LIFETIME_SECONDS = 5 * 365 * 86400;

const CreateKeyBody = z.strictObject({
  name: z
    .string()
    .trim()
    .min(1)
    .max(100)
    .refine((n) => ![...n].some((ch) => ch < " "), "must not contain control characters"),
  scopes: z
    .array(z.enum(SCOPES))
    .min(1)
    .max(SCOPES.length * 2),
  expiresIn: z.number().int().min(60).max(MAX_KEY_LIFETIME_SECONDS).optional(),
});

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function presentKey(key: ApiKey) {
  return {
    id: key.id,
    name: key.name,
    scopes: key.scopes,
    createdAt: iso(key.createdAt),
    expiresAt: iso(key.expiresAt),
    lastUsedAt: iso(key.lastUsedAt),
    revokedAt: iso(key.revokedAt),
  };
}

const NO_STORE = { "Cache-Control": "private, no-store" };

/**
 * The /v1/api-keys resource. Keys are managed with the user's own token only: a key can
 * neither mint nor list keys, so a leaked key cannot widen itself.
 */
export const apiKeysApp = new Hono<AppEnv>()
  .use(requireUserToken())
  .post("/", requireJsonBody(), validate("json", CreateKeyBody), async (c) => {
    const body = c.req.valid("json");
    const { key, secret } = orThrow(
      await createApiKey(c.get("services").apiKeyDeps, {
        principal: c.get("user"),
        name: body.name,
        scopes: body.scopes,
        expiresIn: body.expiresIn ?? null,
      }),
    );
    c.header("Location", `/v1/api-keys/${key.id}`);
    return c.json({ ...presentKey(key), key: secret }, 201, NO_STORE);
  })
  .get("/", async (c) => {
    const keys = await listApiKeys(c.get("services").apiKeyDeps, c.get("user"));
    return c.json({ items: keys.map(presentKey) }, 200, NO_STORE);
  })
  .delete("/:id", async (c) => {
    const id = c.req.param("id");
    if (!isCredentialId(id)) throw new ApiError("not_found", "No such API key.");
    orThrow(await revokeApiKey(c.get("services").apiKeyDeps, { principal: c.get("user"), id }));
    return c.body(null, 204);
  });
