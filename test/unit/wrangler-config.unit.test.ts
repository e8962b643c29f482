import { describe, expect, it } from "vitest";
import { unstable_readConfig } from "wrangler";
import { z } from "zod";
import { RATE_LIMITS } from "../../src/domain/rate-limit";

// The parts of a wrangler configuration these checks read (wrangler's own types are loose).
const WranglerConfig = z.object({
  compatibility_date: z.string(),
  vars: z.record(z.string(), z.unknown()),
  d1_databases: z.array(
    z.object({ binding: z.string(), database_name: z.string(), database_id: z.string() }),
  ),
  r2_buckets: z.array(z.object({ binding: z.string(), bucket_name: z.string() })),
  queues: z.object({
    producers: z.array(z.object({ queue: z.string() })).optional(),
    consumers: z
      .array(z.object({ queue: z.string(), dead_letter_queue: z.string().optional() }))
      .optional(),
  }),
  triggers: z.object({ crons: z.array(z.string()).optional() }),
  ratelimits: z
    .array(
      z.object({
        name: z.string(),
        simple: z.object({ limit: z.number(), period: z.number() }),
      }),
    )
    .optional(),
});

// The two Workers share one database, bucket and queue: their names live in two files, so
// this test is what keeps them defined once in effect.
const edge = WranglerConfig.parse(unstable_readConfig({ config: "wrangler.toml" }));
const processor = WranglerConfig.parse(
  unstable_readConfig({ config: "workers/processor.wrangler.toml" }),
);

describe("wrangler configuration of the two Workers", () => {
  it("binds the same D1 database and R2 bucket", () => {
    const db = (c: typeof edge) =>
      c.d1_databases.map((d) => [d.binding, d.database_name, d.database_id]);
    expect(db(processor)).toEqual(db(edge));
    const r2 = (c: typeof edge) => c.r2_buckets.map((b) => [b.binding, b.bucket_name]);
    expect(r2(processor)).toEqual(r2(edge));
  });

  it("produces to the queue the processor consumes, with a dead-letter queue", () => {
    const produced = edge.queues.producers?.map((p) => p.queue) ?? [];
    const consumers = processor.queues.consumers ?? [];
    expect(produced).toEqual(["image-events"]);
    const main = consumers.find((c) => c.queue === "image-events");
    expect(main?.dead_letter_queue).toBe("image-events-dlq");
    expect(consumers.map((c) => c.queue)).toContain("image-events-dlq");
    expect(processor.queues.producers?.map((p) => p.queue)).toEqual(produced);
  });

  it("gives each Worker only its own settings: no JWT or signing on the processor", () => {
    const processorVars = Object.keys(processor.vars);
    expect(processorVars.some((v) => v.startsWith("JWT_") || v.startsWith("URL_SIGNING"))).toBe(
      false,
    );
    expect(Object.keys(edge.vars).some((v) => v.startsWith("SWEEP_"))).toBe(false);
    expect(processor.triggers.crons).toEqual(["* * * * *"]);
  });

  it("refuses uploads at the edge by the processor's own pixel ceiling", () => {
    expect(edge.vars.MAX_PIXELS).toBeDefined();
    expect(edge.vars.MAX_PIXELS).toBe(processor.vars.MAX_PIXELS);
  });

  it("never accepts an upload the processor would not read", () => {
    const processorMax = Number(processor.vars.MAX_INPUT_BYTES);
    expect(processorMax).toBeGreaterThan(0);
    expect(Number(edge.vars.MAX_UPLOAD_BYTES)).toBeLessThanOrEqual(processorMax);
    expect(Number(edge.vars.RESUMABLE_MAX_UPLOAD_BYTES)).toBeLessThanOrEqual(processorMax);
  });

  it("configures the rate limits the responses state (RATE_LIMITS)", () => {
    const configured = (edge.ratelimits ?? []).map((r) => [
      r.name,
      r.simple.limit,
      r.simple.period,
    ]);
    const stated = Object.values(RATE_LIMITS).map((p) => [p.binding, p.limit, p.periodSeconds]);
    expect(configured.sort()).toEqual(stated.sort());
  });

  it("uses one compatibility date", () => {
    expect(processor.compatibility_date).toBe(edge.compatibility_date);
  });
});
