import type { EventProducer } from "../events/producer";
import type { Logger } from "../observability/logger";
import type { MetricsSink } from "../observability/metrics";
import type { CachePurgeRequested, PurgeReason, PurgeTarget } from "../pipeline/messages";
import { type DeliveryCache, imageTag, ownerTags } from "../storage/delivery-cache";
import type { ZonePurgeClient } from "../storage/zone-purge";
import type { CacheInvalidator } from "./deps";
import { forgetOwnerProfile } from "./owner-profile";

/**
 * A second local delete this long after the first catches an entry that a request which
 * read D1 just before the change was still writing (its fill finishes after the delete).
 */
export const REFILL_GUARD_MS = 1000;

/** What a purge needs: the edge's cache, the zone API when configured, and a way to retry. */
export interface PurgeDeps {
  cache: DeliveryCache;
  zone: ZonePurgeClient | null;
  events: EventProducer;
  metrics: MetricsSink;
  log: Logger;
  now: () => number;
  /** Runs a task after the response (waitUntil). */
  background: (task: Promise<unknown>) => void;
  /** Delay of the second local delete (default REFILL_GUARD_MS). */
  refillGuardMs?: number;
}

/** One purge: what, why, since when (the triggering request's start) and how far. */
export interface PurgeRequest {
  target: PurgeTarget;
  reason: PurgeReason;
  startedAt: number;
  /** `all`: this data centre's entries and the zone; `zone`: only the zone (retries). */
  scope: "all" | "zone";
  /**
   * What a failing zone purge does: `queue` (a request is answering: hand it to the queue
   * and return) or `throw` (the queue is calling: fail so it retries with backoff).
   */
  onZoneFailure: "queue" | "throw";
}

async function deleteLocal(cache: DeliveryCache, target: PurgeTarget): Promise<void> {
  if (target.kind === "image") {
    await cache.deleteImage(target.imageId, target.newestRevision);
  } else {
    // Rules and suspension live in the owner's profile, which every view reads (memo first).
    forgetOwnerProfile(target.ownerId);
    await cache.deleteOwnerProfile(target.ownerId);
  }
}

async function tagsOf(target: PurgeTarget): Promise<string[]> {
  if (target.kind === "image") return [imageTag(target.imageId)];
  const tags = await ownerTags(target.ownerId);
  return target.kind === "owner" ? [tags.owner, tags.rules] : [tags.rules];
}

/**
 * Stops every cached copy of a target. This data centre's entries are deleted before it
 * returns (so the next request misses and reads D1), and once more a moment later; the zone
 * is purged by `Cache-Tag` through Cloudflare's API after the response, with retries, and
 * when that keeps failing the purge goes to the queue: it never blocks the change itself.
 * Records `cache.purge` with the time since the triggering request started (takedown latency).
 */
export async function purgeCached(deps: PurgeDeps, request: PurgeRequest): Promise<void> {
  const { target, reason, startedAt } = request;
  const imageId = target.kind === "image" ? target.imageId : undefined;
  const record = (outcome: string) =>
    deps.metrics.record({
      name: "cache.purge",
      outcome: `${reason}.${outcome}`,
      ms: deps.now() - startedAt,
      ...(imageId ? { imageId } : {}),
    });
  if (request.scope === "all") {
    await deleteLocal(deps.cache, target);
    record("local");
    const delay = deps.refillGuardMs ?? REFILL_GUARD_MS;
    deps.background(
      new Promise((resolve) => setTimeout(resolve, delay))
        .then(() => deleteLocal(deps.cache, target))
        .catch((err: unknown) => deps.log.warn("cache_refill_guard_failed", { imageId, err })),
    );
  }
  const zone = deps.zone;
  if (!zone) return;
  const purgeZone = async () => {
    const result = await zone.purgeTags(await tagsOf(target));
    if (result.ok) {
      record("zone");
      return;
    }
    record("zone_failed");
    deps.log.warn("zone_purge_failed", {
      imageId,
      code: String(result.error.status),
      err: result.error,
    });
    if (request.onZoneFailure === "throw")
      throw new Error(`zone purge failed: ${result.error.message}`);
    await deps.events.send({
      type: "CachePurgeRequested",
      v: 1,
      target,
      reason,
      scope: "zone",
      requestedAt: startedAt,
    });
  };
  if (request.onZoneFailure === "throw") {
    await purgeZone();
    return;
  }
  deps.background(
    purgeZone()
      .catch((err: unknown) => deps.log.error("zone_purge_not_queued", { imageId, err }))
      .finally(() => deps.metrics.flush().catch(() => undefined)),
  );
}

/** The edge's invalidator: purges here, hands zone failures to the queue. */
export function edgeInvalidator(deps: PurgeDeps): CacheInvalidator {
  return {
    purge: (target, reason, startedAt) =>
      purgeCached(deps, { target, reason, startedAt, scope: "all", onZoneFailure: "queue" }),
  };
}

/** The edge's purge entrypoint as the processor sees it (workers/edge.ts, CacheInvalidation). */
export interface EdgePurgePort {
  purge(request: PurgeRequest): Promise<void>;
}

/**
 * The processor's invalidator: the edge owns the cache and the zone token, so purges go
 * through its entrypoint; when the edge cannot be reached the queue retries the whole purge.
 */
export function relayInvalidator(deps: {
  edge: EdgePurgePort | null;
  events: EventProducer;
  log: Logger;
}): CacheInvalidator {
  return {
    async purge(target, reason, startedAt) {
      if (!deps.edge) {
        deps.log.warn("cache_purge_skipped", { target, code: "no_edge_binding" });
        return;
      }
      try {
        await deps.edge.purge({ target, reason, startedAt, scope: "all", onZoneFailure: "queue" });
      } catch (err) {
        deps.log.warn("edge_purge_unreachable", { target, err });
        await deps.events.send({
          type: "CachePurgeRequested",
          v: 1,
          target,
          reason,
          scope: "all",
          requestedAt: startedAt,
        });
      }
    },
  };
}

/** Retries a queued purge through the edge; throws (so the queue backs off) while it fails. */
export async function retryCachePurge(
  event: CachePurgeRequested,
  deps: { edge: EdgePurgePort | null; log: Logger },
): Promise<"purged" | "skipped"> {
  if (!deps.edge) {
    deps.log.warn("cache_purge_skipped", { target: event.target, code: "no_edge_binding" });
    return "skipped";
  }
  await deps.edge.purge({
    target: event.target,
    reason: event.reason,
    startedAt: event.requestedAt,
    scope: event.scope,
    onZoneFailure: "throw",
  });
  return "purged";
}
