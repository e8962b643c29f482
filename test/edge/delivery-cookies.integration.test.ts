import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { deliveryCookieValue } from "../../src/auth/signed-cookies";
import { parseKeyring } from "../../src/auth/url-signing";
import { createApp } from "../../src/http/app";
import { callApp, callAs, problemCode, seedReadyImage, token } from "../helpers/edge";

const WEBP = "image/webp,*/*";

interface CookieJson {
  expiresAt: string;
  images: { id: string; revision: number; urls: Record<string, string> }[];
}

function issue(user: string, body: Record<string, unknown>) {
  return callAs(user, "/v1/delivery-cookies", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
}

function cookiePair(res: Response): string {
  return (res.headers.get("Set-Cookie") ?? "").split(";")[0] ?? "";
}

function view(path: string, cookie?: string) {
  return callApp(path, { headers: { Accept: WEBP, ...(cookie ? { Cookie: cookie } : {}) } });
}

/** A cookie signed with a given key of the test key ring (vitest.config.ts). */
async function craft(kid: string, ids: string[], expires: number): Promise<string> {
  const ring = parseKeyring(env.URL_SIGNING_KEYS, kid);
  if (!ring) throw new Error("no ring");
  return `ih_delivery=${await deliveryCookieValue(ring, { imageIds: ids }, expires)}`;
}

describe("delivery cookies", () => {
  it("lets a page embed the caller's private images on /d without signatures", async () => {
    const a = await seedReadyImage("cookie-alice", "private");
    const b = await seedReadyImage("cookie-alice", "private");
    const res = await issue("cookie-alice", { imageIds: [a.image.id, b.image.id] });
    expect(res.status).toBe(200);
    expect(res.headers.get("Set-Cookie")).toMatch(
      /^ih_delivery=[\w.-]+; Max-Age=600; Path=\/d; HttpOnly; Secure; SameSite=Lax$/,
    );
    const body = (await res.json()) as CookieJson;
    expect(body.images.map((i) => i.id)).toEqual([a.image.id, b.image.id]);
    expect(body.images[0]?.urls.thumb).toBe(`https://images.test/d/${a.image.id}/1/thumb`);
    const cookie = cookiePair(res);
    for (const { image, bytes } of [a, b]) {
      const got = await view(`/d/${image.id}/1/thumb`, cookie);
      expect(got.status).toBe(200);
      expect(got.headers.get("Cache-Control")).toMatch(/^private, max-age=(59\d|600)$/);
      expect(new Uint8Array(await got.arrayBuffer())).toEqual(bytes["thumb.webp"]);
    }
    // Not named by the cookie, or no cookie at all: the signature is missing.
    const other = await seedReadyImage("cookie-alice", "private");
    for (const c of [cookie, undefined]) {
      const refused = await view(`/d/${other.image.id}/1/thumb`, c);
      expect(refused.status).toBe(403);
      expect(await problemCode(refused)).toBe("signature_invalid");
    }
  });

  it("refuses tampered, expired and foreign-key cookies, and accepts a rotated-out key", async () => {
    const { image } = await seedReadyImage("cookie-bob", "private");
    const other = await seedReadyImage("cookie-bob", "private");
    const now = Math.floor(Date.now() / 1000);
    const valid = await craft("k1", [image.id], now + 300);
    const tampered = valid.replace(image.id, other.image.id);
    const expired = await craft("k1", [image.id], now - 1);
    const tooLong = await craft("k1", [image.id], now + 7 * 86400);
    const oldKey = await craft("k0", [image.id], now + 300);
    expect((await view(`/d/${image.id}/1/thumb`, valid)).status).toBe(200);
    expect((await view(`/d/${image.id}/1/thumb`, oldKey)).status).toBe(200);
    for (const [name, cookie, path] of [
      ["tampered", tampered, `/d/${other.image.id}/1/thumb`],
      ["expired", expired, `/d/${image.id}/1/thumb`],
      ["beyond the maximum lifetime", tooLong, `/d/${image.id}/1/thumb`],
      ["garbage", "ih_delivery=a.b.c.d", `/d/${image.id}/1/thumb`],
      ["huge", `ih_delivery=${"A".repeat(8000)}`, `/d/${image.id}/1/thumb`],
    ] as const) {
      const res = await view(path, cookie);
      expect(res.status, name).toBe(403);
      await res.arrayBuffer();
    }
    // A signed URL still works with any cookie present.
    const signed = await callAs(
      "cookie-bob",
      `/v1/images/${image.id}:view?redirect=false&variant=thumb`,
    );
    const { url } = (await signed.json()) as { url: string };
    const u = new URL(url);
    expect((await view(u.pathname + u.search, tampered)).status).toBe(200);
  });

  it("names only the caller's ready images, and caps the lifetime", async () => {
    const mine = await seedReadyImage("cookie-carol", "private");
    const theirs = await seedReadyImage("cookie-dave", "public");
    const refused = await issue("cookie-carol", { imageIds: [mine.image.id, theirs.image.id] });
    expect(refused.status).toBe(404);
    expect(refused.headers.get("Set-Cookie")).toBeNull();
    expect(await problemCode(refused)).toBe("image_not_found");
    const long = await issue("cookie-carol", { imageIds: [mine.image.id], expiresIn: 7200 });
    expect(long.headers.get("Set-Cookie")).toContain("Max-Age=3600;");
    await long.arrayBuffer();
    const admin = await callApp("/v1/delivery-cookies", {
      method: "POST",
      headers: {
        Authorization: `Bearer ${await token("root", { admin: true })}`,
        "Content-Type": "application/json",
      },
      body: JSON.stringify({ imageIds: [theirs.image.id] }),
    });
    expect(admin.status).toBe(200);
    await admin.arrayBuffer();
    for (const body of [
      { imageIds: [] },
      { imageIds: ["not-an-id"] },
      { imageIds: Array.from({ length: 51 }, () => mine.image.id) },
      { imageIds: [mine.image.id], expiresIn: 5 },
      { imageIds: [mine.image.id], sameSite: "lax" },
    ]) {
      const res = await issue("cookie-carol", body);
      expect(res.status, JSON.stringify(body).slice(0, 60)).toBe(400);
      await res.arrayBuffer();
    }
    expect((await callApp("/v1/delivery-cookies", { method: "POST" })).status).toBe(401);
  });

  it("is not Secure on plain-HTTP localhost, and SameSite=None is always Secure", async () => {
    const { image } = await seedReadyImage("cookie-erin", "private");
    const auth = await token("cookie-erin");
    const send = async (sameSite?: string) => {
      const res = await createApp().fetch(
        new Request("http://127.0.0.1:8787/v1/delivery-cookies", {
          method: "POST",
          headers: { Authorization: `Bearer ${auth}`, "Content-Type": "application/json" },
          body: JSON.stringify({ imageIds: [image.id], ...(sameSite ? { sameSite } : {}) }),
        }),
        env,
      );
      await res.arrayBuffer();
      return res.headers.get("Set-Cookie") ?? "";
    };
    expect(await send()).not.toContain("Secure");
    expect(await send("None")).toContain("; Secure; SameSite=None");
  });

  it("grants a whole album, checked per request", async () => {
    const owner = "cookie-album";
    const a = await seedReadyImage(owner, "private");
    const b = await seedReadyImage(owner, "private");
    const album = (await (
      await callAs(owner, "/v1/albums", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ title: "gallery" }),
      })
    ).json()) as { id: string };
    await callAs(owner, `/v1/albums/${album.id}/images`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ imageIds: [a.image.id] }),
    });
    const res = await issue(owner, { albumId: album.id });
    expect(res.status).toBe(200);
    const body = (await res.json()) as CookieJson;
    expect(body.images.map((i) => i.id)).toEqual([a.image.id]);
    const cookie = cookiePair(res);
    expect((await view(`/d/${a.image.id}/1/thumb`, cookie)).status).toBe(200);
    expect((await view(`/d/${b.image.id}/1/thumb`, cookie)).status).toBe(403);
    // Membership is read per request: an image added later is granted, a removed one not.
    await callAs(owner, `/v1/albums/${album.id}/images`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ imageIds: [b.image.id] }),
    });
    expect((await view(`/d/${b.image.id}/1/thumb`, cookie)).status).toBe(200);
    await callAs(owner, `/v1/albums/${album.id}/images/${a.image.id}`, { method: "DELETE" });
    expect((await view(`/d/${a.image.id}/1/thumb`, cookie)).status).toBe(403);
    // Someone else's album, both kinds at once, neither: refused.
    expect((await issue("cookie-other", { albumId: album.id })).status).toBe(404);
    expect((await issue(owner, { albumId: album.id, imageIds: [a.image.id] })).status).toBe(400);
    expect((await issue(owner, {})).status).toBe(400);
  });
});
