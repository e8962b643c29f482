import type { EventProducer } from "../../src/events/producer";
import { createLogger } from "../../src/observability/logger";
import { D1MetricsSink } from "../../src/observability/metrics";
import { ImageEvent } from "../../src/pipeline/messages";
import { ImageRepository } from "../../src/storage/image-repository";
import { ObjectStore } from "../../src/storage/object-store";
import type { Deps } from "../../src/use-cases/deps";

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
): Deps & { sent: ImageEvent[]; lines: string[] } {
  const events = recordingProducer();
  const lines: string[] = [];
  return {
    images: new ImageRepository(bindings.DB),
    store: new ObjectStore(bindings.BUCKET),
    events,
    now: Date.now,
    log: createLogger({ worker: "test" }, (line) => lines.push(line)),
    metrics: new D1MetricsSink(bindings.DB, "test"),
    sent: events.sent,
    lines,
    ...overrides,
  };
}
