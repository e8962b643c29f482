import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { callApp, callAs, problemCode, seedReadyImage, token } from "../helpers/edge";

const WEBP = "image/webp,*/*";
const HTML = "text/html,application/xhtml+xml";

interface ShareJson {
  id: string;
  imageId: string;
  token: string;
  url: string;
  status: string;
  expiresAt: string | null;
  hasPassword: boolean;
  allowDownload: boolean;
  maxViews: number | null;
  views: number;
  allowedReferers: string[];
}

async function share(
  owner: string,
  imageId: string,
  body: Record<string, unknown> = {},
): Promise<ShareJson> {
  const res = await callAs(owner, `/v1/images/${imageId}/shares`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  if (res.status !== 201) throw new Error(`share failed: ${res.status} ${await res.text()}`);
  return res.json();
}

async function sharedImage(owner: string, body: Record<string, unknown> = {}) {
  const seeded = await seedReadyImage(owner, "private");
  return { ...seeded, share: await share(owner, seeded.image.id, body) };
}

/** The `name=value` of a response's Set-Cookie, to send back as a browser would. */
function cookieOf(res: Response): string {
  const header = res.headers.get("Set-Cookie") ?? "";
  const pair = header.split(";")[0] ?? "";
  if (!pair.includes("=")) throw new Error(`no cookie in ${header}`);
  return pair;
}

function get(path: string, headers: Record<string, string> = {}) {
  return callApp(path, { headers });
}

function postPassword(tok: string, password: string, headers: Record<string, string> = {}) {
  return callApp(`/s/${tok}`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: HTML, ...headers },
    body: new URLSearchParams({ password }).toString(),
  });
}

async function bytesOf(res: Response): Promise<Uint8Array> {
  return new Uint8Array(await res.arrayBuffer());
}

async function expire(shareId: string): Promise<void> {
  await env.DB.prepare("update shares set expires_at = ? where id = ?")
    .bind(Date.now() - 1, shareId)
    .run();
}

describe("creating share links", () => {
  it("expires in 7 days by default and stores only a digest of the token", async () => {
    const before = Date.now();
    const { share: s } = await sharedImage("share-a");
    expect(s.token).toMatch(/^[A-Za-z0-9_-]{38}$/);
    expect(s.url).toBe(`https://images.test/s/${s.token}`);
    expect(s.status).toBe("active");
    const expires = Date.parse(s.expiresAt ?? "");
    expect(expires - before).toBeGreaterThanOrEqual(7 * 86400_000 - 1000);
    expect(expires - before).toBeLessThanOrEqual(7 * 86400_000 + 5000);
    const row = await env.DB.prepare("select * from shares where id = ?").bind(s.id).first();
    expect(JSON.stringify(row)).not.toContain(s.token.slice(16));
    expect(row?.secret_digest).toMatch(/^[0-9a-f]{64}$/);
  });

  it("refuses lifetimes past the cap, never-expiring links and bad options", async () => {
    const { image } = await seedReadyImage("share-b", "private");
    for (const body of [
      { expiresIn: 31 * 86400 },
      { expiresIn: "never" },
      { expiresIn: 10 },
      { expiresIn: -1 },
      { password: "abc" },
      { maxViews: 0 },
      { allowedReferers: ["https://example.com/"] },
      { allowDownload: "yes" },
      { extra: 1 },
    ]) {
      const res = await callAs("share-b", `/v1/images/${image.id}/shares`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(await problemCode(res)).toBe("validation_failed");
    }
    const hashed = await share("share-b", image.id, { password: "correct horse" });
    const row = await env.DB.prepare("select password_hash from shares where id = ?")
      .bind(hashed.id)
      .first<{ password_hash: string }>();
    expect(row?.password_hash).toMatch(/^pbkdf2-sha256\$100000\$/);
    expect(row?.password_hash).not.toContain("correct horse");
  });

  it("is for the owner (or an admin) only, and for API keys with the share scopes", async () => {
    const { image } = await seedReadyImage("share-c", "private");
    const path = `/v1/images/${image.id}/shares`;
    const post = { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" };
    expect((await callAs("share-mallory", path, post)).status).toBe(404);
    expect((await callAs("share-mallory", path)).status).toBe(404);
    expect((await callApp(path, post)).status).toBe(401);
    const admin = await callApp(path, {
      ...post,
      headers: { ...post.headers, Authorization: `Bearer ${await token("root", { admin: true })}` },
    });
    expect(admin.status).toBe(201);
    await admin.arrayBuffer();
    const minted = await callAs("share-c", "/v1/api-keys", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ name: "reader", scopes: ["shares:read"] }),
    });
    const { key } = (await minted.json()) as { key: string };
    const listed = await callApp(path, { headers: { Authorization: `Bearer ${key}` } });
    expect(listed.status).toBe(200);
    expect(((await listed.json()) as { items: unknown[] }).items).toHaveLength(1);
    const refused = await callApp(path, {
      ...post,
      headers: { ...post.headers, Authorization: `Bearer ${key}` },
    });
    expect(refused.status).toBe(403);
    expect(await problemCode(refused)).toBe("insufficient_scope");
  });
});

