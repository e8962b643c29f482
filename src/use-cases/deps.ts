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
