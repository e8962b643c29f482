// tus-js-client, unmodified, against the local system (the two Workers as `npm start` runs
// them): a 30 MiB image in 1 MiB chunks, stopped part-way, resumed by a new client instance
// from the upload URL alone, checked byte for byte and processed to `ready`.
import { createHash, randomBytes } from "node:crypto";
import sharp from "sharp";
import { Upload } from "tus-js-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type LocalSystem,
  localToken,
  patientFetch,
  startLocalSystem,
} from "../../scripts/local-system";

const SECRET = "tus-e2e-secret-0123456789abcdef0123456789abcdef";
const MIB = 1024 * 1024;
let system: LocalSystem | undefined;
let base = "";
let auth: Record<string, string> = {};

beforeAll(async () => {
  system = await startLocalSystem({ JWT_SECRET: SECRET, URL_SIGNING_KEYS: "k1:tus-e2e" });
  base = system.base;
  auth = { Authorization: `Bearer ${await localToken(SECRET, "tus-user")}` };
});

afterAll(() => system?.stop());

/** A PNG of noise (it does not compress): 4300x2450 RGB is just over 30 MiB. */
async function bigPng(): Promise<Buffer> {
  const width = 4300;
  const height = 2450;
  return sharp(randomBytes(width * height * 3), { raw: { width, height, channels: 3 } })
    .png({ compressionLevel: 1 })
    .toBuffer();
}

function upload(
  file: Buffer,
  options: { uploadUrl?: string; imageId?: string; stopAt?: number },
): Promise<{ url: string; stopped: boolean }> {
  return new Promise((resolve, reject) => {
    const client: Upload = new Upload(file, {
      endpoint: `${base}/v1/tus/`,
      ...(options.uploadUrl ? { uploadUrl: options.uploadUrl } : { headers: auth }),
      chunkSize: MIB,
      retryDelays: [0, 500, 1000],
      metadata: options.imageId ? { imageId: options.imageId } : {},
      storeFingerprintForResuming: false,
      onProgress(sent) {
        if (options.stopAt !== undefined && sent >= options.stopAt) {
          client.abort().then(() => resolve({ url: client.url ?? "", stopped: true }), reject);
        }
      },
      onSuccess: () => resolve({ url: client.url ?? "", stopped: false }),
      onError: reject,
    });
    client.start();
  });
}

describe("tus-js-client against the local system", () => {
  it("uploads 30 MiB in 1 MiB chunks, resumes in a new client and processes it", async () => {
    const file = await bigPng();
    expect(file.length).toBeGreaterThan(30 * MIB);
    const created = await patientFetch(`${base}/v1/images`, {
      method: "POST",
      headers: { ...auth, "Content-Type": "application/json" },
      body: JSON.stringify({ title: "noise", size: file.length }),
    });
    expect(created.status).toBe(201);
    const image = (await created.json()) as { id: string; upload: unknown };
    expect(image.upload).toBeNull();

    // A backend hands the browser a signed upload URL; the browser's client resumes with it.
    const resumable = await patientFetch(`${base}/v1/uploads:resumable`, {
      method: "POST",
      headers: { ...auth, "Content-Type": "application/json" },
      body: JSON.stringify({ imageId: image.id, size: file.length }),
    });
    expect(resumable.status).toBe(201);
    const { uploadUrl } = (await resumable.json()) as { uploadUrl: string };

    const first = await upload(file, { uploadUrl, stopAt: 13 * MIB });
    expect(first.stopped).toBe(true);
    const head = await fetch(uploadUrl, { method: "HEAD", headers: { "Tus-Resumable": "1.0.0" } });
    const offset = Number(head.headers.get("Upload-Offset"));
    expect(offset).toBeGreaterThanOrEqual(12 * MIB);
    expect(offset).toBeLessThan(file.length);

    const second = await upload(file, { uploadUrl });
    expect(second.stopped).toBe(false);

    const original = await patientFetch(`${base}/v1/images/${image.id}/original`, {
      headers: auth,
    });
    expect(original.status).toBe(200);
    const stored = Buffer.from(await original.arrayBuffer());
    expect(createHash("sha256").update(stored).digest("hex")).toBe(
      createHash("sha256").update(file).digest("hex"),
    );

    const deadline = Date.now() + 90_000;
    let status = "";
    while (Date.now() < deadline) {
      const res = await patientFetch(`${base}/v1/images/${image.id}`, { headers: auth });
      const body = (await res.json()) as { status: string; failure?: unknown };
      status = body.status;
      if (status === "ready" || status === "failed") {
        expect(body.failure).toBeUndefined();
        break;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(status).toBe("ready");
  });

  it("creates the image through tus with a token and refuses a non-image after the first chunk", async () => {
    const html = Buffer.from(`<!doctype html><html>${"x".repeat(3 * MIB)}</html>`);
    const error = await upload(html, {}).then(
      () => null,
      (err: unknown) => err as { originalResponse?: { getStatus(): number } },
    );
    expect(error?.originalResponse?.getStatus()).toBe(415);
  });
});
