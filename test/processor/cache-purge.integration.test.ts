import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { ImageRepository } from "../../src/storage/image-repository";
import type { PurgeRequest } from "../../src/use-cases/purge-cache";
import { deliver, encoded, event, gradient, uploaded } from "../helpers/processor";

/** The edge stand-in bound as EDGE (test/stand-ins/edge-cache-invalidation.js). */
interface EdgeStandIn {
  received(): Promise<PurgeRequest[]>;
  failNext(count: number): Promise<void>;
  reset(): Promise<void>;
}

const edge = env.EDGE as unknown as EdgeStandIn;
const repo = new ImageRepository(env.DB);

beforeEach(async () => {
  await edge.reset();
});

describe("processor purges through the edge", () => {
  it("purges the image when a new revision is served and again when AVIF is added", async () => {
    const id = await uploaded(await encoded(gradient(320, 240), "jpeg"));
    await deliver("image-events", [event(id)]);
    // Revision 1 replaces nothing that could be cached.
    expect(await edge.received()).toEqual([]);

    await deliver("image-events", [
      { type: "SlowVariantsRequested", v: 1, imageId: id, revision: 1 },
    ]);
    expect(await edge.received()).toEqual([
      expect.objectContaining({
        target: { kind: "image", imageId: id, newestRevision: 1 },
        reason: "variants",
        scope: "all",
      }),
    ]);

    await edge.reset();
    await repo.startReprocess(id, 1, Date.now());
    const started = Date.now();
    await deliver("image-events", [event(id, 2)]);
    const [purge] = await edge.received();
    expect(purge).toMatchObject({
      target: { kind: "image", imageId: id, newestRevision: 2 },
      reason: "revision",
      scope: "all",
      onZoneFailure: "queue",
    });
    expect(purge?.startedAt).toBeGreaterThanOrEqual(started);
  });

  it("retries a queued purge through the edge with backoff until the edge takes it", async () => {
    const purge = {
      type: "CachePurgeRequested",
      v: 1,
      target: { kind: "image", imageId: "AAAAAAAAAAAAAAAAAAAAAA", newestRevision: 3 },
      reason: "delete",
      scope: "zone",
      requestedAt: Date.now() - 1000,
    };
    await edge.failNext(1);
    const failed = await deliver("image-events", [purge]);
    expect(failed.retryMessages).toHaveLength(1);
    expect(failed.explicitAcks).toHaveLength(0);
    expect(await edge.received()).toEqual([]);

    const retried = await deliver("image-events", [purge], { attempts: 2 });
    expect(retried.explicitAcks).toHaveLength(1);
    expect(await edge.received()).toEqual([
      {
        target: purge.target,
        reason: "delete",
        startedAt: purge.requestedAt,
        scope: "zone",
        // The queue is calling: a failing zone purge must throw so the queue backs off.
        onZoneFailure: "throw",
      },
    ]);
  });

  it("a dead-lettered purge is acked, never retried forever", async () => {
    const result = await deliver("image-events-dlq", [
      {
        type: "CachePurgeRequested",
        v: 1,
        target: { kind: "hotlink_rules", ownerId: "alice" },
        reason: "hotlink_rules",
        scope: "all",
        requestedAt: Date.now(),
      },
    ]);
    expect(result.explicitAcks).toHaveLength(1);
    expect(result.retryMessages).toHaveLength(0);
  });
});
