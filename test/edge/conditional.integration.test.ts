import { describe, expect, it } from "vitest";
import { call, callAs, createImage, problemCode, seedReadyImage } from "../helpers/edge";

const MALFORMED_TAGS = ["abc", '"abc', ",", "W/abc", 'W/"a" x', "*,*", `"${"x".repeat(16_384)}`];

/** Uploads random bytes through the signed URL; returns the image id and the bytes. */
async function uploaded(owner: string): Promise<{ id: string; bytes: Uint8Array }> {
  const created = await createImage(owner);
  const bytes = crypto.getRandomValues(new Uint8Array(5000));
  const res = await call(created.upload.url, { method: "PUT", body: bytes });
  expect(res.status).toBe(200);
  await res.arrayBuffer();
  return { id: created.id, bytes };
}

async function status(res: Response): Promise<number> {
  expect(res.status).toBeLessThan(500);
  expect(res.headers.get("X-Content-Type-Options")).toBe("nosniff");
  await res.arrayBuffer();
  return res.status;
}

/** Signed, public and owner-only routes serving one object each. */
async function targets(): Promise<{ name: string; get: (h: HeadersInit) => Promise<Response> }[]> {
  const { image } = await seedReadyImage("alice", "public");
  const view = await callAs("alice", `/v1/images/${image.id}:view?variant=thumb&redirect=false`);
  const { url } = (await view.json()) as { url: string };
  const original = await uploaded("alice");
  return [
    { name: "/i", get: (headers) => call(`/i/${image.id}/thumb`, { headers }) },
    { name: "/d", get: (headers) => call(url, { headers }) },
    {
      name: "/original",
      get: (headers) => callAs("alice", `/v1/images/${original.id}/original`, { headers }),
    },
  ];
}

describe("malformed precondition headers are ignored, never a 500", () => {
  it.each(["If-None-Match", "If-Match"])("%s", async (header) => {
    for (const target of await targets()) {
      for (const value of MALFORMED_TAGS) {
        const res = await target.get({ [header]: value });
        expect([target.name, value, res.status]).toEqual([target.name, value, 200]);
        await res.arrayBuffer();
      }
    }
  });

  it("If-Unmodified-Since / If-Modified-Since garbage is treated as absent (200)", async () => {
    for (const target of await targets()) {
      for (const value of ["garbage", "1", "Jan", "Thu, 31 Feb 2022 08:49:37 GMT"]) {
        expect(await status(await target.get({ "If-Unmodified-Since": value }))).toBe(200);
        expect(await status(await target.get({ "If-Modified-Since": value }))).toBe(200);
      }
    }
  });
});

describe("RFC 9110 §13.2.2 evaluation order", () => {
  it("answers 304 for a matching If-None-Match even with an unsatisfiable Range", async () => {
    for (const target of await targets()) {
      const first = await target.get({});
      const etag = first.headers.get("ETag") ?? "";
      const size = (await first.arrayBuffer()).byteLength;
      const beyond = { Range: `bytes=${size + 10}-` };
      const res = await target.get({ ...beyond, "If-None-Match": `"nope", ${etag}` });
      expect([target.name, res.status]).toEqual([target.name, 304]);
      expect(res.headers.get("ETag")).toBe(etag);
      // Not matching: the Range is evaluated and is unsatisfiable.
      const miss = await target.get({ ...beyond, "If-None-Match": '"nope"' });
      expect(miss.status).toBe(416);
      expect(await problemCode(miss)).toBe("range_not_satisfiable");
    }
  });

  it("lets a failed If-Match win over a matching If-None-Match (412)", async () => {
    for (const target of await targets()) {
      const first = await target.get({});
      const etag = first.headers.get("ETag") ?? "";
      await first.arrayBuffer();
      const res = await target.get({ "If-Match": '"other"', "If-None-Match": etag });
      expect([target.name, res.status]).toEqual([target.name, 412]);
      expect(await problemCode(res)).toBe("precondition_failed");
      // If-Match uses the strong comparison: a weak tag never matches.
      const weak = await target.get({ "If-Match": `W/${etag}` });
      expect(weak.status).toBe(412);
      await weak.arrayBuffer();
      const ok = await target.get({ "If-Match": `"x", ${etag}`, Range: "bytes=0-9" });
      expect(ok.status).toBe(206);
      expect((await ok.arrayBuffer()).byteLength).toBe(10);
    }
  });

  it("evaluates If-Unmodified-Since and If-Modified-Since against Last-Modified", async () => {
    for (const target of await targets()) {
      const first = await target.get({});
      const lastModified = first.headers.get("Last-Modified") ?? "";
      const etag = first.headers.get("ETag") ?? "";
      await first.arrayBuffer();
      expect(lastModified).toMatch(/ GMT$/);
      const earlier = new Date(Date.parse(lastModified) - 60_000).toUTCString();
      expect(await status(await target.get({ "If-Unmodified-Since": lastModified }))).toBe(200);
      const failed = await target.get({ "If-Unmodified-Since": earlier });
      expect([target.name, failed.status]).toEqual([target.name, 412]);
      await failed.arrayBuffer();
      // If-Unmodified-Since is not evaluated when If-Match is present.
      expect(
        await status(await target.get({ "If-Match": etag, "If-Unmodified-Since": earlier })),
      ).toBe(200);
      const notModified = await target.get({ "If-Modified-Since": lastModified });
      expect([target.name, notModified.status]).toEqual([target.name, 304]);
      expect(notModified.headers.get("ETag")).toBe(etag);
      expect(await status(await target.get({ "If-Modified-Since": earlier }))).toBe(200);
      // If-Modified-Since is ignored when If-None-Match is present.
      expect(
        await status(
          await target.get({ "If-None-Match": '"nope"', "If-Modified-Since": lastModified }),
        ),
      ).toBe(200);
      const range = await target.get({ "If-Modified-Since": earlier, Range: "bytes=0-4" });
      expect(range.status).toBe(206);
      expect((await range.arrayBuffer()).byteLength).toBe(5);
    }
  });

  it("keeps If-Range as a full 200 and serves 304 for the original by its R2 etag", async () => {
    const { id, bytes } = await uploaded("alice");
    const path = `/v1/images/${id}/original`;
    const first = await callAs("alice", path);
    const etag = first.headers.get("ETag") ?? "";
    expect(new Uint8Array(await first.arrayBuffer())).toEqual(bytes);
    const res = await callAs("alice", path, { headers: { "If-None-Match": `W/${etag}` } });
    expect(res.status).toBe(304);
    expect(res.headers.get("Content-Disposition")).toContain("attachment");
    const ifRange = await callAs("alice", path, {
      headers: { Range: "bytes=0-4", "If-Range": '"older"' },
    });
    expect(ifRange.status).toBe(200);
    expect((await ifRange.arrayBuffer()).byteLength).toBe(bytes.length);
  });
});
