import { env, exports } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { ImageRepository } from "../../src/storage/image-repository";
import { ObjectStore } from "../../src/storage/object-store";
import {
  call,
  callApp,
  callAs,
  problemCode,
  processedImage,
  seedReadyImage,
  token,
} from "../helpers/edge";

const STAND_IN = "https://cloudflare-api.stand-in";
const WEBP = "image/webp,*/*";
const AVIF = "image/avif,image/webp,*/*";
const JPEG_ONLY = "image/jpeg";

interface StandInState {
  purges: { zone: string; tags: string[] }[];
  attempts: number;
}

async function standIn(): Promise<StandInState> {
  const res = await fetch(`${STAND_IN}/__stand-in/purges`);
  return ((await res.json()) as { result: StandInState }).result;
}

async function failPurges(status: number, count: number): Promise<void> {
  await fetch(`${STAND_IN}/__stand-in/fail`, {
    method: "POST",
    body: JSON.stringify({ status, count }),
  });
}

/** The bindings with counters on every D1 and R2 call, to prove a hit touches neither. */
function countingEnv(): { bindings: Env; d1: () => number; r2: () => number } {
  let d1 = 0;
  let r2 = 0;
  const counted = <T extends object>(target: T, bump: () => void): T =>
    new Proxy(target, {
      get(t, prop) {
        const value = Reflect.get(t, prop, t);
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => {
          bump();
          return value.apply(t, args);
        };
      },
    });
  const bindings = {
    ...env,
    DB: counted(env.DB, () => d1++),
    BUCKET: counted(env.BUCKET, () => r2++),
  };
  return { bindings, d1: () => d1, r2: () => r2 };
}

async function bytesOf(res: Response): Promise<Uint8Array> {
  return new Uint8Array(await res.arrayBuffer());
}

function view(path: string, headers: Record<string, string> = {}, bindings?: Env) {
  return callApp(path, { headers }, bindings);
}

async function setRules(user: string, rules: Record<string, unknown>): Promise<Response> {
  return callApp("/v1/settings/hotlink", {
    method: "PUT",
    headers: {
      Authorization: `Bearer ${await token(user)}`,
      "Content-Type": "application/json",
    },
    body: JSON.stringify(rules),
  });
}

beforeEach(async () => {
  await fetch(`${STAND_IN}/__stand-in/reset`, { method: "POST" });
});

