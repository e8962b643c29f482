/**
 * Crash recovery on the local system, as `npm start` runs it: 12 uploads, a hard kill (SIGKILL
 * of the whole process group) right after the last PUT, a restart on the same state, then the
 * time until every image is `ready`. Local queues do not survive a restart; the sweeper (cron,
 * triggered by npm start) must re-send what was lost. Budget: every image ready within 3 min.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { freePort, localToken } from "../scripts/local-system";

const root = join(import.meta.dirname, "..");
const UPLOADS = Number(process.env.RECOVERY_UPLOADS ?? 12);
const BUDGET_MS = 180_000;

function start(port: number, stateDir: string): ChildProcess {
  return spawn("node", ["scripts/start.mjs", "--port", String(port), "--persist-to", stateDir], {
    cwd: root,
    detached: true,
    stdio: process.env.RECOVERY_VERBOSE ? "inherit" : "ignore",
    env: { ...process.env, CI: "true" },
  });
}

async function healthy(base: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${base}/healthz`)).ok) return;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error("not healthy");
}

function kill(child: ChildProcess): void {
  if (child.pid) process.kill(-child.pid, "SIGKILL");
}

const stateDir = mkdtempSync(join(tmpdir(), "image-host-recovery-"));
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
let server = start(port, stateDir);
try {
  await healthy(base);
  const secret = /^JWT_SECRET=(.+)$/m.exec(readFileSync(join(root, ".dev.vars"), "utf8"))?.[1];
  if (!secret) throw new Error("no JWT_SECRET in .dev.vars");
  const token = await localToken(secret, "recovery");
  const auth = { Authorization: `Bearer ${token}` };
  const photo = await sharp({
    create: { width: 2400, height: 1600, channels: 3, background: { r: 90, g: 140, b: 200 } },
  })
    .jpeg()
    .toBuffer();
  const ids: string[] = [];
  // Locally both Workers share one workerd thread: a request that waits out a processing batch
  // for more than ~5 s gets wrangler's 503 "worker restarted mid-request". Retry as a client
  // would; a PUT that may have landed is checked before it is sent again.
  for (let i = 0; i < UPLOADS; i++) {
    type Created = { id: string; upload: { url: string } };
    let created: Created | null = null;
    for (let attempt = 0; attempt < 5 && !created; attempt++) {
      const res = await fetch(`${base}/v1/images`, { method: "POST", headers: auth });
      if (res.status === 201) created = (await res.json()) as Created;
      else await res.body?.cancel();
    }
    if (!created) throw new Error(`create ${i} kept failing`);
    const uploadUrl = created.upload.url.replace(/^https?:\/\/[^/]+/, base);
    for (let attempt = 0; ; attempt++) {
      const put = await fetch(uploadUrl, { method: "PUT", body: photo });
      await put.body?.cancel();
      if (put.ok) break;
      const now = (await (
        await fetch(`${base}/v1/images/${created.id}`, { headers: auth })
      ).json()) as {
        status: string;
      };
      if (now.status !== "pending" || attempt >= 4) break;
    }
    ids.push(created.id);
  }
  kill(server);
  console.log(`${ids.length} uploads, then SIGKILL; restarting on the same state`);
  await new Promise((r) => setTimeout(r, 1000));
  server = start(port, stateDir);
  await healthy(base);
  const restarted = performance.now();
  const atRestart = new Map<string, number>();
  for (const id of ids) {
    const res = await fetch(`${base}/v1/images/${id}`, { headers: auth });
    const { status } = (await res.json()) as { status: string };
    atRestart.set(status, (atRestart.get(status) ?? 0) + 1);
  }
  console.log(`status at restart: ${JSON.stringify(Object.fromEntries(atRestart))}`);
  const readyAt = new Map<string, number>();
  while (readyAt.size < ids.length && performance.now() - restarted < BUDGET_MS + 60_000) {
    for (const id of ids) {
      if (readyAt.has(id)) continue;
      const res = await fetch(`${base}/v1/images/${id}`, { headers: auth });
      const body = (await res.json()) as { status: string };
      if (body.status === "ready") readyAt.set(id, performance.now() - restarted);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  const times = [...readyAt.values()].sort((a, b) => a - b);
  const last = times[times.length - 1] ?? Number.NaN;
  console.log(
    `ready after restart: ${readyAt.size}/${ids.length}; first ${((times[0] ?? NaN) / 1000).toFixed(1)} s, last ${(last / 1000).toFixed(1)} s (budget ${BUDGET_MS / 1000} s)`,
  );
  console.log(
    JSON.stringify({
      bench: "recovery",
      uploads: ids.length,
      atRestart: Object.fromEntries(atRestart),
      ready: readyAt.size,
      lastReadyMs: Math.round(last),
      withinBudget: readyAt.size === ids.length && last <= BUDGET_MS,
    }),
  );
} finally {
  kill(server);
  rmSync(stateDir, { recursive: true, force: true });
}
