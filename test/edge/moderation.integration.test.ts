import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ModerationRepository } from "../../src/storage/moderation-repository";
import { ObjectStore } from "../../src/storage/object-store";
import { callApp, catchUpIndex, problemCode, seedReadyImage, token } from "../helpers/edge";

const JSON_TYPE = { "Content-Type": "application/json" };
const WEBP = "image/webp,*/*";

async function as(user: string, path: string, init: RequestInit = {}, bindings: Env = env) {
  const headers = new Headers(init.headers);
  headers.set("Authorization", `Bearer ${await token(user, { admin: user.startsWith("admin") })}`);
  return callApp(path, { ...init, headers }, bindings);
}

const post = (body: unknown): RequestInit => ({
  method: "POST",
  headers: JSON_TYPE,
  body: JSON.stringify(body),
});

function report(user: string, imageId: string, reason = "sexual", note?: string) {
  return as(user, `/v1/images/${imageId}/reports`, post({ reason, ...(note ? { note } : {}) }));
}

function decide(imageId: string, decision: "allow" | "block", reason = "reviewed") {
  return as("admin-1", `/v1/admin/images/${imageId}:decide`, post({ decision, reason }));
}

async function status(path: string, init: RequestInit = {}, bindings: Env = env) {
  const res = await callApp(
    path,
    { ...init, headers: { Accept: WEBP, ...init.headers } },
    bindings,
  );
  await res.arrayBuffer();
  return res.status;
}

/** Every URL of a public image that has a share link and a signed view URL. */
async function urlsOf(imageId: string, owner: string) {
  const view = await as(owner, `/v1/images/${imageId}:view?variant=thumb&redirect=false`);
  const signed = new URL(((await view.json()) as { url: string }).url);
  const share = await as(owner, `/v1/images/${imageId}/shares`, post({}));
  const { token: shareToken } = (await share.json()) as { token: string };
  return {
    stable: `/i/${imageId}/thumb`,
    revisioned: `/i/${imageId}/1/thumb`,
    signed: `${signed.pathname}${signed.search}`,
    sharePage: `/s/${shareToken}`,
    shareVariant: `/s/${shareToken}/thumb`,
  };
}

async function statuses(urls: Record<string, string>, bindings: Env = env) {
  const out: Record<string, number> = {};
  for (const [name, path] of Object.entries(urls)) out[name] = await status(path, {}, bindings);
  return out;
}

describe("reports", () => {
  it("holds an image for review once distinct users reach the threshold; one user counts once", async () => {
    const { image } = await seedReadyImage("rep-owner", "public");
    const first = await report("rep-a", image.id, "sexual", "not ok");
    expect(first.status).toBe(201);
    expect(await first.json()).toEqual({ accepted: true, duplicate: false, state: "allowed" });
    const again = await report("rep-a", image.id, "spam");
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ accepted: true, duplicate: true, state: "allowed" });
    expect((await report("rep-b", image.id)).status).toBe(201);
    expect(await status(`/i/${image.id}/thumb`)).toBe(200);
    const third = await report("rep-c", image.id, "violence");
    expect(await third.json()).toMatchObject({ state: "pending_review" });
    // Owner only (the default): unsigned URLs and other users see nothing; the owner sees why.
    expect(await status(`/i/${image.id}/thumb`)).toBe(404);
    expect((await as("rep-a", `/v1/images/${image.id}`)).status).toBe(404);
    const own = await as("rep-owner", `/v1/images/${image.id}`);
    expect(await own.json()).toMatchObject({
      moderation: "pending_review",
      moderationDetail: { reason: "3 users reported it", canAppeal: true },
    });
  });

  it("counts a reporter again after an admin's decision closed their report", async () => {
    const { image } = await seedReadyImage("rep-owner3", "public");
    for (const user of ["rr-a", "rr-b"]) await report(user, image.id);
    await decide(image.id, "allow", "fine");
    const again = await report("rr-a", image.id);
    expect(await again.json()).toMatchObject({ duplicate: false, state: "allowed" });
    await report("rr-b", image.id);
    expect(await (await report("rr-c", image.id)).json()).toMatchObject({
      state: "pending_review",
    });
  });

  it("needs a signed-in user, a known reason and an image the reporter can see", async () => {
    const { image } = await seedReadyImage("rep-owner2", "public");
    const priv = (await seedReadyImage("rep-owner2", "private")).image;
    const anon = await callApp(`/v1/images/${image.id}/reports`, post({ reason: "spam" }));
    expect(anon.status).toBe(401);
    const bad = await report("rep-x", image.id, "boring");
    expect(bad.status).toBe(400);
    expect(await problemCode(bad)).toBe("validation_failed");
    const extra = await as(
      "rep-x",
      `/v1/images/${image.id}/reports`,
      post({ reason: "spam", x: 1 }),
    );
    expect(extra.status).toBe(400);
    expect((await report("rep-x", priv.id)).status).toBe(404);
    expect((await report("rep-x", "AAAAAAAAAAAAAAAAAAAAAA")).status).toBe(404);
    expect((await report("rep-x", "nope")).status).toBe(404);
  });
});