describe("edge cache", () => {
  it("serves a hit without reading D1 or R2", async () => {
    const { image, bytes } = await seedReadyImage("cache-owner", "public");
    const counting = countingEnv();
    const miss = await view(`/i/${image.id}/thumb`, { Accept: WEBP }, counting.bindings);
    expect(miss.status).toBe(200);
    expect(miss.headers.get("X-Cache")).toBe("MISS");
    expect(await bytesOf(miss)).toEqual(bytes["thumb.webp"]);
    expect(counting.d1()).toBeGreaterThan(0);
    expect(counting.r2()).toBeGreaterThan(0);

    const again = countingEnv();
    const hit = await view(`/i/${image.id}/thumb`, { Accept: WEBP }, again.bindings);
    expect(hit.status).toBe(200);
    expect(hit.headers.get("X-Cache")).toBe("HIT");
    expect(await bytesOf(hit)).toEqual(bytes["thumb.webp"]);
    expect(again.d1()).toBe(0);
    expect(again.r2()).toBe(0);
  });

  it("keeps formats apart: each client gets its own format after another was cached", async () => {
    const { image, bytes } = await seedReadyImage("cache-owner", "public");
    const path = `/i/${image.id}/medium`;
    for (const round of [1, 2]) {
      const webp = await view(path, { Accept: WEBP });
      expect(webp.headers.get("Content-Type"), `round ${round}`).toBe("image/webp");
      expect(await bytesOf(webp)).toEqual(bytes["medium.webp"]);
      const jpeg = await view(path, { Accept: JPEG_ONLY });
      expect(jpeg.headers.get("Content-Type")).toBe("image/jpeg");
      expect(await bytesOf(jpeg)).toEqual(bytes["medium.jpeg"]);
      const none = await view(path);
      expect(none.headers.get("Content-Type")).toBe("image/jpeg");
      await none.arrayBuffer();
      const avif = await view(path, { Accept: AVIF });
      expect(await bytesOf(avif)).toEqual(bytes["medium.avif"]);
      expect(avif.headers.get("Vary")).toBe("Accept");
    }
  });

  it("forces a format with ?format= and refuses one that is not stored with a 406", async () => {
    const { image, bytes } = await seedReadyImage("cache-owner", "public");
    for (const _ of [1, 2]) {
      const forced = await view(`/i/${image.id}/thumb?format=jpeg`, { Accept: AVIF });
      expect(forced.headers.get("Content-Type")).toBe("image/jpeg");
      expect(await bytesOf(forced)).toEqual(bytes["thumb.jpeg"]);
    }
    const png = await view(`/i/${image.id}/thumb?format=png`);
    expect(png.status).toBe(406);
    expect(await problemCode(png)).toBe("format_not_available");
    const bad = await view(`/i/${image.id}/thumb?format=gif`);
    expect(bad.status).toBe(400);
    const twice = await view(`/i/${image.id}/thumb?format=jpeg&format=webp`);
    expect(twice.status).toBe(400);
  });

  it("serves revisioned URLs as immutable and the stable URL with a short TTL", async () => {
    const { image, bytes } = await seedReadyImage("cache-owner", "public");
    for (const _ of [1, 2]) {
      const pinned = await view(`/i/${image.id}/1/large`, { Accept: WEBP });
      expect(pinned.status).toBe(200);
      expect(pinned.headers.get("Cache-Control")).toBe("public, max-age=31536000, immutable");
      expect(await bytesOf(pinned)).toEqual(bytes["large.webp"]);
      const stable = await view(`/i/${image.id}/large`, { Accept: WEBP });
      expect(stable.headers.get("Cache-Control")).toBe("public, max-age=60, must-revalidate");
      await stable.arrayBuffer();
    }
    expect((await view(`/i/${image.id}/2/large`)).status).toBe(404);
    expect((await view(`/i/${image.id}/0/large`)).status).toBe(404);
  });

  it("gives a download a safe attachment name", async () => {
    const { image } = await seedReadyImage("cache-owner", "public");
    const res = await view(`/i/${image.id}/thumb?download=1`, { Accept: WEBP });
    expect(res.headers.get("Content-Disposition")).toBe(
      `attachment; filename="${image.id}-thumb.webp"; filename*=UTF-8''${image.id}-thumb.webp`,
    );
    await res.arrayBuffer();
    expect((await view(`/i/${image.id}/thumb?download=yes`)).status).toBe(400);
  });

  it("answers HEAD, Range, ETag and Last-Modified on hits as on misses", async () => {
    const { image, bytes } = await seedReadyImage("cache-owner", "public");
    const path = `/i/${image.id}/thumb`;
    const body = bytes["thumb.webp"] ?? new Uint8Array();
    const first = await view(path, { Accept: WEBP });
    const etag = first.headers.get("ETag") ?? "";
    const lastModified = first.headers.get("Last-Modified") ?? "";
    await first.arrayBuffer();
    for (const round of ["miss-shaped", "hit"]) {
      const head = await callApp(path, { method: "HEAD", headers: { Accept: WEBP } });
      expect(head.status, round).toBe(200);
      expect(head.headers.get("Content-Length")).toBe(String(body.length));
      expect(head.headers.get("ETag")).toBe(etag);
      expect(await head.text()).toBe("");

      const notModified = await view(path, { Accept: WEBP, "If-None-Match": etag });
      expect(notModified.status).toBe(304);
      const since = await view(path, { Accept: WEBP, "If-Modified-Since": lastModified });
      expect(since.status).toBe(304);
      const failed = await view(path, { Accept: WEBP, "If-Match": '"other"' });
      expect(failed.status).toBe(412);

      const partial = await view(path, { Accept: WEBP, Range: "bytes=10-19" });
      expect(partial.status).toBe(206);
      expect(partial.headers.get("Content-Range")).toBe(`bytes 10-19/${body.length}`);
      expect(await bytesOf(partial)).toEqual(body.slice(10, 20));
      const suffix = await view(path, { Accept: WEBP, Range: "bytes=-5" });
      expect(await bytesOf(suffix)).toEqual(body.slice(-5));
      const ifRange = await view(path, { Accept: WEBP, Range: "bytes=0-3", "If-Range": etag });
      expect(ifRange.status).toBe(206);
      await ifRange.arrayBuffer();
      const staleIfRange = await view(path, {
        Accept: WEBP,
        Range: "bytes=0-3",
        "If-Range": '"old"',
      });
      expect(staleIfRange.status).toBe(200);
      expect(await bytesOf(staleIfRange)).toEqual(body);
      const outside = await view(path, { Accept: WEBP, Range: "bytes=999999-" });
      expect(outside.status).toBe(416);
      expect(outside.headers.get("Content-Range")).toBe(`bytes */${body.length}`);

      const full = await view(path, { Accept: WEBP });
      expect(full.headers.get("Last-Modified")).toBe(lastModified);
      expect(full.headers.get("X-Content-Type-Options")).toBe("nosniff");
      expect(full.headers.get("Content-Security-Policy")).toBe("default-src 'none'; sandbox");
      expect(full.headers.get("Cross-Origin-Resource-Policy")).toBe("cross-origin");
      expect(full.headers.get("Cache-Tag")).toBeNull();
      expect(full.headers.get("X-Rendition-Meta")).toBeNull();
      expect(await bytesOf(full)).toEqual(body);
    }
  });

  it("caches signed views by revision and never longer than the signature lives", async () => {
    const { image, bytes } = await seedReadyImage("cache-owner", "private");
    const res = await callAs(
      "cache-owner",
      `/v1/images/${image.id}:view?variant=thumb&redirect=false`,
    );
    const { url } = (await res.json()) as { url: string };
    const signed = new URL(url);
    for (const _ of [1, 2]) {
      const got = await view(signed.pathname + signed.search, { Accept: WEBP });
      expect(got.status).toBe(200);
      expect(got.headers.get("Cache-Control")).toMatch(/^private, max-age=(29\d|300)$/);
      expect(await bytesOf(got)).toEqual(bytes["thumb.webp"]);
    }
    // The signed URL cached the private rendition under its revision: the public
    // revisioned URL must still refuse it.
    const pinned = await view(`/i/${image.id}/1/thumb`, { Accept: WEBP });
    expect(pinned.status).toBe(404);
    const tampered = await view(`${signed.pathname}${signed.search.replace(/sig=./, "sig=A")}`);
    expect(tampered.status).toBe(403);
  });
});

