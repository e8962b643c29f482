import type { ClassifierConfig } from "../src/config/processor";
import {
  edgePurgePort,
  loadProcessorConfig,
  type ProcessorConfig,
  type ProcessorEnv,
} from "../src/config/processor";
import { retryDelaySeconds } from "../src/domain/retry";
import { eventImageId, parseEvent, queueProducer } from "../src/events/producer";
import { builtinClassifier } from "../src/moderation/builtin-classifier";
import type { Classifier } from "../src/moderation/classifier";
import { httpClassifier } from "../src/moderation/http-classifier";
import { createLogger } from "../src/observability/logger";
import { D1MetricsSink } from "../src/observability/metrics";
import { blurredPreview } from "../src/pipeline/blur";
import { createWorkerdCodecs } from "../src/pipeline/codecs-workerd";
import { transformImage } from "../src/pipeline/transform";
import { AlbumRepository } from "../src/storage/album-repository";
import { ControlRepository } from "../src/storage/control-repository";
import { ImageRepository } from "../src/storage/image-repository";
import { ModerationRepository } from "../src/storage/moderation-repository";
import { ObjectStore } from "../src/storage/object-store";
import { SearchRepository } from "../src/storage/search-repository";
import { controlPlane } from "../src/use-cases/policies";
import {
  handleDeadLetter,
  handleEvent,
  type ProcessorDeps,
  stageOptions,
} from "../src/use-cases/process-image";
import { relayInvalidator } from "../src/use-cases/purge-cache";
import { sweep } from "../src/use-cases/sweep";

const codecs = createWorkerdCodecs();
const baseLog = createLogger({ worker: "processor" });

/** The configured classifier; the built-in model is loaded for each classification and disposed after it. */
function classifierFor(config: ClassifierConfig): Classifier | null {
  switch (config.kind) {
    case "off":
      return null;
    case "builtin":
      return builtinClassifier(codecs);
    case "http":
      return httpClassifier({ url: config.url, token: config.token, timeoutMs: 10_000 });
  }
}

/** The processing deps for one batch or sweep, from the parsed configuration. */
function buildDeps(env: ProcessorEnv, config: ProcessorConfig): ProcessorDeps {
  const events = queueProducer(env.EVENTS);
  const edge = edgePurgePort(env);
  return {
    images: new ImageRepository(env.DB),
    store: new ObjectStore(env.BUCKET),
    events,
    now: Date.now,
    log: baseLog,
    metrics: new D1MetricsSink(env.DB, "processor"),
    invalidate: relayInvalidator({ edge, events, log: baseLog }),
    edge,
    transform: (bytes, stage, policy) =>
      transformImage(bytes, stageOptions(config, policy)[stage], codecs),
    maxInputBytes: config.maxInputBytes,
    search: new SearchRepository(env.DB),
    albums: new AlbumRepository(env.DB),
    moderation: new ModerationRepository(env.DB),
    classifier: classifierFor(config.classifier),
    classifierRules: config.classifierRules,
    blurredPreview: (bytes, format) => blurredPreview(codecs, bytes, format),
    ...controlPlane(new ControlRepository(env.DB), baseLog),
  };
}

/** Records metrics without ever failing the work they measured. */
async function flushMetrics(deps: ProcessorDeps): Promise<void> {
  try {
    await deps.metrics.flush();
  } catch (err) {
    deps.log.warn("metrics_flush_failed", { err });
  }
}

export default {
  /** Liveness for `npm start` and operators; the processor serves nothing else over HTTP. */
  fetch(request) {
    if (new URL(request.url).pathname === "/healthz") {
      return Response.json({ status: "ok", worker: "processor" });
    }
    return Response.json(
      {
        type: "urn:image-host:problem:not_found",
        title: "Not found",
        status: 404,
        code: "not_found",
      },
      { status: 404, headers: { "Content-Type": "application/problem+json" } },
    );
  },

  async queue(batch, env, ctx) {
    const deps = buildDeps(env, loadProcessorConfig(env));
    const deadLetters = batch.queue.endsWith("-dlq");
    // One message at a time: a decoded frame can take most of the isolate's memory.
    for (const message of batch.messages) {
      const event = parseEvent(message.body);
      if (!event) {
        // A malformed event can never succeed; retrying it would only reach the DLQ later.
        deps.log.error("invalid_event_dropped", { messageId: message.id });
        message.ack();
        continue;
      }
      const log = deps.log.with({ imageId: eventImageId(event) });
      try {
        const outcome = deadLetters
          ? await handleDeadLetter(event, deps)
          : await handleEvent(event, deps);
        log.info("event_handled", { type: event.type, outcome, attempts: message.attempts });
        message.ack();
      } catch (err) {
        const delaySeconds = retryDelaySeconds(message.attempts);
        log.warn("event_retry", { type: event.type, delaySeconds, err });
        message.retry({ delaySeconds });
      }
    }
    ctx.waitUntil(flushMetrics(deps));
  },

  async scheduled(_controller, env, ctx) {
    const config = loadProcessorConfig(env);
    const deps = buildDeps(env, config);
    await sweep(deps, config.sweep);
    ctx.waitUntil(flushMetrics(deps));
  },
} satisfies ExportedHandler<ProcessorEnv, unknown>;
