import { loadPipelineConfig } from "../src/config/env";
import { retryDelaySeconds } from "../src/domain/retry";
import { createWorkerdCodecs } from "../src/pipeline/codecs-workerd";
import { ImageEvent } from "../src/pipeline/messages";
import { DEFAULT_TRANSFORM_OPTIONS } from "../src/pipeline/presets";
import { transformImage } from "../src/pipeline/transform";
import type { TransformOptions } from "../src/pipeline/types";
import {
  handleDeadLetter,
  handleEvent,
  type ProcessorDeps,
  type TransformStage,
} from "../src/processor/handle-events";
import { ImageRepository } from "../src/storage/image-repository";
import { ObjectStore } from "../src/storage/object-store";

const codecs = createWorkerdCodecs();

function log(entry: Record<string, unknown>): void {
  console.log(JSON.stringify({ worker: "processor", ...entry }));
}

/** Options per stage: `primary` makes everything `ready` needs, `slow` only the AVIF set. */
function stageOptions(env: Env): Record<TransformStage, TransformOptions> {
  const config = loadPipelineConfig(env);
  const base: TransformOptions = {
    ...DEFAULT_TRANSFORM_OPTIONS,
    maxPixels: config.maxPixels > 0 ? config.maxPixels : DEFAULT_TRANSFORM_OPTIONS.maxPixels,
    metadata: config.metadata,
  };
  const avif = base.avifPresets;
  return {
    primary: { ...base, avifPresets: [] },
    slow: {
      ...base,
      presets: base.presets.filter((p) => avif.includes(p.name)),
      formats: [],
      original: false,
    },
  };
}

export default {
  async queue(batch, env, _ctx) {
    const options = stageOptions(env);
    const deps: ProcessorDeps = {
      images: new ImageRepository(env.DB),
      store: new ObjectStore(env.BUCKET),
      transform: (bytes, stage) => transformImage(bytes, options[stage], codecs),
      enqueue: async (event) => {
        await env.EVENTS.send(event, { contentType: "json" });
      },
      now: Date.now,
      log,
    };
    const deadLetters = batch.queue.endsWith("-dlq");
    // One message at a time: a decoded frame can take most of the isolate's memory.
    for (const message of batch.messages) {
      const parsed = ImageEvent.safeParse(message.body);
      if (!parsed.success) {
        // A malformed event can never succeed; retrying it would only reach the DLQ later.
        log({ level: "error", msg: "invalid event dropped", id: message.id });
        message.ack();
        continue;
      }
      try {
        const outcome = deadLetters
          ? await handleDeadLetter(parsed.data, deps)
          : await handleEvent(parsed.data, deps);
        log({ msg: "event handled", type: parsed.data.type, outcome, attempts: message.attempts });
        message.ack();
      } catch (err) {
        const delaySeconds = retryDelaySeconds(message.attempts);
        log({
          level: "warn",
          msg: "transient failure, retrying",
          delaySeconds,
          err: err instanceof Error ? (err.stack ?? err.message) : String(err),
        });
        message.retry({ delaySeconds });
      }
    }
  },
} satisfies ExportedHandler<Env, unknown>;
