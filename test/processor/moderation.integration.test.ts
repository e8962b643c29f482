import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { ProcessorEnv } from "../../src/config/processor";
import { DEFAULT_CLASSIFIER_RULES } from "../../src/domain/moderation";
import { httpClassifier } from "../../src/moderation/http-classifier";
import { probeHeader } from "../../src/pipeline/probe";
import { ImageRepository } from "../../src/storage/image-repository";
import { ModerationRepository } from "../../src/storage/moderation-repository";
import { HELD_UNTIL_CLASSIFIED } from "../../src/use-cases/moderation";
import { handleClassification } from "../../src/use-cases/process-image";
import { testDeps } from "../helpers/deps";
import { deliver, encoded, event, gradient, uploaded } from "../helpers/processor";

const repo = new ImageRepository(env.DB);
const moderation = new ModerationRepository(env.DB);
const STAND_IN = "https://classifier.stand-in";
const TOKEN = "test-classifier-token";

/** A flat colour picture: the stand-in scores by mean colour. */
function flat(r: number, g: number, b: number) {
  const image = gradient(96, 64);
  for (let i = 0; i < image.data.length; i += 4) {
    image.data[i] = r;
    image.data[i + 1] = g;
    image.data[i + 2] = b;
  }
  return image;
}

/** A ready image of these pixels (classification off while it is processed). */
async function ready(pixels: ReturnType<typeof gradient>, owner = "mod-owner") {
  const id = await uploaded(await encoded(pixels, "jpeg"), owner);
  await deliver("image-events", [event(id)]);
  expect((await repo.get(id))?.status).toBe("ready");
  return id;
}

function depsWith(url = `${STAND_IN}/v1/classify`, token: string | null = TOKEN) {
  return {
    ...testDeps(env),
    maxInputBytes: 32 * 1024 * 1024,
    transform: () => Promise.reject(new Error("no transform in these tests")),
    search: undefined as never,
    albums: undefined as never,
    classifier: httpClassifier({ url, token, timeoutMs: 5000 }),
    classifierRules: DEFAULT_CLASSIFIER_RULES,
  };
}

const classification = (imageId: string) =>
  ({ type: "ClassificationRequested", v: 1, imageId, revision: 1 }) as const;

