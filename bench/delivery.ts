/**
 * Cached public delivery under load on the local system (the two `wrangler dev` processes of
 * `npm start`, dev-workers.mjs): autocannon on a public thumb served from the edge cache, next
 * to `/healthz` on the same runtime in the same run. Budget (docs/architecture.md): the cached
 * thumb reaches >= 0.7x the trivial route's requests per second (goal 0.9x).
 */
import autocannon from "autocannon";
import sharp from "sharp";
import { localToken, patientFetch, startLocalSystem } from "../scripts/local-system";

const SECRET = "bench-secret-0123456789abcdef0123456789abcdef";
const CONNECTIONS = Number(process.env.BENCH_DELIVERY_CONNECTIONS ?? 32);
const SECONDS = Number(process.env.BENCH_DELIVERY_SECONDS ?? 8);
/** Rounds per route, interleaved, so a drift of the machine hits both routes alike. */
const ROUNDS = 2;
const ACCEPT_WEBP = "image/webp,*/*";

interface Row {
  route: string;
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  bytes: number;
}

/**
 * Each connection speaks from its own address, as real visitors do: one address for all of
 * them would meet the per-IP delivery rate limit (6000 a minute) within seconds.
 */
async function load(url: string, headers: Record<string, string>): Promise<autocannon.Result> {
  let next = 0;
  return autocannon({
    url,
    connections: CONNECTIONS,
    duration: SECONDS,
    headers,
    setupClient: (client) => {
      next += 1;
      client.setHeaders({ ...headers, "CF-Connecting-IP": `10.0.${next >> 8}.${next & 255}` });
    },
  });
}

/** A photo-like 1600x1200 JPEG (smooth gradients plus noise), made in memory. */
async function photo(): Promise<Buffer> {
  const width = 1600;
  const height = 1200;
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const n = (Math.imul(x * 73856093 + y * 19349663, 2654435761) >>> 24) & 31;
      pixels[i] = (x * 255) / width + n;
      pixels[i + 1] = (y * 255) / height + n;
      pixels[i + 2] = 128 + n;
    }
  }
  return sharp(pixels, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 85 })
    .toBuffer();
}

const system = await startLocalSystem({ JWT_SECRET: SECRET, URL_SIGNING_KEYS: "k1:bench-key" });
try {
  const auth = {
    Authorization: `Bearer ${await localToken(SECRET, "bench")}`,
    "Content-Type": "application/json",
  };
  const created = (await (
    await fetch(`${system.base}/v1/images`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ visibility: "public" }),
    })
  ).json()) as { id: string; upload: { url: string } };
  const put = await fetch(created.upload.url.replace(/^https?:\/\/[^/]+/, system.base), {
    method: "PUT",
    body: await photo(),
  });
  if (!put.ok) throw new Error(`upload failed: ${put.status} ${await put.text()}`);
  const deadline = Date.now() + 120_000;
  for (;;) {
    const image = (await (
      await patientFetch(`${system.base}/v1/images/${created.id}`, { headers: auth })
    ).json()) as { status: string };
    if (image.status === "ready") break;
    if (image.status === "failed" || Date.now() > deadline) {
      throw new Error(`not ready: ${JSON.stringify(image)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const thumb = `${system.base}/i/${created.id}/thumb`;
  // The first view fills the cache; the load below is served from it.
  for (let i = 0; i < 3; i++) {
    const res = await fetch(thumb, { headers: { Accept: ACCEPT_WEBP } });
    if (res.status !== 200) throw new Error(`thumb: ${res.status}`);
    await res.arrayBuffer();
  }

  const routes: [string, string, Record<string, string>][] = [
    ["/healthz", `${system.base}/healthz`, {}],
    ["/i/{id}/thumb (cached, Accept webp)", thumb, { Accept: ACCEPT_WEBP }],
  ];
  const results = new Map<string, autocannon.Result[]>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, url, headers] of routes) {
      const result = await load(url, headers);
      results.set(name, [...(results.get(name) ?? []), result]);
    }
  }
  const rows: Row[] = routes.map(([name]) => {
    const runs = results.get(name) ?? [];
    const mean = (f: (r: autocannon.Result) => number) =>
      runs.reduce((sum, r) => sum + f(r), 0) / Math.max(1, runs.length);
    return {
      route: name,
      rps: mean((r) => r.requests.average),
      p50: mean((r) => r.latency.p50),
      p99: mean((r) => r.latency.p99),
      non2xx: runs.reduce((sum, r) => sum + r.non2xx + r.errors + r.timeouts, 0),
      bytes: mean((r) => r.throughput.average),
    };
  });
  const [healthz, cached] = rows;
  if (!healthz || !cached) throw new Error("missing rows");
  const ratio = cached.rps / healthz.rps;
  console.log(
    `\nCached public delivery, local system (autocannon, ${CONNECTIONS} connections, ${ROUNDS} x ${SECONDS} s per route, interleaved)`,
  );
  console.log("| route | req/s | p50 ms | p99 ms | MB/s | non-2xx or errors |");
  console.log("|---|---|---|---|---|---|");
  for (const r of rows) {
    console.log(
      `| ${r.route} | ${r.rps.toFixed(0)} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${(r.bytes / 1e6).toFixed(1)} | ${r.non2xx} |`,
    );
  }
  console.log(
    `ratio cached thumb / healthz: ${ratio.toFixed(2)}x (budget >= 0.7x, goal 0.9x) ${ratio >= 0.7 ? "ok" : "OVER BUDGET"}`,
  );
  console.log(JSON.stringify({ bench: "delivery", rows, ratio }));
} finally {
  system.stop();
}
