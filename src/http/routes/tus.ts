import { type Context, Hono } from "hono";
import { createMiddleware } from "hono/factory";
import { z } from "zod";
import { signPath, verifyPath } from "../../auth/url-signing";
import { hasScope, type Principal } from "../../domain/access";
import { ApiError } from "../../domain/errors";
import { isImageId, newImageId } from "../../domain/ids";
import {
  OFFSET_OCTET_STREAM,
  parseByteCount,
  parseUploadChecksum,
  parseUploadMetadata,
  TUS_CHECKSUM_ALGORITHMS,
  TUS_EXTENSIONS,
  TUS_VERSION,
} from "../../domain/tus";
import {
  PART_SIZE,
  type SessionInfo,
  type SessionOutcome,
  type SessionRefusal,
} from "../../uploads/upload-session";
import { createImage } from "../../use-cases/create-image";
import { claimResumableUpload } from "../../use-cases/resumable-uploads";
import type { AppEnv, Services } from "../context";
import { idempotent } from "../idempotency";
import { requireJsonBody, requireUser } from "../middleware";
import { orThrow } from "../outcome";
import { validate } from "../validate";

/** Chunk size suggested to clients: a whole number of parts, so no tail has to be kept. */
export const SUGGESTED_CHUNK_SIZE = 2 * PART_SIZE;

const TUS_PATH = "/v1/tus";

type Sessions = Env["UPLOAD_SESSIONS"];

function sessionStub(ns: Sessions, uploadId: string) {
  return ns.get(ns.idFromName(uploadId));
}

function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}

/** The headers that tell a tus client where an upload stands. */
function stateHeaders(info: SessionInfo): Record<string, string> {
  return {
    "Upload-Offset": String(info.offset),
    "Upload-Length": String(info.length),
    "Upload-Expires": httpDate(info.expiresAt),
    "Cache-Control": "no-store",
  };
}

/** A refused request as problem+json, with the upload's offset when it still exists. */
function refused(outcome: SessionRefusal): ApiError {
  const headers: Record<string, string> = outcome.info
    ? { "Upload-Offset": String(outcome.info.offset), "Cache-Control": "no-store" }
    : {};
  if (outcome.code === "storage_unavailable") headers["Retry-After"] = "5";
  return new ApiError(outcome.code, outcome.detail, undefined, headers);
}

function settled(outcome: SessionOutcome): SessionInfo {
  if (!outcome.ok) throw refused(outcome);
  return outcome.info;
}

/** Every tus response says its version; every request but OPTIONS must name it (412). */
function tusVersion() {
  return createMiddleware<AppEnv>(async (c, next) => {
    const version = c.req.header("Tus-Resumable");
    if (c.req.method !== "OPTIONS" && version !== TUS_VERSION) {
      throw new ApiError(
        "tus_version_unsupported",
        `Send Tus-Resumable: ${TUS_VERSION}.`,
        undefined,
        { "Tus-Version": TUS_VERSION },
      );
    }
    await next();
    c.res.headers.set("Tus-Resumable", TUS_VERSION);
  });
}

/**
 * The session an upload URL names, for a caller with authority over it: a signature of that
 * URL (handed out by `POST /v1/uploads:resumable`), or the owner's (or an admin's)
 * credential with `images:write`. Anyone else gets the same 404 as an upload that never was.
 */
async function authorizedSession(c: Context<AppEnv>) {
  const uploadId = c.req.param("id") ?? "";
  if (!isImageId(uploadId)) throw new ApiError("upload_not_found");
  const session = sessionStub(c.env.UPLOAD_SESSIONS, uploadId);
  const info = await session.peek();
  if (!info) throw new ApiError("upload_not_found");
  const { config } = c.get("services");
  const [kid, exp, sig] = ["kid", "exp", "sig"].map((n) => c.req.query(n));
  if (kid !== undefined || exp !== undefined || sig !== undefined) {
    const check = await verifyPath(
      config.signing,
      "resumable",
      `${TUS_PATH}/${uploadId}`,
      { kid, exp, sig },
      Math.floor(Date.now() / 1000),
      config.resumable.ttlSeconds,
    );
    if (check === "expired") throw new ApiError("signature_expired");
    if (check !== "valid") throw new ApiError("signature_invalid");
    return session;
  }
  const principal = c.get("principal");
  if (!principal) throw new ApiError("unauthorized");
  if (!hasScope(principal, "images:write")) {
    throw new ApiError("insufficient_scope", "This API key lacks the scope images:write.");
  }
  if (!principal.admin && principal.userId !== info.ownerId) throw new ApiError("upload_not_found");
  return session;
}