describe("reports from a share page", () => {
  async function shareOf(owner: string, body: unknown = {}) {
    const { image } = await seedReadyImage(owner, "private");
    const res = await as(owner, `/v1/images/${image.id}/shares`, post(body));
    return { image, token: ((await res.json()) as { token: string }).token };
  }

  const form = (ip: string, fields: string) => ({
    method: "POST",
    headers: {
      "Content-Type": "application/x-www-form-urlencoded",
      Accept: "text/html",
      "CF-Connecting-IP": ip,
    },
    body: fields,
  });

  it("offers a report form; each client address of the share counts once toward the threshold", async () => {
    const { image, token: shareToken } = await shareOf("sr-owner");
    const pageRes = await callApp(`/s/${shareToken}`, { headers: { Accept: "text/html" } });
    const html = await pageRes.text();
    expect(html).toContain(`action="/s/${shareToken}/report"`);
    expect(html).toContain('<option value="sexual">');

    const thanks = await callApp(
      `/s/${shareToken}/report`,
      form("198.51.100.1", "reason=sexual&note=no"),
    );
    expect(thanks.status).toBe(200);
    expect(await thanks.text()).toContain("Thank you");
    const again = await callApp(`/s/${shareToken}/report`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "CF-Connecting-IP": "198.51.100.1" },
      body: JSON.stringify({ reason: "spam" }),
    });
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ duplicate: true, state: "allowed" });
    await (await callApp(`/s/${shareToken}/report`, form("198.51.100.2", "reason=sexual"))).text();
    await (
      await callApp(`/s/${shareToken}/report`, form("198.51.100.3", "reason=violence"))
    ).text();
    const own = await as("sr-owner", `/v1/images/${image.id}`);
    expect(await own.json()).toMatchObject({ moderation: "pending_review" });
  });

  it("refuses reports posted from another site", async () => {
    const { token: shareToken } = await shareOf("sr-owner3");
    const crossSite: Record<string, string>[] = [
      { Origin: "https://evil.example" },
      { "Sec-Fetch-Site": "cross-site" },
    ];
    for (const headers of crossSite) {
      const res = await callApp(`/s/${shareToken}/report`, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded", ...headers },
        body: "reason=spam",
      });
      expect(res.status).toBe(403);
      expect(await problemCode(res)).toBe("cross_site_request");
    }
    const same = await callApp(`/s/${shareToken}/report`, {
      method: "POST",
      headers: {
        "Content-Type": "application/x-www-form-urlencoded",
        Origin: "https://images.test",
        "Sec-Fetch-Site": "same-origin",
        Accept: "application/json",
      },
      body: "reason=spam",
    });
    expect(same.status).toBe(201);
  });

  it("refuses bad fields, locked shares and unknown tokens", async () => {
    const { token: shareToken } = await shareOf("sr-owner2");
    const json = (body: string, type = "application/json") =>
      callApp(`/s/${shareToken}/report`, {
        method: "POST",
        headers: { "Content-Type": type },
        body,
      });
    expect(await problemCode(await json('{"reason":"boring"}'))).toBe("validation_failed");
    expect(await problemCode(await json("{"))).toBe("invalid_json");
    expect(await problemCode(await json("reason=spam", "text/plain"))).toBe(
      "unsupported_media_type",
    );
    expect((await json(JSON.stringify({ reason: "spam", note: "x".repeat(5000) }))).status).toBe(
      413,
    );
    const locked = await shareOf("sr-owner2", { password: "open sesame" });
    const res = await callApp(`/s/${locked.token}/report`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: '{"reason":"spam"}',
    });
    expect(res.status).toBe(401);
    expect(await problemCode(res)).toBe("share_locked");
    const unknown = await callApp("/s/nope/report", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: '{"reason":"spam"}',
    });
    expect(unknown.status).toBe(404);
  });
});

