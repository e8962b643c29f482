import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { parseKeyring, signPath } from "../../src/auth/url-signing";
import { ObjectStore } from "../../src/storage/object-store";
import { call, callAs, createImage, problemCode } from "../helpers/edge";

function put(url: string, body: BodyInit, headers: Record<string, string> = {}): Promise<Response> {
  return call(url, { method: "PUT", body, headers });
}

async function uploadUrlWithExpiry(id: string, expires: number): Promise<string> {
  const ring = parseKeyring(env.URL_SIGNING_KEYS, env.URL_SIGNING_KEY_ID);
  if (!ring) throw new Error("no keyring");
  return `/upload/${id}?${await signPath(ring, "upload", `/upload/${id}`, expires)}`;
}

describe("PUT /upload/{id}", () => {
  it("streams the bytes into R2, marks the image uploaded and is single-use", async () => {
    const created = await createImage("alice", { filename: "a.jpg" });
    const bytes = new Uint8Array(200_000);
    for (let i = 0; i < bytes.length; i += 65_536) {
      crypto.getRandomValues(bytes.subarray(i, i + 65_536));
    }
    const res = await put(created.upload.url, bytes);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; bytes: number };
    expect(body).toMatchObject({ status: "uploaded", bytes: bytes.length });
    const stored = await new ObjectStore(env.BUCKET).readUpload(created.id);
    expect(stored).toEqual(bytes);

    const again = await put(created.upload.url, bytes);
    expect(again.status).toBe(409);
    expect(await problemCode(again)).toBe("upload_already_used");

    const original = await callAs("alice", `/v1/images/${created.id}/original`);
    expect(original.status).toBe(200);
    expect(new Uint8Array(await original.arrayBuffer())).toEqual(bytes);
    expect(original.headers.get("Content-Disposition")).toContain("attachment");
    expect(original.headers.get("X-Content-Type-Options")).toBe("nosniff");
    const part = await callAs("alice", `/v1/images/${created.id}/original`, {
      headers: { Range: "bytes=0-99" },
    });
    expect(part.status).toBe(206);
    expect(new Uint8Array(await part.arrayBuffer())).toEqual(bytes.slice(0, 100));
    expect((await callAs("bob", `/v1/images/${created.id}/original`)).status).toBe(404);
    expect((await call(`/v1/images/${created.id}/original`)).status).toBe(401);
  });

  it("rejects a tampered signature with 403 signature_invalid", async () => {
    const created = await createImage("alice");
    const url = new URL(created.upload.url);
    const sig = url.searchParams.get("sig") ?? "";
    url.searchParams.set("sig", (sig[0] === "A" ? "B" : "A") + sig.slice(1));
    const res = await put(url.pathname + url.search, new Uint8Array(10));
    expect(res.status).toBe(403);
    expect(await problemCode(res)).toBe("signature_invalid");
  });

  it("rejects a signature for another image", async () => {
    const a = await createImage("alice");
    const b = await createImage("alice");
    const url = new URL(a.upload.url);
    const res = await put(`/upload/${b.id}${url.search}`, new Uint8Array(10));
    expect(res.status).toBe(403);
  });

  it("rejects an expired upload URL with 403 signature_expired", async () => {
    const created = await createImage("alice");
    const url = await uploadUrlWithExpiry(created.id, Math.floor(Date.now() / 1000) - 5);
    const res = await put(url, new Uint8Array(10));
    expect(res.status).toBe(403);
    expect(await problemCode(res)).toBe("signature_expired");
  });

  it("rejects a body larger than the declared size", async () => {
    const created = await createImage("alice", { size: 10 });
    const res = await put(created.upload.url, new Uint8Array(11));
    expect(res.status).toBe(400);
    expect(await problemCode(res)).toBe("size_mismatch");
    // The slot is still free: the right body goes through.
    expect((await put(created.upload.url, new Uint8Array(10))).status).toBe(200);
  });

  it("rejects an empty upload and a streamed body without Content-Length", async () => {
    const created = await createImage("alice");
    const empty = await put(created.upload.url, new Uint8Array(0));
    expect(empty.status).toBe(400);
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new Uint8Array(5));
        controller.close();
      },
    });
    const chunked = await call(created.upload.url, { method: "PUT", body: stream });
    expect(chunked.status).toBe(411);
    expect(await problemCode(chunked)).toBe("length_required");
  });

  it("answers 404 for an upload to a deleted image", async () => {
    const created = await createImage("alice");
    expect((await callAs("alice", `/v1/images/${created.id}`, { method: "DELETE" })).status).toBe(
      204,
    );
    const res = await put(created.upload.url, new Uint8Array(10));
    expect(res.status).toBe(404);
  });

  it("answers 409 image_not_ready for the original before any upload", async () => {
    const created = await createImage("alice");
    const res = await callAs("alice", `/v1/images/${created.id}/original`);
    expect(res.status).toBe(409);
  });
});
