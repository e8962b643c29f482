import { drizzle } from "drizzle-orm/d1";
import { metrics, type NewMetricRow } from "../storage/schema";

/** One use-case outcome: what happened, how it ended, how long it took, how many bytes. */
export interface Metric {
  name: string;
  outcome: string;
  ms?: number;
  bytes?: number;
  imageId?: string;
}

/** Where use cases report their outcomes; `flush` runs off the hot path (`waitUntil`). */
export interface MetricsSink {
  record(metric: Metric): void;
  flush(): Promise<void>;
}

/** D1 allows 100 bound parameters a statement: 8 columns a row. */
const ROWS_PER_INSERT = 12;

/**
 * Buffers metrics in memory and writes them to the `metrics` table in one batch when flushed.
 * A failed write is logged by the caller and never fails the request it measured.
 */
export class D1MetricsSink implements MetricsSink {
  private pending: NewMetricRow[] = [];

  constructor(
    private readonly db: D1Database,
    private readonly worker: string,
    private readonly now: () => number = Date.now,
  ) {}

  record(metric: Metric): void {
    this.pending.push({
      at: this.now(),
      worker: this.worker,
      name: metric.name,
      outcome: metric.outcome,
      ms: metric.ms ?? null,
      bytes: metric.bytes ?? null,
      imageId: metric.imageId ?? null,
    });
  }

  async flush(): Promise<void> {
    const rows = this.pending;
    this.pending = [];
    if (rows.length === 0) return;
    const db = drizzle(this.db);
    for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
      await db.insert(metrics).values(rows.slice(i, i + ROWS_PER_INSERT));
    }
  }
}
