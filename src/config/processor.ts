import { z } from "zod";
import { ClassifierRules, DEFAULT_CLASSIFIER_RULES } from "../domain/moderation";
import type { EdgePurgePort } from "../use-cases/purge-cache";
import type { SweepSettings } from "../use-cases/sweep";
import { ConfigError } from "./env";

/** The bindings and variables the processor reads: it carries no JWT or signing settings. */
export type ProcessorEnv = Pick<
  ProcessorWorkerEnv,
  | "DB"
  | "BUCKET"
  | "EVENTS"
  | "EDGE"
  | "MAX_PIXELS"
  | "MAX_INPUT_BYTES"
  | "SWEEP_PENDING_TTL_SECONDS"
  | "SWEEP_UPLOADED_STALE_SECONDS"
  | "SWEEP_PROCESSING_STALE_SECONDS"
  | "SWEEP_DELETED_STALE_SECONDS"
  | "SWEEP_MAX_REQUEUES"
  | "SWEEP_BATCH"
  | "MODERATION_CLASSIFIER"
  | "MODERATION_CLASSIFIER_URL"
  | "MODERATION_RULES"
> & { MODERATION_CLASSIFIER_TOKEN?: string };

const digits = (fallback: number) =>
  z
    .string()
    .regex(/^\d{1,9}$/, "must be decimal digits")
    .default(String(fallback))
    .transform(Number);

const ProcessorEnvSchema = z.object({
  MAX_PIXELS: digits(0),
  MAX_INPUT_BYTES: digits(32 * 1024 * 1024),
  SWEEP_PENDING_TTL_SECONDS: digits(86_400),
  SWEEP_UPLOADED_STALE_SECONDS: digits(60),
  SWEEP_PROCESSING_STALE_SECONDS: digits(120),
  SWEEP_DELETED_STALE_SECONDS: digits(300),
  SWEEP_MAX_REQUEUES: digits(3),
  SWEEP_BATCH: digits(50),
  MODERATION_CLASSIFIER: z.enum(["builtin", "http", "off"]).default("builtin"),
  MODERATION_CLASSIFIER_URL: z.union([z.literal(""), z.url({ protocol: /^https?$/ })]).default(""),
  MODERATION_CLASSIFIER_TOKEN: z.string().max(4096).optional(),
  MODERATION_RULES: z
    .string()
    .default("")
    .transform((raw, ctx) => {
      if (raw.trim() === "") return DEFAULT_CLASSIFIER_RULES;
      let json: unknown;
      try {
        json = JSON.parse(raw);
      } catch {
        ctx.addIssue({ code: "custom", message: "must be JSON" });
        return z.NEVER;
      }
      const rules = ClassifierRules.safeParse(json);
      if (!rules.success) {
        ctx.addIssue({ code: "custom", message: z.prettifyError(rules.error) });
        return z.NEVER;
      }
      return rules.data;
    }),
});

/** Which classifier runs, and where. */
export type ClassifierConfig =
  | { kind: "off" }
  | { kind: "builtin" }
  | { kind: "http"; url: string; token: string | null };

/** Validated configuration of the processor Worker. */
export interface ProcessorConfig {
  /** 0 means the pipeline default. */
  maxPixels: number;
  /** The largest upload read into the isolate. */
  maxInputBytes: number;
  sweep: SweepSettings;
  classifier: ClassifierConfig;
  classifierRules: ClassifierRules;
}

/** Parses the processor's settings; throws ConfigError when invalid. */
export function loadProcessorConfig(env: ProcessorEnv): ProcessorConfig {
  const parsed = ProcessorEnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(`invalid configuration: ${z.prettifyError(parsed.error)}`);
  }
  const e = parsed.data;
  if (e.MODERATION_CLASSIFIER === "http" && e.MODERATION_CLASSIFIER_URL === "") {
    throw new ConfigError(
      "invalid configuration: MODERATION_CLASSIFIER=http needs MODERATION_CLASSIFIER_URL",
    );
  }
  const classifier: ClassifierConfig =
    e.MODERATION_CLASSIFIER === "http"
      ? {
          kind: "http",
          url: e.MODERATION_CLASSIFIER_URL,
          token: e.MODERATION_CLASSIFIER_TOKEN || null,
        }
      : { kind: e.MODERATION_CLASSIFIER };
  return {
    classifier,
    classifierRules: e.MODERATION_RULES,
    maxPixels: e.MAX_PIXELS,
    maxInputBytes: e.MAX_INPUT_BYTES,
    sweep: {
      pendingTtlMs: e.SWEEP_PENDING_TTL_SECONDS * 1000,
      uploadedStaleMs: e.SWEEP_UPLOADED_STALE_SECONDS * 1000,
      processingStaleMs: e.SWEEP_PROCESSING_STALE_SECONDS * 1000,
      deletedStaleMs: e.SWEEP_DELETED_STALE_SECONDS * 1000,
      maxRequeues: e.SWEEP_MAX_REQUEUES,
      batch: Math.max(1, e.SWEEP_BATCH),
    },
  };
}

/**
 * The edge's purge entrypoint from the `EDGE` service binding. `wrangler types` types a
 * binding to another config's entrypoint as a plain `Service`, so the RPC method is named
 * here; a missing method fails at call time and the purge goes to the queue.
 */
export function edgePurgePort(env: Pick<ProcessorEnv, "EDGE">): EdgePurgePort | null {
  const binding = env.EDGE as Service | undefined;
  if (!binding) return null;
  const rpc = binding as unknown as EdgePurgePort;
  return { purge: (request) => rpc.purge(request) };
}
