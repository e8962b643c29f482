import type { Policy } from "../domain/policy";
import type { EventProducer } from "../events/producer";
import type { Logger } from "../observability/logger";
import type { MetricsSink } from "../observability/metrics";
import type { PurgeReason, PurgeTarget } from "../pipeline/messages";
import type { ControlRepository } from "../storage/control-repository";
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
  /** Stops cached copies after a change (edge: purge-cache.ts; processor: through the edge). */
  invalidate: CacheInvalidator;
  /** The control plane's store: accounts, counters, usage (policies through `policy`). */
  control: ControlRepository;
  /** The policy in force for a user (use-cases/policies.ts: cached a few seconds). */
  policy: (userId: string) => Promise<Policy>;
}

/** Purges cached copies of what a use case just changed; never fails the change itself. */
export interface CacheInvalidator {
  /** `startedAt`: when the change was requested (Unix ms), for the takedown-latency metric. */
  purge(target: PurgeTarget, reason: PurgeReason, startedAt: number): Promise<void>;
}
