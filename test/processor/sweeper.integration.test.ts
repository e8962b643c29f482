import {
  createExecutionContext,
  createScheduledController,
  waitOnExecutionContext,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { newImageId } from "../../src/domain/ids";
import type { ImageStatus } from "../../src/domain/lifecycle";
import { eventImageId } from "../../src/events/producer";
import { ImageRepository } from "../../src/storage/image-repository";
import { type SweepSettings, sweep } from "../../src/use-cases/sweep";
import processor from "../../workers/processor";
import { testDeps } from "../helpers/deps";

const repo = new ImageRepository(env.DB);
const MINUTE = 60_000;
const SETTINGS: SweepSettings = {
  pendingTtlMs: 60 * MINUTE,
  uploadedStaleMs: MINUTE,
  processingStaleMs: 2 * MINUTE,
  deletedStaleMs: 5 * MINUTE,
  maxRequeues: 3,
  batch: 50,
};

/** An image in `status`, last changed `ageMs` ago, with an upload object in R2. */
async function imageIn(status: ImageStatus, ageMs: number, requeues = 0): Promise<string> {
  const id = newImageId();
  const at = Date.now() - ageMs;
  await repo.create({ id, ownerId: "sweeper-test", createdAt: at, updatedAt: at });
  // Test setup writes the state directly: reaching it through use cases takes minutes.
  await env.DB.prepare("update images set status = ?2, requeues = ?3, bytes = 3 where id = ?1")
    .bind(id, status, requeues)
    .run();
  await env.BUCKET.put(`uploads/${id}`, "abc");
  await env.BUCKET.put(`variants/${id}/1/thumb.webp`, "abc");
  return id;
}

async function row(id: string) {
  return env.DB.prepare("select status, requeues, failure_code from images where id = ?")
    .bind(id)
    .first<{ status: string; requeues: number; failure_code: string | null }>();
}

async function objects(id: string): Promise<number> {
  const [a, b] = await Promise.all([
    env.BUCKET.list({ prefix: `uploads/${id}` }),
    env.BUCKET.list({ prefix: `variants/${id}/` }),
  ]);
  return a.objects.length + b.objects.length;
}

describe("sweeper", () => {
  it("deletes and purges pending and uploading images never finished, and only those", async () => {
    const oldPending = await imageIn("pending", 61 * MINUTE);
    const oldUploading = await imageIn("uploading", 61 * MINUTE);
    const freshPending = await imageIn("pending", MINUTE);
    const ready = await imageIn("ready", 999 * MINUTE);
    const deps = testDeps(env);
    const report = await sweep(deps, SETTINGS);
    expect(report.expired).toBeGreaterThanOrEqual(2);
    for (const id of [oldPending, oldUploading]) {
      expect(await row(id)).toBeNull();
      expect(await objects(id)).toBe(0);
    }
    expect((await row(freshPending))?.status).toBe("pending");
    expect((await row(ready))?.status).toBe("ready");
    expect(await objects(ready)).toBe(2);
  });

  it("finishes a purge that a deleted row never completed", async () => {
    const stuck = await imageIn("deleted", 6 * MINUTE);
    const recent = await imageIn("deleted", MINUTE);
    await sweep(testDeps(env), SETTINGS);
    expect(await row(stuck)).toBeNull();
    expect(await objects(stuck)).toBe(0);
    // A delete in progress is left to its own purge.
    expect((await row(recent))?.status).toBe("deleted");
  });

  it("re-sends stalled revisions a bounded number of times, then fails them", async () => {
    const uploaded = await imageIn("uploaded", 2 * MINUTE);
    const processing = await imageIn("processing", 3 * MINUTE);
    const busy = await imageIn("processing", MINUTE);
    const exhausted = await imageIn("uploaded", 2 * MINUTE, 3);
    const deps = testDeps(env);
    await sweep(deps, SETTINGS);
    const resent = deps.sent.filter((e) => e.type === "ImageUploaded").map((e) => e.imageId);
    expect(resent).toContain(uploaded);
    expect(resent).toContain(processing);
    expect(resent).not.toContain(busy);
    expect(resent).not.toContain(exhausted);
    expect(await row(uploaded)).toMatchObject({ status: "uploaded", requeues: 1 });
    expect(await row(processing)).toMatchObject({ status: "uploaded", requeues: 1 });
    expect((await row(busy))?.status).toBe("processing");
    expect(await row(exhausted)).toMatchObject({
      status: "failed",
      failure_code: "processing_stalled",
    });
  });

  it("is idempotent: a second run right after finds nothing new", async () => {
    const id = await imageIn("uploaded", 2 * MINUTE);
    const deps = testDeps(env);
    await sweep(deps, SETTINGS);
    const first = deps.sent.filter((e) => eventImageId(e) === id).length;
    await sweep(deps, SETTINGS);
    expect(first).toBe(1);
    expect(deps.sent.filter((e) => eventImageId(e) === id)).toHaveLength(1);
    expect((await row(id))?.requeues).toBe(1);
  });

  it("is bounded per run", async () => {
    const ids = await Promise.all([1, 2, 3, 4, 5].map(() => imageIn("pending", 999 * MINUTE)));
    await sweep(testDeps(env), { ...SETTINGS, batch: 2 });
    const left = await Promise.all(ids.map(row));
    // Older leftovers of earlier tests may come first; never more than the batch goes.
    expect(left.filter((r) => r === null).length).toBeLessThanOrEqual(2);
    await sweep(testDeps(env), SETTINGS);
    expect((await Promise.all(ids.map(row))).every((r) => r === null)).toBe(true);
  });

  it("runs from the cron trigger with the processor's configuration and records a metric", async () => {
    const old = await imageIn("pending", 2 * 24 * 60 * MINUTE);
    const ctx = createExecutionContext();
    await processor.scheduled(createScheduledController({ cron: "* * * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);
    expect(await row(old)).toBeNull();
    const metric = await env.DB.prepare(
      "select outcome from metrics where name = 'sweep' and worker = 'processor' order by id desc limit 1",
    ).first<{ outcome: string }>();
    expect(metric?.outcome).toBe("repaired");
  });
});
