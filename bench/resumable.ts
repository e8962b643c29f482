/**
 * Upload throughput on the local system (`npm start`'s two Workers): a 100 MiB resumable
 * upload with tus-js-client (the suggested 10 MiB chunks, and 1 MiB chunks as a phone on a bad
 * network would send) next to one single PUT of the same bytes, which the edge streams into
 * one R2 put. Interleaved runs, median. Goal: resumable >= 0.8x the single PUT's MiB/s.
 */
import { randomBytes } from "node:crypto";
import { Upload } from "tus-js-client";
import { localToken, startLocalSystem } from "../scripts/local-system";

const MIB = 1024 * 1024;
const SIZE = Number(process.env.BENCH_RESUMABLE_MIB ?? 100) * MIB;
const RUNS = Number(process.env.BENCH_RESUMABLE_RUNS ?? 3);
const SECRET = "bench-secret-0123456789abcdef0123456789abcdef";

/** A PNG signature and a small IHDR (the early probe accepts it), then random bytes. */
function payload(): Buffer {
  const bytes = randomBytes(SIZE);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 73, 72, 68, 82]).copy(
    bytes,
  );
  bytes.writeUInt32BE(100, 16);
  bytes.writeUInt32BE(100, 20);
  return bytes;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

// The processor keeps its own 32 MiB input limit: these uploads end `upload_too_large` unread.
const limit = String(SIZE + MIB);
const system = await startLocalSystem({
  JWT_SECRET: SECRET,
  URL_SIGNING_KEYS: "k1:bench-key",
  MAX_UPLOAD_BYTES: limit,
  RESUMABLE_MAX_UPLOAD_BYTES: limit,
});
try {
  const auth = {
    Authorization: `Bearer ${await localToken(SECRET, "bench")}`,
    "Content-Type": "application/json",
  };
  // The default policy caps uploads at 32 MiB too: this user's override lifts it.
  const lifted = await fetch(`${system.base}/v1/admin/policies/users/bench`, {
    method: "PUT",
    headers: {
      Authorization: `Bearer ${await localToken(SECRET, "bench-admin", { admin: true })}`,
      "Content-Type": "application/json",
    },
    body: JSON.stringify({ maxUploadBytes: SIZE + MIB }),
  });
  if (!lifted.ok) throw new Error(`policy ${lifted.status} ${await lifted.text()}`);
  const bytes = payload();
  const newImage = async () =>
    (await (
      await fetch(`${system.base}/v1/images`, {
        method: "POST",
        headers: auth,
        body: JSON.stringify({ size: SIZE }),
      })
    ).json()) as { id: string; upload: { url: string } };

  const singlePut = async (): Promise<number> => {
    const image = await newImage();
    const t = performance.now();
    const res = await fetch(image.upload.url.replace(/^https?:\/\/[^/]+/, system.base), {
      method: "PUT",
      body: bytes,
    });
    if (!res.ok) throw new Error(`PUT ${res.status} ${await res.text()}`);
    await res.arrayBuffer();
    return performance.now() - t;
  };

  const resumable = async (chunkSize: number): Promise<number> => {
    const image = await newImage();
    const started = await fetch(`${system.base}/v1/uploads:resumable`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ imageId: image.id, size: SIZE }),
    });
    const { uploadUrl } = (await started.json()) as { uploadUrl: string };
    const t = performance.now();
    await new Promise<void>((resolve, reject) => {
      new Upload(bytes, {
        uploadUrl,
        chunkSize,
        storeFingerprintForResuming: false,
        onSuccess: () => resolve(),
        onError: reject,
      }).start();
    });
    return performance.now() - t;
  };

  const rows: Record<string, number[]> = {
    "single PUT (one R2 put)": [],
    "resumable, 10 MiB chunks": [],
    "resumable, 1 MiB chunks": [],
  };
  await singlePut(); // warm both Workers up
  for (let run = 0; run < RUNS; run++) {
    rows["single PUT (one R2 put)"]?.push(await singlePut());
    rows["resumable, 10 MiB chunks"]?.push(await resumable(10 * MIB));
    rows["resumable, 1 MiB chunks"]?.push(await resumable(MIB));
  }
  const mibPerSecond = (ms: number) => SIZE / MIB / (ms / 1000);
  const baseline = mibPerSecond(median(rows["single PUT (one R2 put)"] ?? []));
  console.log(`\nUpload throughput, local system, ${SIZE / MIB} MiB, median of ${RUNS}`);
  console.log("| path | ms | MiB/s | ratio to the single PUT (goal >= 0.8x for resumable) |");
  console.log("|---|---|---|---|");
  const summary: Record<string, { ms: number; mibPerSecond: number; ratio: number }> = {};
  for (const [name, times] of Object.entries(rows)) {
    const ms = median(times);
    const rate = mibPerSecond(ms);
    summary[name] = { ms, mibPerSecond: rate, ratio: rate / baseline };
    console.log(
      `| ${name} | ${ms.toFixed(0)} | ${rate.toFixed(1)} | ${(rate / baseline).toFixed(2)}x |`,
    );
  }
  console.log(JSON.stringify({ bench: "resumable", sizeMiB: SIZE / MIB, runs: RUNS, summary }));
} finally {
  system.stop();
}
