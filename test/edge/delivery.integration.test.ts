import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { parseKeyring, signPath } from "../../src/auth/url-signing";
import { call, callAs, createImage, problemCode, seedReadyImage } from "../helpers/edge";

function expectImageHeaders(res: Response, contentType: string): void {
  expect(res.headers.get("Content-Type")).toBe(contentType);
  expect(res.headers.get("X-Content-Type-Options")).toBe("nosniff");
  expect(res.headers.get("Content-Security-Policy")).toBe("default-src 'none'; sandbox");
  expect(res.headers.get("Accept-Ranges")).toBe("bytes");
  expect(res.headers.get("ETag")).toMatch(/^"[0-9a-f]+"$/);
}

async function viewUrl(user: string | null, id: string, variant: string): Promise<string> {
  const path = `/v1/images/${id}:view?variant=${variant}&redirect=false`;
  const res = user ? await callAs(user, path) : await call(path);
  expect(res.status).toBe(200);
  const body = (await res.json()) as { url: string; expiresAt: string };
  expect(Date.parse(body.expiresAt)).toBeGreaterThan(Date.now());
  return body.url;
}

describe("GET /v1/images/{id}:view", () => {
  it("redirects the owner to a signed delivery URL", async () => {
    const { image } = await seedReadyImage("alice", "private");
    const res = await callAs("alice", `/v1/images/${image.id}:view?variant=thumb`);
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get("Location") ?? "");
    expect(location.pathname).toBe(`/d/${image.id}/1/thumb`);
    expect(location.searchParams.get("kid")).toBe("k1");
  });

  it("is a 404 for a private image without a token or with another user's token", async () => {
    const { image } = await seedReadyImage("alice", "private");
    const anon = await call(`/v1/images/${image.id}:view?variant=thumb`);
    expect(anon.status).toBe(404);
    expect(await problemCode(anon)).toBe("image_not_found");
    expect((await callAs("bob", `/v1/images/${image.id}:view?variant=thumb`)).status).toBe(404);
  });

  it("lets anyone view public and unlisted images", async () => {
    for (const visibility of ["public", "unlisted"] as const) {
      const { image } = await seedReadyImage("alice", visibility);
      await viewUrl(null, image.id, "medium");
      await viewUrl("bob", image.id, "large");
    }
  });

  it("answers 409 for an image that is not ready and 400 for an unknown variant", async () => {
    const created = await createImage("alice");
    const res = await callAs("alice", `/v1/images/${created.id}:view`);
    expect(res.status).toBe(409);
    expect(await problemCode(res)).toBe("image_not_ready");
    const { image } = await seedReadyImage("alice", "private");
    const bad = await callAs("alice", `/v1/images/${image.id}:view?variant=huge`);
    expect(bad.status).toBe(400);
    expect(await problemCode(bad)).toBe("validation_failed");
  });
});

describe("signed delivery /d/...", () => {
  it("streams the negotiated variant with the image headers", async () => {
    const { image, bytes } = await seedReadyImage("alice", "private");
    const url = await viewUrl("alice", image.id, "thumb");
    const jpeg = await call(url);
    expect(jpeg.status).toBe(200);
    expectImageHeaders(jpeg, "image/jpeg");
    expect(new Uint8Array(await jpeg.arrayBuffer())).toEqual(bytes["thumb.jpeg"]);
    expect(jpeg.headers.get("Vary")).toBe("Accept");
    expect(jpeg.headers.get("Cache-Control")).toMatch(/^private, max-age=\d+$/);

    const webp = await call(url, { headers: { Accept: "image/webp,*/*" } });
    expectImageHeaders(webp, "image/webp");
    expect(new Uint8Array(await webp.arrayBuffer())).toEqual(bytes["thumb.webp"]);
    const avif = await call(url, { headers: { Accept: "image/avif,image/webp,*/*" } });
    expectImageHeaders(avif, "image/avif");
    await avif.arrayBuffer();
  });

  it("answers conditional and range requests", async () => {
    const { image, bytes } = await seedReadyImage("alice", "private");
    const url = await viewUrl("alice", image.id, "medium");
    const first = await call(url);
    const etag = first.headers.get("ETag") ?? "";
    await first.arrayBuffer();
    const notModified = await call(url, { headers: { "If-None-Match": etag } });
    expect(notModified.status).toBe(304);
    const partial = await call(url, { headers: { Range: "bytes=10-19" } });
    expect(partial.status).toBe(206);
    expect(partial.headers.get("Content-Range")).toBe(
      `bytes 10-19/${bytes["medium.jpeg"]?.length}`,
    );
    expect(new Uint8Array(await partial.arrayBuffer())).toEqual(
      bytes["medium.jpeg"]?.slice(10, 20),
    );
  });

  it("rejects tampered, re-targeted and expired signatures with 403", async () => {
    const { image } = await seedReadyImage("alice", "private");
    const url = new URL(await viewUrl("alice", image.id, "thumb"));
    const sig = url.searchParams.get("sig") ?? "";
    const tampered = new URL(url);
    tampered.searchParams.set("sig", (sig[0] === "A" ? "B" : "A") + sig.slice(1));
    const t = await call(tampered.toString());
    expect(t.status).toBe(403);
    expect(await problemCode(t)).toBe("signature_invalid");

    const retargeted = new URL(url);
    retargeted.pathname = `/d/${image.id}/1/original`;
    expect((await call(retargeted.toString())).status).toBe(403);

    const longer = new URL(url);
    longer.searchParams.set("exp", String(Number(url.searchParams.get("exp")) + 3600));
    expect((await call(longer.toString())).status).toBe(403);

    const ring = parseKeyring(env.URL_SIGNING_KEYS, env.URL_SIGNING_KEY_ID);
    if (!ring) throw new Error("no keyring");
    const path = `/d/${image.id}/1/thumb`;
    const expired = await call(
      `${path}?${await signPath(ring, "view", path, Math.floor(Date.now() / 1000) - 1)}`,
    );
    expect(expired.status).toBe(403);
    expect(await problemCode(expired)).toBe("signature_expired");

    const unsigned = await call(path);
    expect(unsigned.status).toBe(403);
  });

  it("accepts a URL signed with a previous key that is still in the keyring", async () => {
    const { image } = await seedReadyImage("alice", "private");
    const ring = parseKeyring(env.URL_SIGNING_KEYS, "k0");
    if (!ring) throw new Error("no keyring");
    const path = `/d/${image.id}/1/thumb`;
    const res = await call(
      `${path}?${await signPath(ring, "view", path, Math.floor(Date.now() / 1000) + 60)}`,
    );
    expect(res.status).toBe(200);
    await res.arrayBuffer();
  });

  it("does not accept an upload signature for delivery", async () => {
    const created = await createImage("alice");
    const search = new URL(created.upload.url).search;
    expect((await call(`/d/${created.id}/1/thumb${search}`)).status).toBe(403);
  });
});

