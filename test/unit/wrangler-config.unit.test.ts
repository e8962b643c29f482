import { describe, expect, it } from "vitest";
import { unstable_readConfig } from "wrangler";

// The two Workers share one database, bucket and queue: their names live in two files, so
// this test is what keeps them defined once in effect.
const edge = unstable_readConfig({ config: "wrangler.toml" });
const processor = unstable_readConfig({ config: "workers/processor.wrangler.toml" });

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

  it("uses one compatibility date", () => {
    expect(processor.compatibility_date).toBe(edge.compatibility_date);
  });
});