/** Claims the image's upload slot and starts its session; returns what the session was told. */
async function startSession(
  services: Services,
  ns: Sessions,
  input: { principal: Principal; imageId: string; length: number },
): Promise<{ uploadId: string; info: SessionInfo }> {
  const { config, deps } = services;
  const uploadId = newImageId();
  const claimed = orThrow(
    await claimResumableUpload(deps, {
      principal: input.principal,
      imageId: input.imageId,
      uploadId,
      length: input.length,
      maxBytes: config.resumable.maxBytes,
      ttlSeconds: config.resumable.ttlSeconds,
    }),
  );
  const info = await sessionStub(ns, uploadId).create({
    uploadId,
    imageId: claimed.image.id,
    ownerId: claimed.image.ownerId,
    claim: claimed.claim,
    length: input.length,
    expiresAt: claimed.expiresAt,
    maxPixels: Math.min(config.maxPixels, claimed.policy.maxPixels),
    allowedFormats: claimed.policy.allowedFormats,
  });
  return { uploadId, info };
}

async function patch(c: Context<AppEnv>): Promise<Response> {
  if (!(c.req.header("Content-Type") ?? "").toLowerCase().startsWith(OFFSET_OCTET_STREAM)) {
    throw new ApiError("unsupported_media_type", `PATCH bodies are ${OFFSET_OCTET_STREAM}.`);
  }
  const offset = parseByteCount(c.req.header("Upload-Offset") ?? null);
  if (offset === null) throw new ApiError("bad_request", "Upload-Offset must be a byte count.");
  const checksum = orThrow(parseUploadChecksum(c.req.header("Upload-Checksum") ?? null));
  const session = await authorizedSession(c);
  const info = settled(await session.patch({ offset, checksum }, c.req.raw.body));
  return c.body(null, 204, stateHeaders(info));
}

async function head(c: Context<AppEnv>): Promise<Response> {
  const session = await authorizedSession(c);
  const outcome = await session.info();
  if (!outcome) throw new ApiError("upload_not_found");
  return c.body(null, 200, stateHeaders(settled(outcome)));
}

async function terminate(c: Context<AppEnv>): Promise<Response> {
  const session = await authorizedSession(c);
  settled(await session.terminate());
  return c.body(null, 204);
}

const OVERRIDES: Record<string, (c: Context<AppEnv>) => Promise<Response>> = {
  PATCH: patch,
  DELETE: terminate,
  HEAD: head,
};

function options(c: Context<AppEnv>): Response {
  return c.body(null, 204, {
    "Tus-Version": TUS_VERSION,
    "Tus-Extension": TUS_EXTENSIONS.join(","),
    "Tus-Max-Size": String(c.get("services").config.resumable.maxBytes),
    "Tus-Checksum-Algorithm": TUS_CHECKSUM_ALGORITHMS.join(","),
  });
}

const VISIBILITIES = ["public", "unlisted", "private"] as const;

/**
 * The tus 1.0.0 server, mounted at `/v1/tus`: core protocol plus creation,
 * creation-with-upload, termination, expiration and checksum (sha256).
 */