describe("takedown", () => {
  it("answers 451 at once on every URL, cached copies included, and allow brings them back", async () => {
    const { image } = await seedReadyImage("td-owner", "public");
    const urls = await urlsOf(image.id, "td-owner");
    // Warm the edge cache first.
    const warm = await callApp(urls.stable, { headers: { Accept: WEBP } });
    await warm.arrayBuffer();
    const hit = await callApp(urls.stable, { headers: { Accept: WEBP } });
    await hit.arrayBuffer();
    expect(hit.headers.get("X-Cache")).toBe("HIT");
    await report("td-a", image.id);

    const res = await decide(image.id, "block", "explicit");
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      id: image.id,
      moderation: "blocked",
      reason: "explicit",
    });
    expect(await statuses(urls)).toEqual({
      stable: 451,
      revisioned: 451,
      signed: 451,
      sharePage: 451,
      shareVariant: 451,
    });
    const problem = await callApp(urls.stable, { headers: { Accept: WEBP } });
    expect(problem.headers.get("Content-Type")).toBe("application/problem+json");
    expect(await problemCode(problem)).toBe("content_blocked");
    expect((await as("td-viewer", `/v1/images/${image.id}`)).status).toBe(451);
    expect((await as("td-owner", `/v1/images/${image.id}:view?redirect=false`)).status).toBe(451);
    expect((await as("td-owner", `/v1/images/${image.id}/original`)).status).toBe(451);
    const upload = new FixedLengthStream(4);
    void new Blob([new Uint8Array([1, 2, 3, 4])]).stream().pipeTo(upload.writable);
    await new ObjectStore(env.BUCKET).putUpload(image.id, upload.readable, "image/jpeg");
    // Admins can still read what they review.
    const forAdmin = await as("admin-1", `/v1/images/${image.id}/original`);
    expect(forAdmin.status).toBe(200);
    await forAdmin.arrayBuffer();
    // The owner still sees the image's JSON and why.
    const own = await as("td-owner", `/v1/images/${image.id}`);
    expect(await own.json()).toMatchObject({
      moderation: "blocked",
      moderationDetail: { reason: "explicit", canAppeal: true },
    });
    await catchUpIndex();
    const search = await callApp(`/v1/search?scope=public&owner=td-owner`);
    expect(((await search.json()) as { items: unknown[] }).items).toEqual([]);

    expect((await decide(image.id, "allow", "fine after all")).status).toBe(200);
    expect(await statuses(urls)).toEqual({
      stable: 200,
      revisioned: 200,
      signed: 200,
      sharePage: 200,
      shareVariant: 200,
    });
  });

  it("is admin-only, validated, and 404s an unknown image", async () => {
    const { image } = await seedReadyImage("td-owner2", "public");
    const byUser = await as(
      "td-owner2",
      `/v1/admin/images/${image.id}:decide`,
      post({ decision: "block", reason: "x" }),
    );
    expect(byUser.status).toBe(403);
    expect(await problemCode(byUser)).toBe("forbidden");
    expect(
      (
        await as(
          "admin-1",
          `/v1/admin/images/${image.id}:decide`,
          post({ decision: "nuke", reason: "x" }),
        )
      ).status,
    ).toBe(400);
    expect(
      (await as("admin-1", `/v1/admin/images/${image.id}:decide`, post({ decision: "block" })))
        .status,
    ).toBe(400);
    expect((await decide("AAAAAAAAAAAAAAAAAAAAAA", "block")).status).toBe(404);
  });
});

