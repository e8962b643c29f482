import type { ChildProcess, StdioOptions } from "node:child_process";

/** Spawns the processor, then the edge, as two `wrangler dev` processes (see dev-workers.mjs). */
export function spawnWorkers(options: {
  root: string;
  port: number | string;
  processorPort: number | string;
  inspectorPorts: [number | string, number | string];
  persistTo?: string;
  registry: string;
  vars?: Record<string, string>;
  env: NodeJS.ProcessEnv;
  detached?: boolean;
  stdio?: StdioOptions;
}): { processor: ChildProcess; edge: ChildProcess };