describe("classification through an external service (local stand-in)", () => {
  it("blocks what the service flags past the block threshold, with history, event and purge", async () => {
    const id = await ready(flat(230, 20, 20));
    const deps = depsWith();
    expect(await handleClassification(classification(id), deps)).toBe("moderated");
    const image = await repo.get(id);
    expect(image).toMatchObject({ moderation: "blocked" });
    expect(image?.moderationReason).toBe("classifier: porn 0.990 >= 0.97");
    expect(JSON.parse(image?.moderationScores ?? "{}")).toMatchObject({
      classifier: "http:classifier.stand-in",
      revision: 1,
      scores: { porn: 0.99 },
    });
    expect(await moderation.history(id)).toMatchObject([
      {
        source: "classifier",
        actor: "http:classifier.stand-in",
        fromState: "allowed",
        toState: "blocked",
      },
    ]);
    expect(deps.sent).toContainEqual(
      expect.objectContaining({
        type: "ModerationDecision",
        imageId: id,
        from: "allowed",
        to: "blocked",
      }),
    );
    expect(deps.purges).toEqual([
      { target: { kind: "image", imageId: id, newestRevision: 1 }, reason: "moderation" },
    ]);
  });

  it("sends to review what passes the review threshold only, and leaves ordinary images alone", async () => {
    const review = await ready(flat(20, 20, 230));
    const ordinary = await ready(gradient(96, 64));
    const deps = depsWith();
    expect(await handleClassification(classification(review), deps)).toBe("moderated");
    expect(await handleClassification(classification(ordinary), deps)).toBe("classified");
    expect((await repo.get(review))?.moderation).toBe("pending_review");
    expect((await repo.get(ordinary))?.moderation).toBe("allowed");
    expect(await moderation.history(ordinary)).toEqual([]);
    expect(deps.purges).toHaveLength(1);
  });

  it("releases an image held until classified, or keeps it for a person", async () => {
    const held = await ready(gradient(96, 64));
    const heldFlagged = await ready(flat(20, 20, 230));
    for (const id of [held, heldFlagged]) {
      await env.DB.prepare(
        "update images set moderation = 'pending_review', moderation_reason = ?, moderation_updated_at = ? where id = ?",
      )
        .bind(HELD_UNTIL_CLASSIFIED, Date.now(), id)
        .run();
    }
    const deps = depsWith();
    await handleClassification(classification(held), deps);
    await handleClassification(classification(heldFlagged), deps);
    expect(await repo.get(held)).toMatchObject({ moderation: "allowed" });
    expect(await repo.get(heldFlagged)).toMatchObject({
      moderation: "pending_review",
      moderationReason: "classifier: sexy 0.950 >= 0.9",
    });
  });

  it("never overrides a person's decision", async () => {
    const id = await ready(flat(230, 20, 20));
    await moderation.record({
      imageId: id,
      from: "allowed",
      to: "allowed",
      source: "admin",
      actor: "admin-1",
      reason: "art",
      at: Date.now(),
    });
    expect(await handleClassification(classification(id), depsWith())).toBe("classified");
    expect((await repo.get(id))?.moderation).toBe("allowed");
  });

  it("throws on a service error, a bad answer or a wrong token, so the message is retried", async () => {
    const id = await ready(gradient(96, 64));
    for (const deps of [
      depsWith(`${STAND_IN}/v1/broken`),
      depsWith(`${STAND_IN}/v1/garbage`),
      depsWith(`${STAND_IN}/v1/classify`, "wrong-token"),
    ]) {
      await expect(handleClassification(classification(id), deps)).rejects.toThrow(
        /classification failed/,
      );
    }
    expect((await repo.get(id))?.moderation).toBe("allowed");
  });

  it("runs from the queue when configured, and retries with backoff when the service fails", async () => {
    const id = await ready(flat(230, 20, 20));
    const http = {
      ...env,
      MODERATION_CLASSIFIER: "http",
    } as ProcessorEnv;
    const acked = await deliver("image-events", [classification(id)], { bindings: http });
    expect(acked.explicitAcks).toHaveLength(1);
    expect((await repo.get(id))?.moderation).toBe("blocked");

    const other = await ready(gradient(96, 64));
    const broken = { ...http, MODERATION_CLASSIFIER_URL: `${STAND_IN}/v1/broken` } as ProcessorEnv;
    const retried = await deliver("image-events", [classification(other)], { bindings: broken });
    expect(retried.retryMessages).toHaveLength(1);
    expect(retried.explicitAcks).toHaveLength(0);
  });

  it("is skipped when classification is off", async () => {
    const id = await ready(flat(230, 20, 20));
    const result = await deliver("image-events", [classification(id)]);
    expect(result.explicitAcks).toHaveLength(1);
    expect((await repo.get(id))?.moderation).toBe("allowed");
  });

  it("makes a blurred preview for an image that goes to review, from the decision or the classifier", async () => {
    const decided = await ready(gradient(320, 200));
    const decision = {
      type: "ModerationDecision",
      v: 1,
      imageId: decided,
      from: "allowed",
      to: "pending_review",
      source: "reports",
      actor: "reports",
      reason: "3 users reported it",
      at: Date.now(),
    };
    const result = await deliver("image-events", [decision]);
    expect(result.explicitAcks).toHaveLength(1);
    const preview = await env.BUCKET.get(`variants/${decided}/1/blurred.webp`);
    expect(preview).not.toBeNull();
    const bytes = new Uint8Array((await preview?.arrayBuffer()) ?? new ArrayBuffer(0));
    const probe = probeHeader(bytes);
    expect(probe.ok && probe.value).toMatchObject({ format: "webp", width: 96, height: 60 });
    expect(bytes.length).toBeLessThan(4096);

    // Held at creation: no decision event; the classification that keeps it held makes one.
    const held = await ready(flat(20, 20, 230));
    await env.DB.prepare(
      "update images set moderation = 'pending_review', moderation_reason = ?, moderation_updated_at = ? where id = ?",
    )
      .bind(HELD_UNTIL_CLASSIFIED, Date.now(), held)
      .run();
    const http = { ...env, MODERATION_CLASSIFIER: "http" } as ProcessorEnv;
    await deliver("image-events", [classification(held)], { bindings: http });
    expect(await env.BUCKET.head(`variants/${held}/1/blurred.webp`)).not.toBeNull();
    // Held before it was processed (the new-account rule): blurred as soon as it is ready.
    const early = await uploaded(await encoded(gradient(96, 64), "jpeg"), "mod-owner");
    await env.DB.prepare("update images set moderation = 'pending_review' where id = ?")
      .bind(early)
      .run();
    await deliver("image-events", [event(early)]);
    expect(await env.BUCKET.head(`variants/${early}/1/blurred.webp`)).not.toBeNull();
    // An allowed image gets none.
    const fine = await ready(gradient(96, 64));
    await deliver("image-events", [classification(fine)], { bindings: http });
    expect(await env.BUCKET.head(`variants/${fine}/1/blurred.webp`)).toBeNull();
  });
});