describe("pending_review delivery modes", () => {
  it("451 mode answers 451 to everyone on delivery URLs; blurred mode serves the processor's placeholder", async () => {
    const { image } = await seedReadyImage("pm-owner", "public");
    const urls = await urlsOf(image.id, "pm-owner");
    for (const user of ["pm-a", "pm-b", "pm-c"]) await report(user, image.id);
    const in451 = { ...env, MODERATION_PENDING_DELIVERY: "451" } as Env;
    expect(await statuses(urls, in451)).toEqual({
      stable: 451,
      revisioned: 451,
      signed: 451,
      sharePage: 451,
      shareVariant: 451,
    });
    const blurredEnv = { ...env, MODERATION_PENDING_DELIVERY: "blurred" } as Env;
    // No placeholder made yet: 451 rather than the real bytes.
    expect(await status(urls.stable, {}, blurredEnv)).toBe(451);
    const placeholder = new Uint8Array([82, 73, 70, 70, 1, 2, 3, 4]);
    await new ObjectStore(env.BUCKET).putVariant(
      image.id,
      1,
      "blurred",
      "webp",
      placeholder,
      "image/webp",
    );
    for (const path of [urls.stable, urls.signed, urls.shareVariant]) {
      const res = await callApp(path, { headers: { Accept: WEBP } }, blurredEnv);
      expect(res.status, path).toBe(200);
      expect(res.headers.get("Content-Type")).toBe("image/webp");
      expect(res.headers.get("Cache-Control")).toBe("private, no-store");
      expect(new Uint8Array(await res.arrayBuffer())).toEqual(placeholder);
    }
    // Owner only: every delivery URL acts as if the image did not exist, the signed one
    // (minted while it was allowed) included; :view mints no new one.
    expect(await statuses(urls)).toEqual({
      stable: 404,
      revisioned: 404,
      signed: 404,
      sharePage: 404,
      shareVariant: 404,
    });
    const view = await as("pm-owner", `/v1/images/${image.id}:view?redirect=false`);
    expect(view.status).toBe(451);
    expect(await problemCode(view)).toBe("content_under_review");
    // A suspended owner's images are not found, blurred or not.
    await as("admin-1", "/v1/admin/users/pm-owner:suspend", { method: "POST" });
    expect(await status(urls.stable, {}, blurredEnv)).toBe(404);
    await as("admin-1", "/v1/admin/users/pm-owner:unsuspend", { method: "POST" });
  });
});

describe("appeal", () => {
  it("lets the owner appeal once; the queue shows it; an admin's allow ends it", async () => {
    const { image } = await seedReadyImage("ap-owner", "public");
    expect((await as("ap-owner", `/v1/images/${image.id}:appeal`, post({}))).status).toBe(409);
    await decide(image.id, "block", "looks explicit");
    // Not theirs to appeal.
    expect((await as("ap-other", `/v1/images/${image.id}:appeal`, post({}))).status).toBe(404);
    const appealed = await as(
      "ap-owner",
      `/v1/images/${image.id}:appeal`,
      post({ note: "it is a statue" }),
    );
    expect(appealed.status).toBe(200);
    const appealedJson = (await appealed.json()) as { variants: unknown[] };
    expect(appealedJson).toMatchObject({
      moderation: "blocked",
      moderationDetail: { canAppeal: false },
    });
    expect(appealedJson.variants.length).toBeGreaterThan(0);
    const twice = await as("ap-owner", `/v1/images/${image.id}:appeal`, post({}));
    expect(twice.status).toBe(409);
    expect(await problemCode(twice)).toBe("appeal_not_allowed");

    const queue = await as("admin-1", "/v1/admin/moderation/queue?limit=100");
    const items = ((await queue.json()) as { items: { id: string; appeal: unknown }[] }).items;
    expect(items.find((i) => i.id === image.id)).toMatchObject({
      appeal: { note: "it is a statue" },
    });

    await decide(image.id, "allow", "statue");
    expect(await status(`/i/${image.id}/thumb`)).toBe(200);
    const history = await as("admin-1", `/v1/admin/images/${image.id}/moderation`);
    expect(((await history.json()) as { history: unknown[] }).history).toMatchObject([
      { source: "admin", from: "allowed", to: "blocked", reason: "looks explicit" },
      { source: "appeal", actor: "ap-owner", reason: "it is a statue" },
      { source: "admin", from: "blocked", to: "allowed", reason: "statue" },
    ]);
    const after = await as("admin-1", "/v1/admin/moderation/queue?limit=100");
    const ids = ((await after.json()) as { items: { id: string }[] }).items.map((i) => i.id);
    expect(ids).not.toContain(image.id);
  });
});

