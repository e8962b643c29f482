import { WorkerEntrypoint } from "cloudflare:workers";
import { loadConfig } from "../src/config/env";
import { queueProducer } from "../src/events/producer";
import { createApp } from "../src/http/app";
import { createLogger } from "../src/observability/logger";
import { D1MetricsSink } from "../src/observability/metrics";
import { PurgeReason, PurgeTarget } from "../src/pipeline/messages";
import { DeliveryCache } from "../src/storage/delivery-cache";
import { ZonePurgeClient } from "../src/storage/zone-purge";
import { type PurgeRequest, purgeCached } from "../src/use-cases/purge-cache";

export { UploadSession } from "../src/uploads/upload-session";

const app = createApp();
const log = createLogger({ worker: "edge", entrypoint: "CacheInvalidation" });

/**
 * The processor's way into this Worker's cache (service binding `EDGE`): a new revision or
 * new variants purge the cached views here and, when configured, in the whole zone.
 */
export class CacheInvalidation extends WorkerEntrypoint<Env> {
  /** Purges one target; throws when `onZoneFailure` is `throw` and the zone purge failed. */
  async purge(request: PurgeRequest): Promise<void> {
    const target = PurgeTarget.parse(request.target);
    const reason = PurgeReason.parse(request.reason);
    const config = loadConfig(this.env);
    const metrics = new D1MetricsSink(this.env.DB, "edge");
    try {
      await purgeCached(
        {
          cache: new DeliveryCache(caches.default),
          zone: config.zonePurge ? new ZonePurgeClient(config.zonePurge) : null,
          events: queueProducer(this.env.EVENTS),
          metrics,
          log,
          now: Date.now,
          background: (task) => this.ctx.waitUntil(task),
          refillGuardMs: config.cacheRefillGuardMs,
        },
        { ...request, target, reason },
      );
    } finally {
      this.ctx.waitUntil(
        metrics.flush().catch((err: unknown) => log.warn("metrics_flush_failed", { err })),
      );
    }
  }
}

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