describe("the share page and its variants", () => {
  it("shows a strict, unindexed page whose picture serves the private image", async () => {
    const { share: s, bytes } = await sharedImage("share-d");
    const res = await get(`/s/${s.token}`, { Accept: HTML });
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("text/html; charset=utf-8");
    const csp = res.headers.get("Content-Security-Policy") ?? "";
    expect(csp).toMatch(/^default-src 'none'; img-src 'self'; style-src 'nonce-[\w-]+';/);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(res.headers.get("X-Robots-Tag")).toBe("noindex, nofollow");
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    expect(res.headers.get("Set-Cookie")).toMatch(
      new RegExp(
        `^ih_share_${s.id}=.+; Max-Age=1800; Path=/s/${s.token}; HttpOnly; Secure; SameSite=Lax`,
      ),
    );
    const html = await res.text();
    expect(html).toContain('<meta name="robots" content="noindex, nofollow">');
    expect(html).toContain(
      `<source type="image/avif" srcset="/s/${s.token}/thumb?format=avif 256w`,
    );
    expect(html).toContain(`/s/${s.token}/large?format=webp 2048w`);
    expect(html).toContain(`<img src="/s/${s.token}/medium?format=jpeg"`);
    expect(html).not.toMatch(/<script|https?:\/\//i);
    expect(html).not.toContain("Download original");

    const cookie = cookieOf(res);
    const variant = await get(`/s/${s.token}/medium`, { Accept: WEBP, Cookie: cookie });
    expect(variant.status).toBe(200);
    expect(variant.headers.get("Cache-Control")).toBe("private, no-cache");
    expect(variant.headers.get("Content-Type")).toBe("image/webp");
    expect(await bytesOf(variant)).toEqual(bytes["medium.webp"]);
    const forced = await get(`/s/${s.token}/thumb?format=jpeg`, { Cookie: cookie });
    expect(await bytesOf(forced)).toEqual(bytes["thumb.jpeg"]);
    const etag = forced.headers.get("ETag") ?? "";
    const again = await get(`/s/${s.token}/thumb?format=jpeg`, {
      Cookie: cookie,
      "If-None-Match": etag,
    });
    expect(again.status).toBe(304);
    const range = await get(`/s/${s.token}/thumb?format=jpeg`, {
      Cookie: cookie,
      Range: "bytes=0-9",
    });
    expect(range.status).toBe(206);
    expect(await bytesOf(range)).toEqual(bytes["thumb.jpeg"]?.slice(0, 10));
    // The page's own requests did not count as views.
    const list = await callAs("share-d", `/v1/images/${s.imageId}/shares`);
    expect(((await list.json()) as { items: ShareJson[] }).items[0]?.views).toBe(1);
  });

  it("offers the original only when downloads are allowed", async () => {
    const { share: closed } = await sharedImage("share-e");
    for (const path of ["original", "medium?download=1"]) {
      const res = await get(`/s/${closed.token}/${path}`);
      expect(res.status, path).toBe(403);
      expect(await problemCode(res)).toBe("download_not_allowed");
    }
    const { share: open, bytes } = await sharedImage("share-e", { allowDownload: true });
    const html = await (await get(`/s/${open.token}`, { Accept: HTML })).text();
    expect(html).toContain(`href="/s/${open.token}/original?download=1"`);
    const original = await get(`/s/${open.token}/original?download=1`);
    expect(original.status).toBe(200);
    expect(original.headers.get("Content-Disposition")).toMatch(/^attachment; filename="/);
    expect(await bytesOf(original)).toEqual(bytes["original.jpeg"]);
  });

  it("keeps the share's variants to the sites it lists", async () => {
    const { share: s } = await sharedImage("share-f", { allowedReferers: ["blog.example.com"] });
    const cases: [string | null, number][] = [
      ["https://blog.example.com/post", 200],
      [`https://images.test/s/${s.token}`, 200],
      [null, 200],
      ["https://example.com/", 403],
      ["https://blog.example.com.evil.net/", 403],
      ["garbage", 403],
    ];
    for (const [referer, status] of cases) {
      const res = await get(`/s/${s.token}/thumb`, referer ? { Referer: referer } : {});
      expect(res.status, String(referer)).toBe(status);
      if (status === 403) expect(await problemCode(res)).toBe("hotlink_blocked");
      else await res.arrayBuffer();
    }
  });
});

describe("expiry, revocation and deletion", () => {
  it("enforces expiry on the page and on variants, cached ones included", async () => {
    const { share: s } = await sharedImage("share-g");
    const warm = await get(`/s/${s.token}/thumb`, { Accept: WEBP });
    expect(warm.status).toBe(200);
    await warm.arrayBuffer();
    const hit = await get(`/s/${s.token}/thumb`, { Accept: WEBP });
    expect(hit.headers.get("X-Cache")).toBe("HIT");
    await hit.arrayBuffer();
    await expire(s.id);
    const variant = await get(`/s/${s.token}/thumb`, { Accept: WEBP });
    expect(variant.status).toBe(404);
    expect(await problemCode(variant)).toBe("share_not_found");
    const html = await get(`/s/${s.token}`, { Accept: HTML });
    expect(html.status).toBe(404);
    expect(html.headers.get("Content-Type")).toBe("text/html; charset=utf-8");
    expect(await html.text()).toContain("This link is not available");
    const api = await get(`/s/${s.token}`);
    expect(await problemCode(api)).toBe("share_not_found");
    const list = await callAs("share-g", `/v1/images/${s.imageId}/shares`);
    expect(((await list.json()) as { items: ShareJson[] }).items[0]?.status).toBe("expired");
  });

  it("stops a revoked share at once, while its variant is cached", async () => {
    const { image, share: one } = await sharedImage("share-h");
    const two = await share("share-h", image.id);
    for (const s of [one, two]) {
      const res = await get(`/s/${s.token}/thumb`, { Accept: WEBP });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
    const revoked = await callAs("share-h", `/v1/shares/${one.id}`, { method: "DELETE" });
    expect(revoked.status).toBe(204);
    expect((await get(`/s/${one.token}/thumb`, { Accept: WEBP })).status).toBe(404);
    expect((await get(`/s/${one.token}`)).status).toBe(404);
    const still = await get(`/s/${two.token}/thumb`, { Accept: WEBP });
    expect(still.status).toBe(200);
    await still.arrayBuffer();
    // Revoke all: the image's share version moves on.
    const all = await callAs("share-h", `/v1/images/${image.id}/shares`, { method: "DELETE" });
    expect(all.status).toBe(204);
    expect((await get(`/s/${two.token}/thumb`, { Accept: WEBP })).status).toBe(404);
    const list = await callAs("share-h", `/v1/images/${image.id}/shares`);
    const statuses = ((await list.json()) as { items: ShareJson[] }).items.map((i) => i.status);
    expect(statuses).toEqual(["revoked", "revoked"]);
    // Another user cannot revoke it, and learns nothing.
    const third = await share("share-h", image.id);
    expect(
      (await callAs("share-mallory", `/v1/shares/${third.id}`, { method: "DELETE" })).status,
    ).toBe(404);
    expect((await get(`/s/${third.token}`)).status).toBe(200);
  });

  it("stops when the image is made private after sharing, or deleted", async () => {
    const seeded = await seedReadyImage("share-i", "unlisted");
    const s = await share("share-i", seeded.image.id);
    expect((await get(`/s/${s.token}`)).status).toBe(200);
    const patched = await callAs("share-i", `/v1/images/${seeded.image.id}`, {
      method: "PATCH",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ visibility: "private" }),
    });
    expect(patched.status).toBe(200);
    expect((await get(`/s/${s.token}`)).status).toBe(404);
    // A new share of the now private image works; deleting the image stops it.
    const fresh = await share("share-i", seeded.image.id);
    expect((await get(`/s/${fresh.token}`)).status).toBe(200);
    const deleted = await callAs("share-i", `/v1/images/${seeded.image.id}`, { method: "DELETE" });
    expect(deleted.status).toBe(204);
    expect((await get(`/s/${fresh.token}`)).status).toBe(404);
    expect((await get(`/s/${fresh.token}/thumb`)).status).toBe(404);
  });

  it("gives token guessing nothing but 404", async () => {
    const { share: s } = await sharedImage("share-j");
    const wrongSecret = s.token.slice(0, 16) + "A".repeat(22);
    for (const guess of [
      wrongSecret,
      "A".repeat(38),
      s.token.slice(0, 37),
      `${s.token}A`,
      s.id,
      "..%2F..%2Fetc",
      "x".repeat(5000),
    ]) {
      for (const path of [`/s/${guess}`, `/s/${guess}/thumb`]) {
        const res = await get(path);
        expect(res.status, path.slice(0, 60)).toBe(404);
        await res.arrayBuffer();
      }
      const post = await postPassword(guess, "whatever", { Accept: "application/json" });
      expect(post.status).toBe(404);
      await post.arrayBuffer();
    }
  });
});

describe("password-protected shares", () => {
  it("cannot be bypassed through the variant URL, the cache or another share's cookie", async () => {
    const { image, share: locked } = await sharedImage("share-k", { password: "open sesame" });
    const open = await share("share-k", image.id);
    // Fill the edge cache with the same rendition through the open share.
    const warm = await get(`/s/${open.token}/medium`, { Accept: WEBP });
    expect(warm.status).toBe(200);
    const openCookie = cookieOf(warm);
    await warm.arrayBuffer();

    const form = await get(`/s/${locked.token}`, { Accept: HTML });
    expect(form.status).toBe(200);
    const html = await form.text();
    expect(html).toContain('<form method="post"');
    expect(html).not.toContain(`/s/${locked.token}/`);
    for (const cookie of [
      undefined,
      openCookie,
      `ih_share_${locked.id}=1.k1.${"A".repeat(43)}.uc`,
    ]) {
      const res = await get(`/s/${locked.token}/medium`, {
        Accept: WEBP,
        ...(cookie ? { Cookie: cookie } : {}),
      });
      expect(res.status, String(cookie)).toBe(401);
      expect(await problemCode(res)).toBe("share_locked");
    }

    const wrong = await postPassword(locked.token, "open sesame?");
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).toContain("That password is not right.");
    const right = await postPassword(locked.token, "open sesame");
    expect(right.status).toBe(303);
    expect(right.headers.get("Location")).toBe(`/s/${locked.token}`);
    const unlocked = cookieOf(right);
    const page = await get(`/s/${locked.token}`, { Accept: HTML, Cookie: unlocked });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain(`/s/${locked.token}/medium`);
    const counted = cookieOf(page);
    const variant = await get(`/s/${locked.token}/medium`, { Accept: WEBP, Cookie: counted });
    expect(variant.status).toBe(200);
    await variant.arrayBuffer();
    // The unlock cookie belongs to that share only.
    const elsewhere = await sharedImage("share-k", { password: "open sesame" });
    const crossed = await get(`/s/${elsewhere.share.token}/medium`, {
      Cookie: counted.replace(locked.id, elsewhere.share.id),
    });
    expect(crossed.status).toBe(401);
  });

  it("answers 429 with Retry-After well before 30 wrong tries", async () => {
    const { share: s } = await sharedImage("share-l", { password: "the right one" });
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) {
      const res = await postPassword(s.token, `guess ${i}`, { "CF-Connecting-IP": "203.0.113.9" });
      statuses.push(res.status);
      if (res.status === 429) {
        expect(res.headers.get("Retry-After")).toBe("60");
        await res.arrayBuffer();
        break;
      }
      await res.arrayBuffer();
    }
    expect(statuses.at(-1)).toBe(429);
    expect(statuses.length).toBeLessThanOrEqual(10);
    // Rate-limited means no password is checked, not even the right one.
    const right = await postPassword(s.token, "the right one", {
      "CF-Connecting-IP": "203.0.113.9",
    });
    expect(right.status).toBe(429);
    const api = await postPassword(s.token, "x", {
      "CF-Connecting-IP": "203.0.113.9",
      Accept: "application/json",
    });
    expect(await problemCode(api)).toBe("rate_limited");
  });

  it("refuses a password form that is not a form", async () => {
    const { share: s } = await sharedImage("share-m", { password: "secret!" });
    const json = await callApp(`/s/${s.token}`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ password: "secret!" }),
    });
    expect(json.status).toBe(415);
    const huge = await callApp(`/s/${s.token}`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: `password=${"x".repeat(10_000)}`,
    });
    expect(huge.status).toBe(413);
  });
});

describe("maxViews", () => {
  it("is counted exactly under 20 concurrent viewers", async () => {
    const { share: s } = await sharedImage("share-n", { maxViews: 5 });
    const results = await Promise.all(
      Array.from({ length: 20 }, () => get(`/s/${s.token}`, { Accept: HTML })),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((x) => x === 200)).toHaveLength(5);
    expect(statuses.filter((x) => x === 404)).toHaveLength(15);
    const viewer = results.find((r) => r.status === 200);
    if (!viewer) throw new Error("no viewer");
    const cookie = cookieOf(viewer);
    await Promise.all(results.map((r) => r.arrayBuffer()));
    // A counted browser keeps its session; a new one gets nothing.
    const again = await get(`/s/${s.token}/thumb`, { Cookie: cookie });
    expect(again.status).toBe(200);
    await again.arrayBuffer();
    expect((await get(`/s/${s.token}/thumb`)).status).toBe(404);
    const list = await callAs("share-n", `/v1/images/${s.imageId}/shares`);
    const [item] = ((await list.json()) as { items: ShareJson[] }).items;
    expect(item).toMatchObject({ views: 5, maxViews: 5, status: "exhausted" });
  });
});
