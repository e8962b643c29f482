import { type ClassifierRules, DEFAULT_CLASSIFIER_RULES } from "../../src/domain/moderation";
import type { EventProducer } from "../../src/events/producer";
import type { Classifier } from "../../src/moderation/classifier";
import { createLogger } from "../../src/observability/logger";
import { D1MetricsSink } from "../../src/observability/metrics";
import { ImageEvent } from "../../src/pipeline/messages";
import { ControlRepository } from "../../src/storage/control-repository";
import { ImageRepository } from "../../src/storage/image-repository";
import { ModerationRepository } from "../../src/storage/moderation-repository";
import { ObjectStore } from "../../src/storage/object-store";
import type { CacheInvalidator, Deps } from "../../src/use-cases/deps";
import { controlPlane } from "../../src/use-cases/policies";

/** One purge a use case asked for. */
export interface RecordedPurge {
  target: Parameters<CacheInvalidator["purge"]>[0];
  reason: Parameters<CacheInvalidator["purge"]>[1];
}

/** An invalidator that keeps what it was asked to purge. */
export function recordingInvalidator(): CacheInvalidator & { purges: RecordedPurge[] } {
  const purges: RecordedPurge[] = [];
  return {
    purges,
    async purge(target, reason) {
      purges.push({ target, reason });
    },
  };
}

/** A producer that keeps what it was asked to send (schema-checked, like the real one). */
export function recordingProducer(): EventProducer & { sent: ImageEvent[] } {
  const sent: ImageEvent[] = [];
  return {
    sent,
    async send(event) {
      sent.push(ImageEvent.parse(event));
    },
  };
}

/** Use-case deps over the test's real local D1 and R2; events and log lines are recorded. */
export function testDeps(
  bindings: { DB: D1Database; BUCKET: R2Bucket },
  overrides: Partial<Deps> = {},
): Deps & {
  sent: ImageEvent[];
  lines: string[];
  purges: RecordedPurge[];
  edge: null;
  moderation: ModerationRepository;
  classifier: Classifier | null;
  classifierRules: ClassifierRules;
  blurredPreview: null;
} {
  const events = recordingProducer();
  const lines: string[] = [];
  const invalidate = recordingInvalidator();
  return {
    images: new ImageRepository(bindings.DB),
    store: new ObjectStore(bindings.BUCKET),
    events,
    now: Date.now,
    log: createLogger({ worker: "test" }, (line) => lines.push(line)),
    metrics: new D1MetricsSink(bindings.DB, "test"),
    invalidate,
    ...controlPlane(
      new ControlRepository(bindings.DB),
      createLogger({ worker: "test" }, () => undefined),
    ),
    purges: invalidate.purges,
    edge: null,
    moderation: new ModerationRepository(bindings.DB),
    classifier: null,
    classifierRules: DEFAULT_CLASSIFIER_RULES,
    blurredPreview: null,
    sent: events.sent,
    lines,
    ...overrides,
  };
}