describe("public delivery /i/{id}/{variant}", () => {
  it("serves public images with long-lived cache headers", async () => {
    const { image, bytes } = await seedReadyImage("alice", "public");
    const res = await call(`/i/${image.id}/large`);
    expect(res.status).toBe(200);
    expectImageHeaders(res, "image/jpeg");
    expect(res.headers.get("Cache-Control")).toContain("public");
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes["large.jpeg"]);
  });

  it("is a 404 for private and unlisted images and unknown variants", async () => {
    for (const visibility of ["private", "unlisted"] as const) {
      const { image } = await seedReadyImage("alice", visibility);
      const res = await call(`/i/${image.id}/thumb`);
      expect(res.status).toBe(404);
      expect(await problemCode(res)).toBe("image_not_found");
    }
    const { image } = await seedReadyImage("alice", "public");
    expect((await call(`/i/${image.id}/huge`)).status).toBe(404);
  });
});

describe("HTTP semantics of image responses", () => {
  it("answers 416 for an unsatisfiable range and 412 for a failed If-Match", async () => {
    const { image, bytes } = await seedReadyImage("alice", "public");
    const size = bytes["thumb.jpeg"]?.length ?? 0;
    const beyond = await call(`/i/${image.id}/thumb`, { headers: { Range: `bytes=${size}-` } });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get("Content-Range")).toBe(`bytes */${size}`);
    expect(await problemCode(beyond)).toBe("range_not_satisfiable");
    const suffix = await call(`/i/${image.id}/thumb`, { headers: { Range: "bytes=-5" } });
    expect(suffix.status).toBe(206);
    expect(new Uint8Array(await suffix.arrayBuffer())).toEqual(bytes["thumb.jpeg"]?.slice(-5));
    const ifRange = await call(`/i/${image.id}/thumb`, {
      headers: { Range: "bytes=0-4", "If-Range": '"some-older-etag"' },
    });
    expect(ifRange.status).toBe(200);
    expect((await ifRange.arrayBuffer()).byteLength).toBe(size);
    const mismatch = await call(`/i/${image.id}/thumb`, { headers: { "If-Match": '"nope"' } });
    expect(mismatch.status).toBe(412);
    expect(await problemCode(mismatch)).toBe("precondition_failed");
  });

  it("answers a matching If-None-Match from D1 alone, without reading R2", async () => {
    const { image } = await seedReadyImage("alice", "public");
    const first = await call(`/i/${image.id}/thumb`);
    const etag = first.headers.get("ETag") ?? "";
    await first.arrayBuffer();
    await env.BUCKET.delete(`variants/${image.id}/1/thumb.jpeg`);
    const cached = await call(`/i/${image.id}/thumb`, { headers: { "If-None-Match": etag } });
    expect(cached.status).toBe(304);
    expect(cached.headers.get("ETag")).toBe(etag);
    expect(cached.headers.get("X-Content-Type-Options")).toBe("nosniff");
  });

  it("keeps serving the previous revision while a reprocess runs", async () => {
    const { image } = await seedReadyImage("alice", "public");
    const res = await callAs("alice", `/v1/images/${image.id}:reprocess`, { method: "POST" });
    expect(res.status).toBe(202);
    const body = (await res.json()) as { status: string; variants: unknown[] };
    expect(body.status).toBe("uploaded");
    expect(body.variants.length).toBeGreaterThan(0);
    const pub = await call(`/i/${image.id}/thumb`);
    expect(pub.status).toBe(200);
    await pub.arrayBuffer();
    const view = await callAs("alice", `/v1/images/${image.id}:view?variant=thumb`);
    expect(view.status).toBe(302);
    expect(new URL(view.headers.get("Location") ?? "").pathname).toBe(`/d/${image.id}/1/thumb`);
  });
});
