import { env, exports } from "cloudflare:workers";
import { SignJWT } from "jose";
import { createApp } from "../../src/http/app";
import { createLogger } from "../../src/observability/logger";
import { D1MetricsSink } from "../../src/observability/metrics";
import { AlbumRepository } from "../../src/storage/album-repository";
import { ImageRepository, type ProcessedImage } from "../../src/storage/image-repository";
import { ObjectStore } from "../../src/storage/object-store";
import type { ImageRow } from "../../src/storage/schema";
import { SearchRepository } from "../../src/storage/search-repository";
import { indexImages } from "../../src/use-cases/search-index";

export const ORIGIN = "https://images.test";

/** Signs a local HS256 token the way `npm run token` does; overrides let tests break it. */
export async function token(
  sub: string,
  overrides: {
    exp?: number;
    iss?: string;
    aud?: string;
    secret?: string;
    alg?: string;
    admin?: boolean;
  } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT(overrides.admin ? { admin: true } : {})
    .setProtectedHeader({ alg: overrides.alg ?? "HS256" })
    .setSubject(sub)
    .setIssuer(overrides.iss ?? env.JWT_ISSUER)
    .setAudience(overrides.aud ?? env.JWT_AUDIENCE)
    .setIssuedAt(now)
    .setExpirationTime(overrides.exp ?? now + 3600)
    .sign(new TextEncoder().encode(overrides.secret ?? env.JWT_SECRET));
}

/** Sends a request to the edge Worker. */
export function call(path: string, init: RequestInit = {}): Promise<Response> {
  return exports.default.fetch(new Request(new URL(path, ORIGIN), { redirect: "manual", ...init }));
}

let app: ReturnType<typeof createApp> | undefined;

/**
 * Sends a request straight into the edge app in this isolate, with the Worker's real
 * bindings: the code path of `call` without the loopback fetch, whose cost grows with every
 * request a test file makes (batteries of hundreds of requests), and without its header
 * normalisation (an empty Authorization or a wrong Content-Length reaches the app).
 */
export function callApp(
  path: string,
  init: RequestInit = {},
  bindings: Env = env,
): Promise<Response> {
  app ??= createApp();
  return Promise.resolve(
    app.fetch(new Request(new URL(path, ORIGIN), { redirect: "manual", ...init }), bindings),
  );
}

/** Sends a request as `user` (a bearer token is minted for it). */
export async function callAs(
  user: string,
  path: string,
  init: RequestInit = {},
): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("Authorization", `Bearer ${await token(user)}`);
  return call(path, { ...init, headers });
}

/** Creates an image through the API and returns its JSON. */
export async function createImage(
  user: string,
  body: Record<string, unknown> = {},
): Promise<{ id: string; upload: { url: string; maxBytes: number } } & Record<string, unknown>> {
  const res = await callAs(user, "/v1/images", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  if (res.status !== 201) throw new Error(`create failed: ${res.status} ${await res.text()}`);
  return res.json();
}

/** Reads a problem+json response and returns its code, asserting the media type. */
export async function problemCode(res: Response): Promise<string> {
  const type = res.headers.get("Content-Type");
  if (type !== "application/problem+json") throw new Error(`not problem+json: ${type}`);
  const body = (await res.json()) as { code: string; status: number };
  if (body.status !== res.status) throw new Error("status mismatch");
  return body.code;
}

/** What the processor records for a revision made of `variants` (a 3000 px JPEG source). */
export function processedImage(variants: ProcessedImage["variants"]): ProcessedImage {
  return {
    format: "jpeg",
    contentType: "image/jpeg",
    width: 3000,
    height: 3000,
    placeholder: "AAAA",
    dominantColor: "#336699",
    timings: {},
    colour: "srgb",
    originalRepairs: [],
    variants,
  };
}

/** Seeds a processed image straight into D1 and R2 (the processor has its own tests). */
export async function seedReadyImage(
  owner: string,
  visibility: "public" | "unlisted" | "private",
): Promise<{ image: ImageRow; bytes: Record<string, Uint8Array> }> {
  const repo = new ImageRepository(env.DB);
  const store = new ObjectStore(env.BUCKET);
  const created = await createImage(owner, { visibility });
  const now = Date.now();
  const bytes: Record<string, Uint8Array> = {};
  const variants = [];
  for (const [name, size] of [
    ["thumb", 256],
    ["medium", 1024],
    ["large", 2048],
    ["original", 3000],
  ] as const) {
    for (const format of name === "original" ? ["jpeg"] : ["avif", "webp", "jpeg"]) {
      const data = crypto.getRandomValues(new Uint8Array(1000 + size));
      bytes[`${name}.${format}`] = data;
      const contentType = `image/${format}`;
      const etag = await store.putVariant(created.id, 1, name, format, data, contentType);
      variants.push({
        name,
        format,
        contentType,
        width: size,
        height: size,
        bytes: data.length,
        etag,
      });
    }
  }
  await repo.claimUpload(created.id, now);
  await repo.markUploaded(created.id, now, 4000, now);
  await repo.claimProcessing(created.id, 1, now);
  await repo.completeProcessing(created.id, 1, processedImage(variants), now);
  const image = await repo.get(created.id);
  if (!image) throw new Error("seed failed");
  return { image, bytes };
}

/**
 * Brings the search index up to date the way the processor does (the edge tests have no queue
 * consumer): every live image's document is rebuilt if its index version moved.
 */
export async function catchUpIndex(): Promise<number> {
  const { results } = await env.DB.prepare("select id from images").all<{ id: string }>();
  return indexImages(
    {
      images: new ImageRepository(env.DB),
      search: new SearchRepository(env.DB),
      albums: new AlbumRepository(env.DB),
      now: Date.now,
      metrics: new D1MetricsSink(env.DB, "test"),
      log: createLogger({ worker: "test" }, () => undefined),
    },
    results.map((r) => r.id),
    Date.now(),
  );
}
