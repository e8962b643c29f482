// The local system as two `wrangler dev` processes: the processor and the edge. In one process
// both Workers share one workerd thread, so every API request waited behind the processor's
// encodes (up to ~2.9 s measured with bench/latency.ts). wrangler's dev registry connects them:
// the edge's queue messages reach the processor's consumer in the other process, and both use
// the same local D1 and R2 through one --persist-to directory.
import { spawn } from "node:child_process";
import { join } from "node:path";

/**
 * Spawns the processor, then the edge. `registry` is a dev-registry directory of this system
 * alone, so two local systems (npm start and the e2e tests) never deliver to each other.
 */
export function spawnWorkers({
  root,
  port,
  processorPort,
  inspectorPorts,
  persistTo,
  registry,
  vars = {},
  env,
  detached = false,
  stdio = "inherit",
}) {
  const wrangler = join(root, "node_modules", ".bin", "wrangler");
  const shared = ["--ip", "127.0.0.1", "--show-interactive-dev-session=false"];
  if (persistTo) shared.push("--persist-to", persistTo);
  for (const [name, value] of Object.entries(vars)) shared.push("--var", `${name}:${value}`);
  const options = { cwd: root, env: { ...env, WRANGLER_REGISTRY_PATH: registry }, detached, stdio };
  const start = (config, workerPort, inspectorPort) =>
    spawn(
      wrangler,
      [
        "dev",
        "-c",
        config,
        "--port",
        String(workerPort),
        "--inspector-port",
        String(inspectorPort),
        ...shared,
      ],
      options,
    );
  const processor = start("workers/processor.wrangler.toml", processorPort, inspectorPorts[0]);
  const edge = start("wrangler.toml", port, inspectorPorts[1]);
  return { processor, edge };
}
