import type { EventProducer } from "../events/producer";
import type { Logger } from "../observability/logger";
import type { MetricsSink } from "../observability/metrics";
import type { ImageRepository } from "../storage/image-repository";
import type { ObjectStore } from "../storage/object-store";

/**
 * What every use case may use, built once per request (edge) or batch (processor). Use cases
 * are the only callers of the repository and the object store (docs/architecture.md).
 */
export interface Deps {
  images: ImageRepository;
  store: ObjectStore;
  events: EventProducer;
  /** Unix milliseconds. */
  now: () => number;
  log: Logger;
  metrics: MetricsSink;
}

/** Runs `work` and records one metric named `name` with its outcome and duration. */
export async function measured<T>(
  deps: Pick<Deps, "metrics" | "now">,
  name: string,
  work: () => Promise<T>,
  describe: (value: T) => { outcome: string; bytes?: number; imageId?: string },
): Promise<T> {
  const started = deps.now();
  try {
    const value = await work();
    deps.metrics.record({ name, ms: deps.now() - started, ...describe(value) });
    return value;
  } catch (err) {
    deps.metrics.record({ name, outcome: "error", ms: deps.now() - started });
    throw err;
  }
}
