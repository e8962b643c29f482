import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ImageRepository } from "../../src/storage/image-repository";
import { ObjectStore } from "../../src/storage/object-store";
import { callApp, createImage, problemCode, token } from "../helpers/edge";

const MIB = 1024 * 1024;
const TUS = { "Tus-Resumable": "1.0.0" };
const OCTETS = "application/offset+octet-stream";
const repo = new ImageRepository(env.DB);
const store = new ObjectStore(env.BUCKET);

/** A JPEG header (SOI, JFIF, a 4000x3000 frame header) the early probe accepts. */
const JPEG_HEAD = new Uint8Array([
  0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01,
  0x00, 0x01, 0x00, 0x00, 0xff, 0xc0, 0x00, 0x11, 0x08, 0x0b, 0xb8, 0x0f, 0xa0, 0x03, 0x01, 0x22,
  0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01,
]);

/** That header followed by random bytes, `size` in all. */
function jpegLike(size: number): Uint8Array {
  const head = JPEG_HEAD;
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i += 65536) {
    crypto.getRandomValues(out.subarray(i, Math.min(size, i + 65536)));
  }
  out.set(head.subarray(0, Math.min(head.length, size)));
  return out;
}

async function sha256(bytes: Uint8Array): Promise<string> {
  return Buffer.from(await crypto.subtle.digest("SHA-256", bytes)).toString("base64");
}

async function auth(user = "tus-alice"): Promise<Record<string, string>> {
  return { Authorization: `Bearer ${await token(user)}` };
}

function b64(text: string): string {
  return Buffer.from(text).toString("base64");
}

/** Creates an upload through tus creation; returns its URL path and image id. */
async function createUpload(
  length: number,
  extra: Record<string, string> = {},
  user = "tus-alice",
  body?: BodyInit,
): Promise<{ path: string; imageId: string; res: Response }> {
  const res = await callApp("/v1/tus/", {
    method: "POST",
    headers: {
      ...TUS,
      ...(await auth(user)),
      "Upload-Length": String(length),
      "Upload-Metadata": `filename ${b64("big.jpg")},title ${b64("Big one")}`,
      ...(body ? { "Content-Type": OCTETS } : {}),
      ...extra,
    },
    ...(body ? { body } : {}),
  });
  if (res.status !== 201) throw new Error(`create: ${res.status} ${await res.text()}`);
  const location = res.headers.get("Location") ?? "";
  return { path: new URL(location).pathname, imageId: res.headers.get("X-Image-Id") ?? "", res };
}

async function patch(
  path: string,
  offset: number,
  body: BodyInit | null,
  headers: Record<string, string> = {},
  user = "tus-alice",
): Promise<Response> {
  return callApp(path, {
    method: "PATCH",
    headers: {
      ...TUS,
      ...(await auth(user)),
      "Content-Type": OCTETS,
      "Upload-Offset": String(offset),
      ...headers,
    },
    body,
  });
}

async function head(path: string, user = "tus-alice"): Promise<Response> {
  return callApp(path, { method: "HEAD", headers: { ...TUS, ...(await auth(user)) } });
}

async function offsetOf(path: string): Promise<number> {
  const res = await head(path);
  expect(res.status).toBe(200);
  return Number(res.headers.get("Upload-Offset"));
}

async function storedUpload(imageId: string): Promise<Uint8Array | null> {
  return store.readUpload(imageId);
}

function sessionStub(path: string) {
  const id = path.split("/").pop() ?? "";
  return env.UPLOAD_SESSIONS.get(env.UPLOAD_SESSIONS.idFromName(id));
}

