import { utcDay } from "../domain/policy";
import type { ControlRepository } from "../storage/control-repository";

/**
 * Daily budgets of embedded views (policy `hotlinkRequestsPerDay`), counted without a D1 write
 * per view: each isolate adds its views up and flushes them every couple of seconds (or every
 * FLUSH_AT views), and reads the day's total at most every KNOWN_MS. The budget is therefore
 * exact to within the views of a few seconds across isolates: enough to stop a site that
 * embeds an image a million times, never a reason to refuse a legitimate page.
 */
const KNOWN_MS = 5000;
const FLUSH_MS = 2000;
const FLUSH_AT = 20;

const known = new Map<string, { count: number; until: number }>();
const pending = new Map<string, number>();
let lastFlush = 0;

/** What budgets use: the counters' store and a way to run the flush after the response. */
export interface BudgetDeps {
  control: ControlRepository;
  now: () => number;
  background: (task: Promise<unknown>) => void;
}

async function flush(control: ControlRepository): Promise<void> {
  const entries = [...pending.entries()].map(([k, n]) => {
    const [key = "", day = ""] = k.split("|");
    return { key, day, n, k };
  });
  pending.clear();
  if (entries.length === 0) return;
  // Counted as known before the write, so views during it see them; a failed write loses
  // them from the shared total only (the budget errs on the side of serving).
  for (const { k, n } of entries) {
    const entry = known.get(k);
    if (entry) entry.count += n;
  }
  await control.add(entries);
}

/**
 * Spends one view of `key`'s daily budget; false when it is spent (the view must be refused).
 * `limit` null: no budget.
 */
export async function spendBudget(
  deps: BudgetDeps,
  key: string,
  limit: number | null,
): Promise<boolean> {
  if (limit === null) return true;
  const now = deps.now();
  const day = utcDay(now);
  const k = `${key}|${day}`;
  let entry = known.get(k);
  if (!entry || entry.until <= now) {
    const counts = await deps.control.counts([key], day);
    entry = { count: counts.get(key) ?? 0, until: now + KNOWN_MS };
    if (known.size > 10_000) known.clear();
    known.set(k, entry);
  }
  const spent = entry.count + (pending.get(k) ?? 0);
  if (spent >= limit) return false;
  pending.set(k, (pending.get(k) ?? 0) + 1);
  const total = [...pending.values()].reduce((a, b) => a + b, 0);
  if (total >= FLUSH_AT || now - lastFlush >= FLUSH_MS) {
    lastFlush = now;
    deps.background(flush(deps.control));
  }
  return true;
}