export const tusApp = new Hono<AppEnv>()
  .use(tusVersion())
  .options("/", options)
  .options("/:id", options)
  .post("/", requireUser("images:write"), async (c) => {
    if (c.req.header("Upload-Defer-Length") !== undefined) {
      throw new ApiError(
        "bad_request",
        "Upload-Defer-Length is not supported: send Upload-Length.",
      );
    }
    const length = parseByteCount(c.req.header("Upload-Length") ?? null);
    if (length === null) throw new ApiError("bad_request", "Upload-Length must be a byte count.");
    const { config, deps } = c.get("services");
    if (length > config.resumable.maxBytes) {
      throw new ApiError("upload_too_large", `The limit is ${config.resumable.maxBytes} bytes.`);
    }
    const meta = orThrow(parseUploadMetadata(c.req.header("Upload-Metadata") ?? null));
    let imageId = meta.imageId;
    if (imageId !== undefined && !isImageId(imageId)) throw new ApiError("image_not_found");
    if (imageId === undefined) {
      const visibility = meta.visibility ?? "private";
      if (!(VISIBILITIES as readonly string[]).includes(visibility)) {
        throw new ApiError(
          "validation_failed",
          "Upload-Metadata visibility: public, unlisted or private.",
        );
      }
      // A plain file name: no path separators or control characters (as POST /v1/images).
      const filename = meta.filename
        ? [...meta.filename]
            .map((ch) => (ch < " " || ch === "/" || ch === "\\" ? "_" : ch))
            .join("")
            .slice(0, 255)
        : undefined;
      const created = orThrow(
        await createImage(deps, {
          ownerId: c.get("user").userId,
          image: {
            title: meta.title?.trim().slice(0, 200),
            filename,
            visibility: visibility as (typeof VISIBILITIES)[number],
            size: length,
          },
          maxUploadBytes: config.resumable.maxBytes,
        }),
      );
      imageId = created.id;
    }
    const { uploadId, info } = await startSession(c.get("services"), c.env.UPLOAD_SESSIONS, {
      principal: c.get("user"),
      imageId,
      length,
    });
    const location = new URL(`${TUS_PATH}/${uploadId}`, c.req.url).toString();
    let state = info;
    const body = c.req.raw.body;
    const withUpload = (c.req.header("Content-Type") ?? "").startsWith(OFFSET_OCTET_STREAM);
    if (body && withUpload && c.req.header("Content-Length") !== "0") {
      const checksum = orThrow(parseUploadChecksum(c.req.header("Upload-Checksum") ?? null));
      const outcome = await sessionStub(c.env.UPLOAD_SESSIONS, uploadId).patch(
        { offset: 0, checksum },
        body,
      );
      if (!outcome.ok && outcome.info === null) throw refused(outcome);
      state = outcome.info ?? state;
    }
    return c.body(null, 201, { Location: location, "X-Image-Id": imageId, ...stateHeaders(state) });
  })
  // Hono answers HEAD with the GET route (without a body); tus has no GET of its own.
  .get("/:id", head)
  .patch("/:id", patch)
  .delete("/:id", terminate)
  .post("/:id", async (c) => {
    // Clients behind proxies that drop PATCH send POST with the method in this header.
    const method = c.req.header("X-HTTP-Method-Override")?.toUpperCase() ?? "";
    const handler = OVERRIDES[method];
    if (!handler)
      throw new ApiError("not_found", "POST an upload only with X-HTTP-Method-Override.");
    return handler(c);
  });

const ResumableBody = z.strictObject({
  imageId: z.string().refine(isImageId, "must be an image id"),
  size: z.number().int().positive(),
  contentType: z
    .string()
    .max(100)
    .regex(/^[\w.+-]+\/[\w.+-]+$/, "must be a media type")
    .optional(),
});

/**
 * `POST /v1/uploads:resumable` (mounted at `/v1`): a tus upload resource for a pending image,
 * with a signed URL a browser can use without the caller's token.
 */
export const resumableApp = new Hono<AppEnv>().post(
  "/:op{uploads:resumable}",
  requireUser("images:write"),
  requireJsonBody(),
  idempotent("POST /v1/uploads:resumable"),
  validate("json", ResumableBody),
  async (c) => {
    const body = c.req.valid("json");
    const { uploadId, info } = await startSession(c.get("services"), c.env.UPLOAD_SESSIONS, {
      principal: c.get("user"),
      imageId: body.imageId,
      length: body.size,
    });
    const path = `${TUS_PATH}/${uploadId}`;
    const query = await signPath(
      c.get("services").config.signing,
      "resumable",
      path,
      Math.floor(info.expiresAt / 1000),
    );
    return c.json(
      {
        uploadUrl: new URL(`${path}?${query}`, c.req.url).toString(),
        imageId: info.imageId,
        offset: info.offset,
        length: info.length,
        chunkSize: SUGGESTED_CHUNK_SIZE,
        expiresAt: new Date(info.expiresAt).toISOString(),
        tusVersion: TUS_VERSION,
      },
      201,
      { "Cache-Control": "no-store" },
    );
  },
);