describe("purge at once", () => {
  async function cachedPublic() {
    const seeded = await seedReadyImage("purge-owner", "public");
    const id = seeded.image.id;
    for (const path of [`/i/${id}/thumb`, `/i/${id}/1/thumb`]) {
      const res = await view(path, { Accept: WEBP });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
    return seeded;
  }

  it("delete: every cached copy is gone before the response, and the zone is purged by tag", async () => {
    const { image } = await cachedPublic();
    const deleted = await callAs("purge-owner", `/v1/images/${image.id}`, { method: "DELETE" });
    expect(deleted.status).toBe(204);
    for (const path of [`/i/${image.id}/thumb`, `/i/${image.id}/1/thumb`]) {
      const res = await view(path, { Accept: WEBP });
      expect(res.status, path).toBe(404);
    }
    await vi.waitFor(async () => {
      const { purges } = await standIn();
      expect(purges).toContainEqual({
        zone: "test-zone",
        tags: [`img-${image.id}`],
        at: expect.any(Number),
      });
    });
  });

  it("make-private: the public URLs stop at once", async () => {
    const { image } = await cachedPublic();
    const patched = await callAs("purge-owner", `/v1/images/${image.id}`, {
      method: "PATCH",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ visibility: "private" }),
    });
    expect(patched.status).toBe(200);
    expect((await view(`/i/${image.id}/thumb`, { Accept: WEBP })).status).toBe(404);
    expect((await view(`/i/${image.id}/1/thumb`, { Accept: WEBP })).status).toBe(404);
  });

  it("new revision: the stable URL serves it at once and the old revision is gone", async () => {
    const { image, bytes } = await cachedPublic();
    const repo = new ImageRepository(env.DB);
    const store = new ObjectStore(env.BUCKET);
    // What the processor does when revision 2 is ready (process-image.ts), then its purge
    // through the edge's CacheInvalidation entrypoint.
    const fresh = crypto.getRandomValues(new Uint8Array(1500));
    const now = Date.now();
    await repo.startReprocess(image.id, 1, now);
    await repo.claimProcessing(image.id, 2, now);
    const etag = await store.putVariant(image.id, 2, "thumb", "webp", fresh, "image/webp");
    await repo.completeProcessing(
      image.id,
      2,
      processedImage([
        {
          name: "thumb",
          format: "webp",
          contentType: "image/webp",
          width: 256,
          height: 256,
          bytes: fresh.length,
          etag,
        },
      ]),
      now,
    );
    await store.deleteRevisionsBelow(image.id, 2);
    await exports.CacheInvalidation.purge({
      target: { kind: "image", imageId: image.id, newestRevision: 2 },
      reason: "revision",
      startedAt: now,
      scope: "all",
      onZoneFailure: "queue",
    });
    const stable = await view(`/i/${image.id}/thumb`, { Accept: WEBP });
    expect(await bytesOf(stable)).toEqual(fresh);
    expect(bytes["thumb.webp"]).not.toEqual(fresh);
    expect((await view(`/i/${image.id}/1/thumb`, { Accept: WEBP })).status).toBe(404);
    const pinned = await view(`/i/${image.id}/2/thumb`, { Accept: WEBP });
    expect(await bytesOf(pinned)).toEqual(fresh);
  });

  it("retries a failing purge API and never blocks the delete", async () => {
    const { image } = await cachedPublic();
    await failPurges(503, 2);
    const started = Date.now();
    const deleted = await call(`/v1/images/${image.id}`, {
      method: "DELETE",
      headers: { Authorization: `Bearer ${await token("purge-owner")}` },
    });
    expect(deleted.status).toBe(204);
    expect((await view(`/i/${image.id}/thumb`, { Accept: WEBP })).status).toBe(404);
    await vi.waitFor(
      async () => {
        const state = await standIn();
        expect(state.attempts).toBe(3);
        expect(state.purges.map((p) => p.tags)).toEqual([[`img-${image.id}`]]);
      },
      { timeout: 5000 },
    );
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe("hotlink rules", () => {
  const path = (id: string) => `/i/${id}/thumb`;

  it("refuses look-alike and non-URL Referers and serves listed sites", async () => {
    const owner = "hotlink-a";
    expect(
      (await setRules(owner, { allowedReferers: ["example.com", "*.example.org"] })).status,
    ).toBe(200);
    const { image } = await seedReadyImage(owner, "public");
    const cases: [string | null, number][] = [
      ["https://example.com/post", 200],
      ["https://blog.example.org/", 200],
      ["https://images.test/gallery", 200],
      [null, 200],
      ["https://example.com.evil.net/", 403],
      ["https://evil-example.com/", 403],
      ["https://example.org/", 403],
      ["not a url", 403],
      ["https://evil.net/?u=https://example.com/", 403],
    ];
    for (const round of ["miss", "hit"]) {
      for (const [referer, status] of cases) {
        const res = await view(path(image.id), {
          Accept: WEBP,
          ...(referer === null ? {} : { Referer: referer }),
        });
        expect(res.status, `${round} ${referer}`).toBe(status);
        if (status === 403) expect(await problemCode(res)).toBe("hotlink_blocked");
        else await res.arrayBuffer();
      }
    }
  });

  it("applies a rule change at once, cached responses included", async () => {
    const owner = "hotlink-b";
    const { image } = await seedReadyImage(owner, "public");
    const from = { Accept: WEBP, Referer: "https://other.net/page" };
    for (const _ of [1, 2]) {
      const res = await view(path(image.id), from);
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
    expect(
      (
        await setRules(owner, {
          allowedReferers: ["example.com"],
          allowEmptyReferer: false,
          blockedResponse: "placeholder",
        })
      ).status,
    ).toBe(200);
    const blocked = await view(path(image.id), from);
    expect(blocked.status).toBe(403);
    expect(blocked.headers.get("Content-Type")).toBe("image/png");
    expect(blocked.headers.get("Cache-Control")).toBe("no-store");
    expect((await bytesOf(blocked)).slice(1, 4)).toEqual(new TextEncoder().encode("PNG"));
    expect((await view(path(image.id), { Accept: WEBP })).status).toBe(403);
    // Revisioned URLs follow the same rules; signed URLs carry their own authority.
    expect((await view(`/i/${image.id}/1/thumb`, from)).status).toBe(403);
    await vi.waitFor(async () => {
      const { purges } = await standIn();
      expect(purges.some((p) => p.tags.some((t) => t.startsWith("hl-")))).toBe(true);
    });
    expect((await setRules(owner, { allowedReferers: [] })).status).toBe(200);
    const open = await view(path(image.id), from);
    expect(open.status).toBe(200);
    await open.arrayBuffer();
  });

  it("validates the settings and keeps them per owner", async () => {
    const owner = "hotlink-c";
    const auth = { Authorization: `Bearer ${await token(owner)}` };
    const initial = await callApp("/v1/settings/hotlink", { headers: auth });
    expect(await initial.json()).toEqual({
      allowedReferers: [],
      allowEmptyReferer: true,
      blockedResponse: "403",
    });
    const saved = await setRules(owner, {
      allowedReferers: ["Example.COM", "example.com", "*.Foo.org"],
    });
    expect(await saved.json()).toEqual({
      allowedReferers: ["example.com", "*.foo.org"],
      allowEmptyReferer: true,
      blockedResponse: "403",
    });
    const read = await callApp("/v1/settings/hotlink", { headers: auth });
    expect(((await read.json()) as { allowedReferers: string[] }).allowedReferers).toEqual([
      "example.com",
      "*.foo.org",
    ]);
    for (const bad of [
      { allowedReferers: ["https://example.com"] },
      { allowedReferers: ["*.com"] },
      { allowedReferers: "example.com" },
      { allowedReferers: [], blockedResponse: "404" },
      { allowedReferers: [], extra: true },
      { allowedReferers: Array.from({ length: 101 }, (_, i) => `s${i}.example.com`) },
    ]) {
      const res = await setRules(owner, bad);
      expect(res.status, JSON.stringify(bad).slice(0, 80)).toBe(400);
      expect(await problemCode(res)).toBe("validation_failed");
    }
    expect((await call("/v1/settings/hotlink")).status).toBe(401);
    const other = await callApp("/v1/settings/hotlink", {
      headers: { Authorization: `Bearer ${await token("hotlink-d")}` },
    });
    expect(((await other.json()) as { allowedReferers: string[] }).allowedReferers).toEqual([]);
  });
});
