// Starts the local system (the two Workers as two `wrangler dev` processes, dev-workers.mjs) on
// free loopback ports with a throw-away state directory, for the end-to-end tests and benches.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SignJWT } from "jose";
import { spawnWorkers } from "./dev-workers.mjs";

const root = join(import.meta.dirname, "..");
const wrangler = join(root, "node_modules", ".bin", "wrangler");
const quietEnv = {
  ...process.env,
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_SEND_METRICS: "false",
  CI: "true",
};

/** A running local system. */
export interface LocalSystem {
  base: string;
  /** Everything wrangler printed so far (for failure messages). */
  output: () => string;
  stop: () => void;
}

/** Asks the OS for a free loopback port. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const address = srv.address();
      srv.close(() => (typeof address === "object" && address ? resolve(address.port) : reject()));
    });
  });
}

/** Applies migrations to a fresh state dir, starts both Workers and waits for /healthz. */
export async function startLocalSystem(
  vars: Record<string, string>,
  options: {
    /** Runs after the migrations, before the Workers start (benches seed D1 here). */
    prepare?: (stateDir: string) => Promise<void> | void;
  } = {},
): Promise<LocalSystem> {
  const stateDir = mkdtempSync(join(tmpdir(), "image-host-local-"));
  const migrate = spawnSync(
    wrangler,
    ["d1", "migrations", "apply", "DB", "--local", "--persist-to", stateDir],
    { cwd: root, env: quietEnv, encoding: "utf8" },
  );
  if (migrate.status !== 0) throw new Error(`migrations failed: ${migrate.stderr}`);
  await options.prepare?.(stateDir);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const ports = [await freePort(), await freePort(), await freePort()] as const;
  const { processor, edge } = spawnWorkers({
    root,
    port,
    processorPort: ports[0],
    inspectorPorts: [ports[1], ports[2]],
    persistTo: stateDir,
    registry: join(stateDir, "registry"),
    vars,
    env: quietEnv,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  for (const child of [processor, edge]) {
    child.stdout?.on("data", (d: Buffer) => {
      output += d.toString();
    });
    child.stderr?.on("data", (d: Buffer) => {
      output += d.toString();
    });
  }
  const stop = () => {
    for (const child of [processor, edge]) {
      if (!child.pid) continue;
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        // already gone
      }
    }
    rmSync(stateDir, { recursive: true, force: true });
  };
  // Up = the processor answers (anything: a queue message sent before its consumer registers
  // would be dropped) and the edge's /healthz is ok.
  const deadline = Date.now() + 90_000;
  let processorUp = false;
  while (Date.now() < deadline) {
    try {
      processorUp ||= (await fetch(`http://127.0.0.1:${ports[0]}/healthz`)).ok;
      if (processorUp && (await fetch(`${base}/healthz`)).ok) {
        return { base, output: () => output, stop };
      }
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  stop();
  throw new Error(`local system did not become healthy:\n${output.slice(-3000)}`);
}

/**
 * fetch for polling the local system. Locally both Workers share one workerd thread, so a
 * request that arrives while the processor encodes can stall; retry such a request instead
 * of waiting out the client's default five-minute header timeout.
 */
export async function patientFetch(url: string, init: RequestInit = {}): Promise<Response> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 6; attempt++) {
    try {
      return await fetch(url, { ...init, signal: AbortSignal.timeout(30_000) });
    } catch (err) {
      lastError = err;
    }
  }
  throw lastError;
}

/** A one-hour HS256 token for `sub`, as the local system's JWT_SECRET verifies it. */
export function localToken(
  secret: string,
  sub: string,
  options: { admin?: boolean } = {},
): Promise<string> {
  return new SignJWT(options.admin ? { admin: true } : {})
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(sub)
    .setIssuer("image-host")
    .setAudience("image-host-api")
    .setExpirationTime("1h")
    .sign(new TextEncoder().encode(secret));
}
