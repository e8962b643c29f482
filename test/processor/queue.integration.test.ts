import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createWorkerdCodecs } from "../../src/pipeline/codecs-workerd";
import { DEFAULT_TRANSFORM_OPTIONS } from "../../src/pipeline/presets";
import { transformImage } from "../../src/pipeline/transform";
import { AlbumRepository } from "../../src/storage/album-repository";
import { ImageRepository } from "../../src/storage/image-repository";
import { ObjectStore } from "../../src/storage/object-store";
import { SearchRepository } from "../../src/storage/search-repository";
import { handleSlowVariants } from "../../src/use-cases/process-image";
import { testDeps } from "../helpers/deps";
import { deliver, encoded, event, gradient, uploaded } from "../helpers/processor";

const codecs = createWorkerdCodecs();
const repo = new ImageRepository(env.DB);
const store = new ObjectStore(env.BUCKET);

async function objectKeys(id: string): Promise<string[]> {
  const listed = await env.BUCKET.list({ prefix: `variants/${id}/` });
  return listed.objects.map((o) => o.key).sort();
}

describe("processor queue consumer", () => {
  it("turns an uploaded JPEG into ready variants in R2 and D1", async () => {
    const id = await uploaded(await encoded(gradient(1600, 1200), "jpeg"));
    const result = await deliver("image-events", [event(id)]);
    expect(result.explicitAcks).toHaveLength(1);
    expect(result.retryMessages).toHaveLength(0);

    const found = await repo.getWithVariants(id);
    expect(found?.image).toMatchObject({
      status: "ready",
      width: 1600,
      height: 1200,
      format: "jpeg",
      colour: "srgb",
      originalRepairs: "[]",
    });
    expect(found?.image.placeholder).toBeTruthy();
    expect(found?.image.dominantColor).toMatch(/^#[0-9a-f]{6}$/);
    const timings = JSON.parse(found?.image.timings ?? "{}") as Record<string, number>;
    expect(timings.totalMs).toBeGreaterThan(0);
    const dims = Object.fromEntries(
      (found?.variants ?? []).map((v) => [`${v.name}.${v.format}`, [v.width, v.height]]),
    );
    expect(dims["thumb.webp"]).toEqual([256, 192]);
    expect(dims["medium.jpeg"]).toEqual([1024, 768]);
    // Never upscaled: `large` (2048 box) stays at the source size.
    expect(dims["large.webp"]).toEqual([1600, 1200]);
    expect(dims["original.jpeg"]).toEqual([1600, 1200]);
    // AVIF is the slow stage: not needed for `ready`.
    expect(dims["thumb.avif"]).toBeUndefined();
    const keys = await objectKeys(id);
    expect(keys).toHaveLength(found?.variants.length ?? -1);
    for (const v of found?.variants ?? []) {
      const obj = await store.getVariant(id, 1, v.name, v.format);
      expect(obj?.size).toBe(v.bytes);
    }
  });

  it("adds AVIF thumb and medium in the slow stage, leaving the image ready", async () => {
    const id = await uploaded(await encoded(gradient(1200, 900), "jpeg"));
    await deliver("image-events", [event(id)]);
    const slow = { type: "SlowVariantsRequested", v: 1, imageId: id, revision: 1 };
    const result = await deliver("image-events", [slow, slow]);
    expect(result.explicitAcks).toHaveLength(2);
    const found = await repo.getWithVariants(id);
    expect(found?.image.status).toBe("ready");
    const avif = (found?.variants ?? []).filter((v) => v.format === "avif");
    expect(avif.map((v) => [v.name, v.width, v.height]).sort()).toEqual([
      ["medium", 1024, 768],
      ["thumb", 256, 192],
    ]);
    const obj = await store.getVariant(id, 1, "thumb", "avif");
    expect(obj?.size).toBe(avif.find((v) => v.name === "thumb")?.bytes);
    // A slow request for a superseded revision writes nothing.
    await repo.startReprocess(id, 1, Date.now());
    const stale = await deliver("image-events", [{ ...slow, revision: 1 }]);
    expect(stale.explicitAcks).toHaveLength(1);
    // Revision 1 is still the served one while revision 2 processes: nothing of it is deleted.
    expect(await store.getVariant(id, 1, "thumb", "webp")).not.toBeNull();
    expect(await store.getVariant(id, 1, "thumb", "avif")).not.toBeNull();
  });

  it("keeps the served revision's objects when a reprocess starts during the AVIF stage", async () => {
    const id = await uploaded(await encoded(gradient(640, 480), "jpeg"));
    await deliver("image-events", [event(id)]);
    const options = {
      ...DEFAULT_TRANSFORM_OPTIONS,
      presets: DEFAULT_TRANSFORM_OPTIONS.presets.filter((p) => p.name === "thumb"),
      formats: [],
      avifPresets: ["thumb" as const],
    };
    const outcome = await handleSlowVariants(
      { type: "SlowVariantsRequested", v: 1, imageId: id, revision: 1 },
      {
        ...testDeps(env),
        maxInputBytes: 32 * 1024 * 1024,
        search: new SearchRepository(env.DB),
        albums: new AlbumRepository(env.DB),
        // The race: the owner starts a reprocess while the slow stage is encoding.
        transform: async (bytes) => {
          const result = await transformImage(bytes, options, codecs);
          await repo.startReprocess(id, 1, Date.now());
          return result;
        },
      },
    );
    expect(outcome).toBe("stale");
    expect((await repo.get(id))?.servedRevision).toBe(1);
    expect(await store.getVariant(id, 1, "thumb", "webp")).not.toBeNull();
    const rows = await repo.getWithVariants(id);
    expect(rows?.variants.some((v) => v.format === "avif")).toBe(false);
  });

  it("keeps alpha for a PNG source: PNG and WebP variants, no JPEG", async () => {
    const id = await uploaded(await encoded(gradient(600, 400, true), "png"));
    await deliver("image-events", [event(id)]);
    const found = await repo.getWithVariants(id);
    expect(found?.image.status).toBe("ready");
    const formats = new Set(found?.variants.filter((v) => v.name === "thumb").map((v) => v.format));
    expect(formats.has("jpeg")).toBe(false);
    expect(formats.has("png")).toBe(true);
    expect(formats.has("webp")).toBe(true);
  });

  it("is idempotent: the same message twice leaves one set of objects and rows", async () => {
    const id = await uploaded(await encoded(gradient(800, 600), "jpeg"));
    await deliver("image-events", [event(id)]);
    const keysOnce = await objectKeys(id);
    const rowsOnce = (await repo.getWithVariants(id))?.variants.length;
    const again = await deliver("image-events", [event(id), event(id)]);
    expect(again.explicitAcks).toHaveLength(2);
    expect(await objectKeys(id)).toEqual(keysOnce);
    expect((await repo.getWithVariants(id))?.variants.length).toBe(rowsOnce);
  });

  it("fails a non-image permanently with unsupported_format and does not retry", async () => {
    const id = await uploaded(
      new TextEncoder().encode("<svg xmlns='http://www.w3.org/2000/svg'/>"),
    );
    const result = await deliver("image-events", [event(id)]);
    expect(result.explicitAcks).toHaveLength(1);
    expect(result.retryMessages).toHaveLength(0);
    const image = await repo.get(id);
    expect(image).toMatchObject({ status: "failed", failureCode: "unsupported_format" });
    expect(await objectKeys(id)).toEqual([]);
  });

  it("fails a truncated JPEG without getting stuck, then still processes the next image", async () => {
    const good = await encoded(gradient(640, 480), "jpeg");
    const broken = await uploaded(good.slice(0, 600));
    const next = await uploaded(good);
    await deliver("image-events", [event(broken), event(next)]);
    expect((await repo.get(broken))?.status).toBe("failed");
    expect((await repo.get(next))?.status).toBe("ready");
  });

  it("drops malformed events instead of retrying them forever", async () => {
    const result = await deliver("image-events", [{ type: "Nope" }, "garbage"]);
    expect(result.explicitAcks).toHaveLength(2);
    expect(result.retryMessages).toHaveLength(0);
  });

  it("retries a transient storage failure instead of failing the image", async () => {
    const id = await uploaded(await encoded(gradient(320, 240), "jpeg"));
    const failingBucket = new Proxy(env.BUCKET, {
      get(target, prop) {
        if (prop === "get") return () => Promise.reject(new Error("R2 unavailable"));
        const value = Reflect.get(target, prop);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const result = await deliver("image-events", [event(id)], {
      bindings: { ...env, BUCKET: failingBucket },
      attempts: 3,
    });
    // The delay (20 s on attempt 3) is unit-tested; getQueueResult reports only the id here.
    expect(result.retryMessages).toHaveLength(1);
    expect(result.explicitAcks).toHaveLength(0);
    // Still claimable: the retry goes through once storage is back.
    await deliver("image-events", [event(id)]);
    expect((await repo.get(id))?.status).toBe("ready");
  });

  it("fails an upload larger than MAX_INPUT_BYTES without reading it", async () => {
    const bytes = await encoded(gradient(320, 240), "jpeg");
    const id = await uploaded(bytes);
    const result = await deliver("image-events", [event(id)], {
      bindings: { ...env, MAX_INPUT_BYTES: String(bytes.length - 1) },
    });
    expect(result.explicitAcks).toHaveLength(1);
    const image = await repo.get(id);
    expect(image?.status).toBe("failed");
    expect(image?.failureCode).toBe("upload_too_large");
    expect(image?.failureDetail).toContain(`${bytes.length} bytes`);
  });

  it("marks the image failed when its event reaches the dead-letter queue", async () => {
    const id = await uploaded(await encoded(gradient(320, 240), "jpeg"));
    const result = await deliver("image-events-dlq", [event(id)]);
    expect(result.explicitAcks).toHaveLength(1);
    expect(await repo.get(id)).toMatchObject({
      status: "failed",
      failureCode: "processing_failed",
    });
  });

  it("ignores an event for an image deleted meanwhile, leaving no objects", async () => {
    const id = await uploaded(await encoded(gradient(320, 240), "jpeg"));
    await repo.markDeleted(id, Date.now());
    await store.deleteImage(id);
    await repo.purge(id);
    const result = await deliver("image-events", [event(id)]);
    expect(result.explicitAcks).toHaveLength(1);
    expect(await objectKeys(id)).toEqual([]);
  });

  it("reprocesses under a new revision and removes the old revision's objects", async () => {
    const id = await uploaded(await encoded(gradient(320, 240), "jpeg"));
    await deliver("image-events", [event(id)]);
    const next = await repo.startReprocess(id, 1, Date.now());
    expect(next?.revision).toBe(2);
    await deliver("image-events", [event(id, 2)]);
    const keys = await objectKeys(id);
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.every((k) => k.startsWith(`variants/${id}/2/`))).toBe(true);
    // A stale redelivery of revision 1 changes nothing.
    await deliver("image-events", [event(id, 1)]);
    expect(await objectKeys(id)).toEqual(keys);
    expect((await repo.get(id))?.status).toBe("ready");
  });

  it("removes every older revision, even one skipped by a failed enqueue", async () => {
    const id = await uploaded(await encoded(gradient(320, 240), "jpeg"));
    await deliver("image-events", [event(id)]);
    await repo.startReprocess(id, 1, Date.now());
    await repo.markFailed(id, 2, "enqueue_failed", "queue down", Date.now());
    const third = await repo.startReprocess(id, 2, Date.now());
    expect(third?.revision).toBe(3);
    await deliver("image-events", [event(id, 3)]);
    const keys = await objectKeys(id);
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.every((k) => k.startsWith(`variants/${id}/3/`))).toBe(true);
    const rows = await env.DB.prepare("select distinct revision from variants where image_id = ?")
      .bind(id)
      .all<{ revision: number }>();
    expect(rows.results.map((r) => r.revision)).toEqual([3]);
  });

  it("writes no rows (and no foreign-key error) when the image is purged mid-processing", async () => {
    const id = await uploaded(await encoded(gradient(320, 240), "jpeg"));
    expect(await repo.claimProcessing(id, 1, Date.now())).not.toBeNull();
    await repo.markDeleted(id, Date.now());
    await repo.purge(id);
    const variant = { name: "thumb", format: "webp", contentType: "image/webp" };
    const done = await repo.completeProcessing(
      id,
      1,
      {
        format: "jpeg",
        contentType: "image/jpeg",
        width: 320,
        height: 240,
        placeholder: "x",
        dominantColor: "#000000",
        timings: {},
        colour: "srgb",
        originalRepairs: [],
        variants: [{ ...variant, width: 256, height: 192, bytes: 10, etag: '"e"' }],
      },
      Date.now(),
    );
    expect(done).toBe(false);
    const rows = await env.DB.prepare("select count(*) as n from variants where image_id = ?")
      .bind(id)
      .first<{ n: number }>();
    expect(rows?.n).toBe(0);
  });

  it("purges an image on ImageDeleted", async () => {
    const id = await uploaded(await encoded(gradient(320, 240), "jpeg"));
    await deliver("image-events", [event(id)]);
    await repo.markDeleted(id, Date.now());
    await deliver("image-events", [{ type: "ImageDeleted", v: 1, imageId: id }]);
    expect(await objectKeys(id)).toEqual([]);
    const row = await env.DB.prepare("select id from images where id = ?").bind(id).first();
    expect(row).toBeNull();
    expect(await store.getUpload(id)).toBeNull();
  });
});
