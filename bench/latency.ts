/**
 * View latency on the local system while the processor works: `/healthz` timed back to back
 * when idle, then `/healthz` and the image's status alternately while a 24 MP upload is
 * processed (PUT to `ready` and its AVIF stage). Both
 * Workers run in `npm start`'s workerd, so this measures how long a view waits behind a
 * transform locally.
 */
import { readFile } from "node:fs/promises";
import { localToken, startLocalSystem } from "../scripts/local-system";
import { ensureInputs } from "./photos";

const SECRET = "bench-secret-0123456789abcdef0123456789abcdef";
const IDLE_SAMPLES = 200;

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
}

/** Non-2xx answers seen (locally, wrangler's 503 for a request that waited too long). */
let failures = 0;

async function timeHealthz(base: string): Promise<number> {
  const t = performance.now();
  const res = await fetch(`${base}/healthz`);
  await res.arrayBuffer();
  if (!res.ok) failures++;
  return performance.now() - t;
}

const inputs = await ensureInputs();
const photo = inputs.files.find((f) => f.label === "24MP");
if (!photo) throw new Error("no 24 MP input");
const system = await startLocalSystem({ JWT_SECRET: SECRET, URL_SIGNING_KEYS: "k1:bench-key" });
try {
  const auth = { Authorization: `Bearer ${await localToken(SECRET, "bench")}` };
  for (let i = 0; i < 20; i++) await timeHealthz(system.base);
  const idle: number[] = [];
  for (let i = 0; i < IDLE_SAMPLES; i++) idle.push(await timeHealthz(system.base));

  const created = (await (
    await fetch(`${system.base}/v1/images`, { method: "POST", headers: auth })
  ).json()) as { id: string; upload: { url: string } };
  const put = await fetch(created.upload.url.replace(/^https?:\/\/[^/]+/, system.base), {
    method: "PUT",
    body: await readFile(photo.path),
  });
  if (!put.ok) throw new Error(`upload failed: ${put.status}`);
  const busy: number[] = [];
  const started = performance.now();
  for (;;) {
    busy.push(await timeHealthz(system.base));
    // The status poll is a view request too: a pause lands on whichever request is waiting.
    const t = performance.now();
    const poll = await fetch(`${system.base}/v1/images/${created.id}`, { headers: auth });
    const body = await poll.text();
    busy.push(performance.now() - t);
    if (!poll.ok) {
      failures++;
      continue;
    }
    const image = JSON.parse(body) as { status: string; variants: { format: string }[] };
    if (image.status === "failed") throw new Error("processing failed");
    if (image.variants.some((v) => v.format === "avif")) break;
    if (performance.now() - started > 120_000) throw new Error("timed out");
  }
  const row = (name: string, xs: number[]) =>
    `| ${name} | ${xs.length} | ${percentile(xs, 50).toFixed(1)} | ${percentile(xs, 99).toFixed(1)} | ${Math.max(...xs).toFixed(1)} |`;
  console.log("\nView latency, local system (/healthz; while busy also GET /v1/images/{id}), ms");
  console.log("| while | samples | p50 | p99 | max |");
  console.log("|---|---|---|---|---|");
  console.log(row("idle", idle));
  console.log(row("a 24 MP upload is processed (to AVIF)", busy));
  console.log(`non-2xx answers: ${failures}`);
  console.log(
    JSON.stringify({
      bench: "latency",
      idle: { p50: percentile(idle, 50), p99: percentile(idle, 99), max: Math.max(...idle) },
      busy: { p50: percentile(busy, 50), p99: percentile(busy, 99), max: Math.max(...busy) },
      busySamples: busy.length,
      failures,
    }),
  );
} finally {
  system.stop();
}
