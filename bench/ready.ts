/**
 * Upload -> `ready` latency on the local system (both Workers in one workerd, local R2, D1,
 * Queues), against the budget in docs/architecture.md (12 MP photo < 5 s). Also reports when the slow stage
 * (AVIF) has landed.
 */
import { readFile } from "node:fs/promises";
import { localToken, patientFetch, startLocalSystem } from "../scripts/local-system";
import { ensureInputs } from "./photos";

const RUNS = Number(process.env.BENCH_READY_RUNS ?? 3);
const SECRET = "bench-secret-0123456789abcdef0123456789abcdef";

interface ImageJson {
  id: string;
  status: string;
  variants: { format: string }[];
  upload: { url: string };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

const inputs = await ensureInputs();
const system = await startLocalSystem({ JWT_SECRET: SECRET, URL_SIGNING_KEYS: "k1:bench-key" });
try {
  const token = await localToken(SECRET, "bench");
  const auth = { Authorization: `Bearer ${token}` };
  const rows = [];
  // The JPEG photos: upload-to-ready is about the pipeline's path, not the input codec.
  for (const file of inputs.files.filter((f) => f.path.endsWith(".jpg"))) {
    const bytes = await readFile(file.path);
    const ready: number[] = [];
    const avif: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const created = (await (
        await fetch(`${system.base}/v1/images`, { method: "POST", headers: auth })
      ).json()) as ImageJson;
      const t0 = performance.now();
      const put = await fetch(created.upload.url.replace(/^https?:\/\/[^/]+/, system.base), {
        method: "PUT",
        body: bytes,
      });
      if (!put.ok) throw new Error(`upload failed: ${put.status}`);
      let readyAt = 0;
      for (;;) {
        const image = (await (
          await patientFetch(`${system.base}/v1/images/${created.id}`, { headers: auth })
        ).json()) as ImageJson;
        const now = performance.now() - t0;
        if (image.status === "failed")
          throw new Error(`processing failed: ${JSON.stringify(image)}`);
        if (image.status === "ready" && readyAt === 0) readyAt = now;
        if (image.variants.some((v) => v.format === "avif")) {
          avif.push(now);
          break;
        }
        if (now > 120_000) throw new Error("timed out");
        await new Promise((r) => setTimeout(r, 50));
      }
      ready.push(readyAt);
    }
    rows.push({
      input: file.label,
      bytes: bytes.length,
      readyMs: median(ready),
      avifMs: median(avif),
    });
  }
  console.log(`\nUpload -> ready, local system (median of ${RUNS}; PUT start to status ready)`);
  console.log("| input | upload bytes | ready ms | + AVIF ms | budget (ready) |");
  console.log("|---|---|---|---|---|");
  for (const r of rows) {
    console.log(
      `| ${r.input} | ${r.bytes} | ${r.readyMs.toFixed(0)} | ${r.avifMs.toFixed(0)} | ${r.input.startsWith("12") ? "< 5000 ms" : "-"} |`,
    );
  }
  console.log(JSON.stringify({ bench: "ready", runs: RUNS, rows }));
} catch (err) {
  console.error(
    system
      .output()
      .split("\n")
      .filter((l) => !l.includes("GET /v1"))
      .join("\n")
      .slice(-4000),
  );
  throw err;
} finally {
  system.stop();
}