describe("review queue", () => {
  it("lists waiting images oldest first with their reports and scores, in pages; admins only", async () => {
    const a = (await seedReadyImage("q-owner", "public")).image;
    const b = (await seedReadyImage("q-owner", "public")).image;
    await new ModerationRepository(env.DB).saveScores(
      b.id,
      JSON.stringify({ classifier: "x", scores: { porn: 0.8 } }),
    );
    for (const user of ["q-1", "q-2", "q-3"]) await report(user, a.id, "spam");
    for (const user of ["q-1", "q-2", "q-3"]) await report(user, b.id, "hate");
    const pages: { id: string; reports: { reason: string }[]; scores: unknown }[] = [];
    let cursor: string | null = null;
    do {
      const res = await as(
        "admin-1",
        `/v1/admin/moderation/queue?limit=1${cursor ? `&cursor=${cursor}` : ""}`,
      );
      expect(res.status).toBe(200);
      const page = (await res.json()) as { items: typeof pages; nextCursor: string | null };
      pages.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    const mine = pages.filter((p) => p.id === a.id || p.id === b.id);
    expect(mine.map((p) => p.id)).toEqual([a.id, b.id]);
    expect(mine[0]?.reports).toHaveLength(3);
    expect(mine[1]?.scores).toEqual({ classifier: "x", scores: { porn: 0.8 } });
    expect((await as("q-owner", "/v1/admin/moderation/queue")).status).toBe(403);
    expect((await callApp("/v1/admin/moderation/queue")).status).toBe(401);
    expect((await as("admin-1", "/v1/admin/moderation/queue?cursor=nope")).status).toBe(400);
    // A number JSON turns into Infinity is no cursor either.
    const infinite = btoa('[1e999,"x"]').replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    expect((await as("admin-1", `/v1/admin/moderation/queue?cursor=${infinite}`)).status).toBe(400);
  });
});

describe("figures", () => {
  it("records the takedown SLA and the classifier's overturned blocks", async () => {
    const before = (await (await as("admin-1", "/v1/admin/moderation/figures")).json()) as {
      takedownSla: { count: number };
      automatic: { takedowns: number; overturned: number };
    };
    const { image } = await seedReadyImage("fig-owner", "public");
    await report("fig-a", image.id);
    await decide(image.id, "block", "reported and confirmed");
    // Reports that held the image (report -> hold -> block) count toward the SLA too.
    const held = (await seedReadyImage("fig-owner", "public")).image;
    for (const user of ["fig-b", "fig-c", "fig-d"]) await report(user, held.id);
    await decide(held.id, "block", "confirmed after the hold");

    // An automatic block, then a person's allow: a false positive.
    const auto = (await seedReadyImage("fig-owner", "public")).image;
    const at = Date.now();
    await new ModerationRepository(env.DB).transition({
      imageId: auto.id,
      from: "allowed",
      to: "blocked",
      source: "classifier",
      actor: "builtin:nsfwjs-mobilenet_v2",
      reason: "classifier: porn 0.990 >= 0.97",
      at,
    });
    await env.DB.prepare(
      "insert into metrics (at, worker, name, outcome) values (?, 'processor', 'moderation.decision', 'classifier:blocked')",
    )
      .bind(at)
      .run();
    await decide(auto.id, "allow", "a painting");

    const res = await as("admin-1", "/v1/admin/moderation/figures?days=7");
    expect(res.status).toBe(200);
    const figures = (await res.json()) as {
      takedownSla: { count: number; p50Ms: number | null };
      automatic: { takedowns: number; overturned: number; falsePositiveRate: number | null };
    };
    expect(figures.takedownSla.count).toBe(before.takedownSla.count + 2);
    expect(figures.takedownSla.p50Ms).toBeGreaterThanOrEqual(0);
    expect(figures.automatic.takedowns).toBe(before.automatic.takedowns + 1);
    expect(figures.automatic.overturned).toBe(before.automatic.overturned + 1);
    expect(figures.automatic.falsePositiveRate).toBeGreaterThan(0);
    expect((await as("fig-owner", "/v1/admin/moderation/figures")).status).toBe(403);
    expect((await as("admin-1", "/v1/admin/moderation/figures?days=0")).status).toBe(400);
  });
});