describe("tus protocol", () => {
  it("answers OPTIONS with what it supports, and refuses requests without Tus-Resumable", async () => {
    const res = await callApp("/v1/tus/", { method: "OPTIONS" });
    expect(res.status).toBe(204);
    expect(res.headers.get("Tus-Resumable")).toBe("1.0.0");
    expect(res.headers.get("Tus-Version")).toBe("1.0.0");
    expect(res.headers.get("Tus-Extension")).toBe(
      "creation,creation-with-upload,termination,expiration,checksum",
    );
    expect(res.headers.get("Tus-Max-Size")).toBe(env.RESUMABLE_MAX_UPLOAD_BYTES);
    expect(res.headers.get("Tus-Checksum-Algorithm")).toBe("sha256");
    const old = await callApp("/v1/tus/", {
      method: "POST",
      headers: { ...(await auth()), "Tus-Resumable": "0.2.2", "Upload-Length": "10" },
    });
    expect(old.status).toBe(412);
    expect(old.headers.get("Tus-Version")).toBe("1.0.0");
    expect(await problemCode(old)).toBe("tus_version_unsupported");
  });

  it("takes chunks of any size into one byte-exact upload and marks the image uploaded once", async () => {
    const bytes = jpegLike(12 * MIB + 12345);
    const { path, imageId, res } = await createUpload(bytes.length);
    expect(res.headers.get("Upload-Offset")).toBe("0");
    expect(Date.parse(res.headers.get("Upload-Expires") ?? "")).toBeGreaterThan(Date.now());
    expect((await repo.get(imageId))?.status).toBe("uploading");
    expect((await repo.get(imageId))?.title).toBe("Big one");

    let offset = 0;
    for (const size of [1, MIB, 3 * MIB + 7, 512 * 1024, 6 * MIB, 10, MIB]) {
      const chunk = bytes.subarray(offset, offset + size);
      const r = await patch(path, offset, chunk);
      expect(r.status, `at ${offset}`).toBe(204);
      offset += chunk.length;
      expect(r.headers.get("Upload-Offset")).toBe(String(offset));
      expect(await offsetOf(path)).toBe(offset);
    }
    const wrong = await patch(path, offset - 1, new Uint8Array(1));
    expect(wrong.status).toBe(409);
    expect(wrong.headers.get("Upload-Offset")).toBe(String(offset));
    expect(await problemCode(wrong)).toBe("upload_offset_mismatch");

    const last = await patch(path, offset, bytes.subarray(offset));
    expect(last.status).toBe(204);
    expect(last.headers.get("Upload-Offset")).toBe(String(bytes.length));
    const image = await repo.get(imageId);
    expect(image?.status).toBe("uploaded");
    expect(image?.bytes).toBe(bytes.length);
    expect(image?.uploadSession).toBeNull();
    const stored = await storedUpload(imageId);
    expect(stored?.length).toBe(bytes.length);
    expect(await sha256(stored ?? new Uint8Array())).toBe(await sha256(bytes));

    // The client retries its last PATCH (the answer was lost): same answer, nothing again.
    const retry = await patch(path, bytes.length, new Uint8Array(0));
    expect(retry.status).toBe(204);
    expect(retry.headers.get("Upload-Offset")).toBe(String(bytes.length));
    const uploads = await env.DB.prepare(
      "select count(*) as n from metrics where name = 'image.upload' and image_id = ?",
    )
      .bind(imageId)
      .first<{ n: number }>();
    expect(uploads?.n).toBe(1);
  });

  it("creates with the first chunk (creation-with-upload) and into an existing pending image", async () => {
    const bytes = jpegLike(2 * MIB);
    const { path, res } = await createUpload(bytes.length, {}, "tus-alice", bytes.subarray(0, MIB));
    expect(res.headers.get("Upload-Offset")).toBe(String(MIB));
    expect((await patch(path, MIB, bytes.subarray(MIB))).status).toBe(204);

    const pending = await createImage("tus-alice", { title: "made first" });
    const into = await createUpload(100, {
      "Upload-Metadata": `imageId ${b64(pending.id)}`,
    });
    expect(into.imageId).toBe(pending.id);
    const again = await callApp("/v1/tus/", {
      method: "POST",
      headers: {
        ...TUS,
        ...(await auth()),
        "Upload-Length": "100",
        "Upload-Metadata": `imageId ${b64(pending.id)}`,
      },
    });
    expect(again.status).toBe(409);
    expect(await problemCode(again)).toBe("upload_already_used");
    // The single PUT cannot take the slot a session holds.
    const put = await callApp(pending.upload.url, {
      method: "PUT",
      body: new Uint8Array(100),
      headers: { "Content-Length": "100" },
    });
    expect(put.status).toBe(409);
  });

  it("keeps every byte of a PATCH that is cut off mid-body", async () => {
    const bytes = jpegLike(7 * MIB);
    const { path } = await createUpload(bytes.length);
    let sent = 0;
    const cutAt = 6 * MIB + 100;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= cutAt) {
          controller.error(new Error("connection lost"));
          return;
        }
        const n = Math.min(256 * 1024, cutAt - sent);
        controller.enqueue(bytes.slice(sent, sent + n));
        sent += n;
      },
    });
    await patch(path, 0, body).catch(() => undefined);
    expect(await offsetOf(path)).toBe(cutAt);
    expect((await patch(path, cutAt, bytes.subarray(cutAt))).status).toBe(204);
  });

  it("lets one of two concurrent PATCHes win and never corrupts the upload", async () => {
    const bytes = jpegLike(6 * MIB);
    const { path, imageId } = await createUpload(bytes.length);
    const slow = (data: Uint8Array) => {
      let i = 0;
      return new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (i >= data.length) return controller.close();
          await new Promise((r) => setTimeout(r, 5));
          controller.enqueue(data.slice(i, i + 512 * 1024));
          i += 512 * 1024;
        },
      });
    };
    const [a, b] = await Promise.all([
      patch(path, 0, slow(bytes.subarray(0, 3 * MIB))),
      patch(path, 0, slow(bytes.subarray(0, 3 * MIB))),
    ]);
    const statuses = [a.status, b.status].sort();
    expect(statuses[0]).toBe(204);
    expect([409, 423]).toContain(statuses[1]);
    await Promise.all([a.arrayBuffer(), b.arrayBuffer()]);
    expect(await offsetOf(path)).toBe(3 * MIB);
    expect((await patch(path, 3 * MIB, bytes.subarray(3 * MIB))).status).toBe(204);
    expect(await sha256((await storedUpload(imageId)) ?? new Uint8Array())).toBe(
      await sha256(bytes),
    );
  });

  it("checks Upload-Checksum and discards a body that does not match", async () => {
    const bytes = jpegLike(MIB);
    const { path } = await createUpload(bytes.length);
    const first = bytes.subarray(0, 1000);
    const bad = await patch(path, 0, first, { "Upload-Checksum": `sha256 ${await sha256(bytes)}` });
    expect(bad.status).toBe(460);
    expect(await problemCode(bad)).toBe("checksum_mismatch");
    expect(await offsetOf(path)).toBe(0);
    const md5 = await patch(path, 0, first, { "Upload-Checksum": "md5 AAAA" });
    expect(md5.status).toBe(400);
    const good = await patch(path, 0, first, {
      "Upload-Checksum": `sha256 ${await sha256(first)}`,
    });
    expect(good.status).toBe(204);
    expect(await offsetOf(path)).toBe(1000);
  });

  it("refuses a non-image after its first chunk and terminates the upload", async () => {
    const html = new TextEncoder().encode(`<!doctype html><script>x</script>${" ".repeat(5000)}`);
    const { path, imageId } = await createUpload(10 * MIB);
    const res = await patch(path, 0, html);
    expect(res.status).toBe(415);
    expect(await problemCode(res)).toBe("unsupported_format");
    expect((await head(path)).status).toBe(404);
    expect((await repo.get(imageId))?.status).toBe("pending");
    // A header that declares more pixels than the processor takes: 413 from its first bytes.
    const png = new Uint8Array(4096);
    png.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 73, 72, 68, 82]);
    new DataView(png.buffer).setUint32(16, 20000);
    new DataView(png.buffer).setUint32(20, 20000);
    const big = await createUpload(10 * MIB);
    const refused = await patch(big.path, 0, png);
    expect(refused.status).toBe(413);
    expect(await problemCode(refused)).toBe("too_many_pixels");
    expect((await head(big.path)).status).toBe(404);
  });

  it("refuses what breaks the protocol with the right status", async () => {
    const over = await callApp("/v1/tus/", {
      method: "POST",
      headers: {
        ...TUS,
        ...(await auth()),
        "Upload-Length": String(Number(env.RESUMABLE_MAX_UPLOAD_BYTES) + 1),
      },
    });
    expect(over.status).toBe(413);
    const cases: Record<string, string>[] = [
      {},
      { "Upload-Length": "-1" },
      { "Upload-Length": "1e6" },
      { "Upload-Defer-Length": "1" },
      { "Upload-Length": "10", "Upload-Metadata": "filename !!!" },
      { "Upload-Length": "10", "Upload-Metadata": `visibility ${b64("secret")}` },
      { "Upload-Length": "0" },
    ];
    for (const headers of cases) {
      const res = await callApp("/v1/tus/", {
        method: "POST",
        headers: { ...TUS, ...(await auth()), ...headers },
      });
      expect(res.status, JSON.stringify(headers)).toBe(400);
      await res.arrayBuffer();
    }
    const { path } = await createUpload(100);
    const text = await patch(path, 0, new Uint8Array(10), { "Content-Type": "text/plain" });
    expect(text.status).toBe(415);
    const noOffset = await callApp(path, {
      method: "PATCH",
      headers: { ...TUS, ...(await auth()), "Content-Type": OCTETS },
      body: new Uint8Array(10),
    });
    expect(noOffset.status).toBe(400);
    const tooLong = await patch(path, 0, jpegLike(200));
    expect(tooLong.status).toBe(413);
    expect(await problemCode(tooLong)).toBe("upload_too_large");
    expect(
      (
        await callApp("/v1/tus/AAAAAAAAAAAAAAAAAAAAAA", {
          method: "HEAD",
          headers: { ...TUS, ...(await auth()) },
        })
      ).status,
    ).toBe(404);
  });

  it("terminates on DELETE and through X-HTTP-Method-Override", async () => {
    const { path, imageId } = await createUpload(MIB);
    const over = await callApp(path, {
      method: "POST",
      headers: {
        ...TUS,
        ...(await auth()),
        "X-HTTP-Method-Override": "PATCH",
        "Content-Type": OCTETS,
        "Upload-Offset": "0",
      },
      body: jpegLike(1000),
    });
    expect(over.status).toBe(204);
    expect(await offsetOf(path)).toBe(1000);
    const deleted = await callApp(path, {
      method: "DELETE",
      headers: { ...TUS, ...(await auth()) },
    });
    expect(deleted.status).toBe(204);
    expect((await head(path)).status).toBe(404);
    expect((await patch(path, 1000, new Uint8Array(1))).status).toBe(404);
    const image = await repo.get(imageId);
    expect(image?.status).toBe("pending");
    expect(image?.uploadSession).toBeNull();
  });

  it("expires: 410 past Upload-Expires, then the alarm aborts and gives the slot back", async () => {
    const { path, imageId } = await createUpload(6 * MIB);
    expect((await patch(path, 0, jpegLike(5 * MIB + 10))).status).toBe(204);
    const stub = sessionStub(path);
    await runInDurableObject(stub, async (_instance, state) => {
      const session = await state.storage.get<{ expiresAt: number }>("session");
      if (!session) throw new Error("no session");
      await state.storage.put("session", { ...session, expiresAt: Date.now() - 1 });
    });
    expect((await head(path)).status).toBe(410);
    const gone = await patch(path, 5 * MIB + 10, new Uint8Array(1));
    expect(gone.status).toBe(410);
    expect(await problemCode(gone)).toBe("upload_expired");
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await head(path)).status).toBe(404);
    const image = await repo.get(imageId);
    expect(image?.status).toBe("pending");
    expect(image?.uploadSessionExpiresAt).toBeNull();
    await runInDurableObject(stub, async (_instance, state) => {
      expect([...(await state.storage.list()).keys()]).toEqual([]);
    });
  });
});

