/**
 * Edge hot-path micro-benchmark: the per-request work of a signed view (signature check,
 * format negotiation, range parsing) and of resolving a share token, an API key and the
 * signed cookies (without their D1 read), measured in-process, against the budgets in
 * docs/architecture.md (signature check < 50 µs; whole view request < 1 ms CPU).
 */
import { newApiKey, newShareToken, parseApiKey, parseShareToken } from "../src/auth/credentials";
import { secretDigest, secretMatches } from "../src/auth/secrets";
import {
  deliveryCookieValue,
  readDeliveryCookie,
  readShareSession,
  shareSessionValue,
} from "../src/auth/signed-cookies";
import { parseKeyring, signPath, verifyPath } from "../src/auth/url-signing";
import { parseRange } from "../src/domain/http-range";
import { formatClass, negotiateFormat } from "../src/domain/images";
import { imageTarget, shareState } from "../src/domain/shares";

const N = Number(process.env.BENCH_EDGE_ITERATIONS ?? 10_000);
const ACCEPT = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8";

/**
 * CPU µs per call: process CPU time over N calls issued in concurrent batches. Node runs
 * WebCrypto on its thread pool, so wall-clock latency of one call measures a thread hop, not
 * the work; workerd runs the same BoringSSL HMAC synchronously on the request thread.
 */
async function measure(name: string, fn: () => Promise<unknown> | unknown) {
  const batch = 256;
  const run = async (n: number) => {
    for (let i = 0; i < n; i += batch) {
      await Promise.all(Array.from({ length: Math.min(batch, n - i) }, () => fn()));
    }
  };
  await run(2_000);
  const cpu = [];
  for (let round = 0; round < 5; round++) {
    const start = process.cpuUsage();
    await run(N);
    const used = process.cpuUsage(start);
    cpu.push((used.user + used.system) / N);
  }
  cpu.sort((a, b) => a - b);
  return { name, cpuUsMedian: cpu[2] ?? Number.NaN, cpuUsWorst: cpu[4] ?? Number.NaN };
}

const ring = parseKeyring("k1:0123456789abcdef0123456789abcdef,k0:old", "k1");
if (!ring) throw new Error("keyring");
const path = "/d/Xk23U7GZmqSyKiYCC8e5qA/1/thumb";
const expires = Math.floor(Date.now() / 1000) + 300;
const params = Object.fromEntries(new URLSearchParams(await signPath(ring, "view", path, expires)));
const now = Math.floor(Date.now() / 1000);

const shareToken = newShareToken();
const shareDigest = await secretDigest(shareToken.secret);
const shareFacts = {
  share: {
    shareVersion: 1,
    expiresAt: Date.now() + 3600_000,
    revokedAt: null,
    maxViews: null,
    views: 0,
  },
  target: imageTarget({
    status: "ready",
    shareVersion: 1,
    servedRevision: 1,
    moderation: "allowed",
  }),
};
const apiKey = newApiKey();
const apiKeyDigest = await secretDigest(apiKey.secret);
const session = await shareSessionValue(
  ring,
  shareToken.id,
  { unlocked: true, counted: true },
  expires,
);
const ids = Array.from({ length: 50 }, (_, i) => `image${String(i).padStart(17, "0")}`);
const deliveryCookie = await deliveryCookieValue(ring, { imageIds: ids }, expires);

/** A share token as the view path resolves it, minus the D1 read: parse, digest, compare, state. */
async function resolveShareToken(): Promise<boolean> {
  const parts = parseShareToken(shareToken.text);
  if (!parts) return false;
  return (
    (await secretMatches(parts.secret, shareDigest)) &&
    shareState(shareFacts, Date.now()) === "active"
  );
}

/** An API key as `authenticate()` resolves it, minus the D1 read. */
async function resolveApiKey(): Promise<boolean> {
  const parts = parseApiKey(apiKey.text);
  return parts !== null && (await secretMatches(parts.secret, apiKeyDigest));
}

const rows = [
  await measure("verify signature", () =>
    verifyPath(ring, "view", path, { kid: params.kid, exp: params.exp, sig: params.sig }, now),
  ),
  await measure("sign view URL", () => signPath(ring, "view", path, expires)),
  await measure("negotiate format", () =>
    negotiateFormat(["jpeg", "webp", "avif"], formatClass(ACCEPT)),
  ),
  await measure("parse Range", () => parseRange("bytes=100-199", 50_000)),
  await measure("resolve share token", resolveShareToken),
  await measure("resolve API key", resolveApiKey),
  await measure("check share session cookie", () =>
    readShareSession(ring, session, shareToken.id, now, 1800),
  ),
  await measure("check delivery cookie (50 images)", () =>
    readDeliveryCookie(ring, deliveryCookie, now, 3600),
  ),
];

console.log(
  "\nEdge hot path (Node, same V8 as workerd; CPU µs per call, median and worst of 5 rounds)",
);
console.log("| step | CPU µs (median) | CPU µs (worst) | budget |");
console.log("|---|---|---|---|");
for (const r of rows) {
  const budget = r.name === "verify signature" ? "< 50 µs" : "part of < 1 ms";
  console.log(
    `| ${r.name} | ${r.cpuUsMedian.toFixed(1)} | ${r.cpuUsWorst.toFixed(1)} | ${budget} |`,
  );
}
console.log(JSON.stringify({ bench: "edge", iterations: N, rows }));
