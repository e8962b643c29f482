/**
 * Search at scale on the local system: 100,000 images (1,000 owners, 30 % public) seeded
 * straight into the local D1 file with their search documents, as the indexer writes them;
 * then `GET /v1/search` timed for a few query shapes, and the index update lag after an edit
 * (PATCH to the first result that shows the new text). Budget: p95 < 50 ms (goal < 20 ms).
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { localToken, startLocalSystem } from "../scripts/local-system";
import { ownerKey } from "../src/domain/search-query";

const IMAGES = Number(process.env.BENCH_SEARCH_IMAGES ?? 100_000);
const OWNERS = 1000;
const SAMPLES = Number(process.env.BENCH_SEARCH_SAMPLES ?? 60);
const SECRET = "bench-secret-0123456789abcdef0123456789abcdef";

/** A small deterministic PRNG, so every run seeds the same corpus. */
function prng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const rand = prng(42);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
// A Zipf-like vocabulary: a few common words, a long tail of rare ones.
const SYLLABLES = ["ka", "lo", "mi", "ra", "su", "te", "no", "vi", "da", "pe", "zu", "ho"];
const VOCABULARY = Array.from({ length: 3000 }, (_, i) => {
  let w = "";
  for (let n = i + 7; n > 0; n = Math.floor(n / 12)) w += SYLLABLES[n % 12];
  return w;
});
const word = () => VOCABULARY[Math.floor(VOCABULARY.length * rand() ** 3)] as string;
const words = (min: number, max: number) =>
  Array.from({ length: min + Math.floor(rand() * (max - min + 1)) }, word).join(" ");
const TAGS = Array.from({ length: 500 }, (_, i) => `tag${i}`);

function findDatabase(stateDir: string): string {
  const dir = join(stateDir, "v3", "d1", "miniflare-D1DatabaseObject");
  const file = readdirSync(dir).find((f) => f.endsWith(".sqlite"));
  if (!file) throw new Error(`no D1 file in ${dir}`);
  return join(dir, file);
}

function seed(stateDir: string): void {
  const db = new DatabaseSync(findDatabase(stateDir));
  const now = Date.now();
  const insertImage = db.prepare(
    `insert into images (id, owner_id, title, description, visibility, status, moderation,
       revision, served_revision, tags, index_version, created_at, updated_at)
     values (?, ?, ?, ?, ?, 'ready', 'allowed', 1, 1, ?, 1, ?, ?)`,
  );
  const insertTag = db.prepare("insert into image_tags (image_id, owner_id, tag) values (?, ?, ?)");
  const insertDoc = db.prepare(
    "insert into search_docs (doc_id, image_id, version, indexed_at) values (?, ?, 1, ?)",
  );
  const insertText = db.prepare(
    "insert into search_fts (rowid, title, description, tags, albums, keys) values (?, ?, ?, ?, '', ?)",
  );
  db.exec("begin");
  for (let i = 0; i < IMAGES; i++) {
    const id = `b${String(i).padStart(21, "0")}`;
    const owner = `user-${i % OWNERS}`;
    const r = rand();
    const visibility = r < 0.3 ? "public" : r < 0.4 ? "unlisted" : "private";
    const title = words(2, 5);
    const description = words(6, 14);
    const tags = [...new Set(Array.from({ length: 1 + Math.floor(rand() * 3) }, () => pick(TAGS)))];
    const at = now - (IMAGES - i) * 1000;
    insertImage.run(id, owner, title, description, visibility, JSON.stringify(tags), at, at);
    for (const tag of tags) insertTag.run(id, owner, tag);
    insertDoc.run(i + 1, id, now);
    insertText.run(i + 1, title, description, tags.join(" "), ownerKey(owner));
  }
  db.exec("commit");
  db.close();
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
}

const seedStarted = performance.now();
const system = await startLocalSystem(
  { JWT_SECRET: SECRET, URL_SIGNING_KEYS: "k1:bench-key" },
  { prepare: seed },
);
const seededMs = performance.now() - seedStarted;
try {
  const auth = { Authorization: `Bearer ${await localToken(SECRET, "user-7")}` };
  const common = VOCABULARY[0] as string;
  const rare = VOCABULARY[2500] as string;
  const shapes: [string, string][] = [
    ["one common word", `q=${common}`],
    ["two words", `q=${common}+${VOCABULARY[1]}`],
    ["prefix of the last word", `q=${(VOCABULARY[3] as string).slice(0, 3)}`],
    ["rare word", `q=${rare}`],
    ["word + tag", `q=${common}&tag=tag7`],
    ["word + owner", `q=${common}&owner=user-9`],
    ["scope=public, anonymous", `q=${common}&scope=public`],
    ["tag only (newest first)", "tag=tag7"],
    ["no match", "q=qqqqzz"],
  ];
  const rows: { shape: string; p50: number; p95: number; results: number }[] = [];
  for (const [shape, query] of shapes) {
    const anonymous = query.includes("scope=public");
    const times: number[] = [];
    let results = 0;
    for (let i = 0; i < SAMPLES + 5; i++) {
      const t = performance.now();
      const res = await fetch(`${system.base}/v1/search?${query}&limit=20`, {
        headers: anonymous ? {} : auth,
      });
      const body = (await res.json()) as { items: unknown[] };
      if (!res.ok) throw new Error(`${shape}: ${res.status} ${JSON.stringify(body)}`);
      results = body.items.length;
      if (i >= 5) times.push(performance.now() - t);
    }
    rows.push({ shape, p50: percentile(times, 50), p95: percentile(times, 95), results });
  }
  // Index update lag: an edit, then the first search that finds the new text.
  const lags: number[] = [];
  const json = { ...auth, "Content-Type": "application/json" };
  for (let run = 0; run < 5; run++) {
    const created = (await (
      await fetch(`${system.base}/v1/images`, { method: "POST", headers: json, body: "{}" })
    ).json()) as { id: string };
    const marker = `lag${run}x${Math.floor(Math.random() * 1e9)}`;
    const t = performance.now();
    await fetch(`${system.base}/v1/images/${created.id}`, {
      method: "PATCH",
      headers: json,
      body: JSON.stringify({ title: marker }),
    });
    for (;;) {
      const res = await fetch(`${system.base}/v1/search?q=${marker}`, { headers: auth });
      const body = (await res.json()) as { items: unknown[] };
      if (body.items.length > 0) break;
      if (performance.now() - t > 60_000) throw new Error("index never caught up");
      await new Promise((r) => setTimeout(r, 20));
    }
    lags.push(performance.now() - t);
  }
  console.log(
    `\nSearch, local system, ${IMAGES} images (seeded in ${(seededMs / 1000).toFixed(1)} s), ms per request (client side), ${SAMPLES} samples`,
  );
  console.log("| query shape | p50 | p95 (budget < 50, goal < 20) | results |");
  console.log("|---|---|---|---|");
  for (const r of rows) {
    console.log(`| ${r.shape} | ${r.p50.toFixed(1)} | ${r.p95.toFixed(1)} | ${r.results} |`);
  }
  console.log(
    `index update lag after an edit (PATCH to found): median ${percentile(lags, 50).toFixed(0)} ms, max ${Math.max(...lags).toFixed(0)} ms`,
  );
  console.log(JSON.stringify({ bench: "search", images: IMAGES, rows, lagsMs: lags }));
} finally {
  system.stop();
}