describe("resumable upload authority", () => {
  it("is the owner's, or the holder of the signed upload URL", async () => {
    const { path } = await createUpload(100);
    expect((await head(path, "tus-mallory")).status).toBe(404);
    expect((await callApp(path, { method: "HEAD", headers: TUS })).status).toBe(401);
    const minted = await callApp("/v1/api-keys", {
      method: "POST",
      headers: { ...(await auth()), "Content-Type": "application/json" },
      body: JSON.stringify({ name: "reader", scopes: ["images:read"] }),
    });
    const { key } = (await minted.json()) as { key: string };
    const readOnly = await callApp(path, {
      method: "HEAD",
      headers: { ...TUS, Authorization: `Bearer ${key}` },
    });
    expect(readOnly.status).toBe(403);

    const pending = await createImage("tus-alice", { size: 3000 });
    const res = await callApp("/v1/uploads:resumable", {
      method: "POST",
      headers: { ...(await auth()), "Content-Type": "application/json" },
      body: JSON.stringify({ imageId: pending.id, size: 3000 }),
    });
    expect(res.status).toBe(201);
    const body = (await res.json()) as {
      uploadUrl: string;
      offset: number;
      chunkSize: number;
      expiresAt: string;
    };
    expect(body.offset).toBe(0);
    expect(body.chunkSize).toBe(10 * MIB);
    const url = new URL(body.uploadUrl);
    const bytes = jpegLike(3000);
    const anonymous = await callApp(url.pathname + url.search, {
      method: "PATCH",
      headers: { ...TUS, "Content-Type": OCTETS, "Upload-Offset": "0" },
      body: bytes,
    });
    expect(anonymous.status).toBe(204);
    expect((await repo.get(pending.id))?.status).toBe("uploaded");
    const tampered = url.search.replace(/sig=./, "sig=A");
    const bad = await callApp(url.pathname + tampered, { method: "HEAD", headers: TUS });
    expect(bad.status).toBe(403);
    // Size declared at creation must match; the image must be the caller's and pending.
    for (const [user, imageId, size, status] of [
      ["tus-alice", pending.id, 3000, 409],
      ["tus-mallory", (await createImage("tus-alice")).id, 10, 404],
      ["tus-alice", (await createImage("tus-alice", { size: 10 })).id, 11, 400],
    ] as const) {
      const r = await callApp("/v1/uploads:resumable", {
        method: "POST",
        headers: { ...(await auth(user)), "Content-Type": "application/json" },
        body: JSON.stringify({ imageId, size }),
      });
      expect(r.status, `${user} ${size}`).toBe(status);
      await r.arrayBuffer();
    }
  });
});
