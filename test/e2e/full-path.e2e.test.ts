// Runs the local system (the two Workers as two `wrangler dev` processes, local D1/R2/Queues) and
// drives the whole path over HTTP: create -> PUT -> queue -> processor -> ready -> view -> bytes.
// Tokens are verified the production way: RS256/ES256 against a JWKS endpoint, served here by
// a local HTTP stand-in for the identity provider.
import { readFileSync } from "node:fs";
import { createServer as createHttpServer, type Server } from "node:http";
import path from "node:path";
import { type CryptoKey, exportJWK, generateKeyPair, SignJWT } from "jose";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  freePort,
  type LocalSystem,
  patientFetch,
  startLocalSystem,
} from "../../scripts/local-system";

let system: LocalSystem | undefined;
let base = "";
let jwks: Server | undefined;
const signers: { alg: "RS256" | "ES256"; kid: string; key: CryptoKey }[] = [];

/** Serves a JWKS document the way an identity provider does (GET, JSON, cacheable). */
async function startJwks(): Promise<string> {
  const keys = [];
  for (const alg of ["RS256", "ES256"] as const) {
    const pair = await generateKeyPair(alg);
    const kid = `${alg.toLowerCase()}-1`;
    signers.push({ alg, kid, key: pair.privateKey });
    keys.push({ ...(await exportJWK(pair.publicKey)), kid, alg, use: "sig" });
  }
  const body = JSON.stringify({ keys });
  jwks = createHttpServer((req, res) => {
    if (req.method === "GET" && req.url === "/.well-known/jwks.json") {
      res.writeHead(200, { "Content-Type": "application/json", "Cache-Control": "max-age=300" });
      res.end(body);
    } else {
      res.writeHead(404).end();
    }
  });
  const port = await freePort();
  await new Promise<void>((resolve) => jwks?.listen(port, "127.0.0.1", resolve));
  return `http://127.0.0.1:${port}/.well-known/jwks.json`;
}

async function token(sub: string, signer = signers[0]): Promise<string> {
  if (!signer) throw new Error("JWKS stand-in not started");
  return new SignJWT({})
    .setProtectedHeader({ alg: signer.alg, kid: signer.kid })
    .setSubject(sub)
    .setIssuer("image-host")
    .setAudience("image-host-api")
    .setExpirationTime("10m")
    .sign(signer.key);
}

async function api(user: string | null, path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (user) headers.set("Authorization", `Bearer ${await token(user)}`);
  return patientFetch(`${base}${path}`, { ...init, headers, redirect: "manual" });
}

beforeAll(async () => {
  const jwksUrl = await startJwks();
  system = await startLocalSystem({
    URL_SIGNING_KEYS: "k1:e2e-signing-key",
    JWT_JWKS_URL: jwksUrl,
  });
  base = system.base;
});

afterAll(() => {
  system?.stop();
  jwks?.close();
});

describe("end to end, both Workers", () => {
  it("verifies RS256 and ES256 tokens against the JWKS endpoint", async () => {
    for (const signer of signers) {
      const res = await fetch(`${base}/v1/images`, {
        headers: { Authorization: `Bearer ${await token("carol", signer)}` },
      });
      expect(res.status, signer.alg).toBe(200);
    }
    const stranger = await generateKeyPair("ES256");
    const forged = await new SignJWT({})
      .setProtectedHeader({ alg: "ES256", kid: "es256-1" })
      .setSubject("carol")
      .setIssuer("image-host")
      .setAudience("image-host-api")
      .setExpirationTime("10m")
      .sign(stranger.privateKey);
    const rejected = await fetch(`${base}/v1/images`, {
      headers: { Authorization: `Bearer ${forged}` },
    });
    expect(rejected.status).toBe(401);
  });

  it("create -> PUT -> ready -> view -> image bytes", async () => {
    const photo = await sharp({
      create: { width: 2400, height: 1600, channels: 3, background: "#3a7bd5" },
    })
      .composite([
        {
          input: await sharp({
            create: { width: 800, height: 400, channels: 3, background: "#e94e1b" },
          })
            .png()
            .toBuffer(),
          left: 0,
          top: 0,
        },
      ])
      .jpeg({ quality: 90 })
      .toBuffer();

    const created = await api("alice", "/v1/images", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ title: "e2e", visibility: "private" }),
    });
    expect(created.status).toBe(201);
    const { id, upload } = (await created.json()) as { id: string; upload: { url: string } };

    const put = await fetch(upload.url.replace(/^https?:\/\/[^/]+/, base), {
      method: "PUT",
      body: photo,
    });
    expect(put.status).toBe(200);

    let status = "";
    let body: { status: string; width: number; height: number; variants: { name: string }[] } = {
      status: "",
      width: 0,
      height: 0,
      variants: [],
    };
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const res = await api("alice", `/v1/images/${id}`);
      body = (await res.json()) as typeof body;
      status = body.status;
      if (status === "ready" || status === "failed") break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(status, system?.output().slice(-2000)).toBe("ready");
    expect(body.width).toBe(2400);
    expect(new Set(body.variants.map((v) => v.name))).toEqual(
      new Set(["thumb", "medium", "large", "original"]),
    );

    const view = await api("alice", `/v1/images/${id}:view?variant=thumb`);
    expect(view.status).toBe(302);
    const location = view.headers.get("Location") ?? "";
    const image = await fetch(location.replace(/^https?:\/\/[^/]+/, base), {
      headers: { Accept: "image/webp,*/*" },
    });
    expect(image.status).toBe(200);
    expect(image.headers.get("Content-Type")).toBe("image/webp");
    const meta = await sharp(Buffer.from(await image.arrayBuffer())).metadata();
    expect(meta.format).toBe("webp");
    expect([meta.width, meta.height]).toEqual([256, 171]);

    // The private image stays invisible to others and to anonymous callers.
    expect((await api("bob", `/v1/images/${id}:view?variant=thumb`)).status).toBe(404);
    expect((await api(null, `/v1/images/${id}:view?variant=thumb`)).status).toBe(404);

    expect((await api("alice", `/v1/images/${id}`, { method: "DELETE" })).status).toBe(204);
    expect((await fetch(location.replace(/^https?:\/\/[^/]+/, base))).status).toBe(404);
  });

  it("processes a HEIC through the bundled processor (libheif's glue in the real bundle)", async () => {
    const heic = readFileSync(
      path.join(import.meta.dirname, "..", "fixtures", "heic", "photo.heic"),
    );
    const created = await api("alice", "/v1/images", { method: "POST" });
    const { id, upload } = (await created.json()) as { id: string; upload: { url: string } };
    const put = await fetch(upload.url.replace(/^https?:\/\/[^/]+/, base), {
      method: "PUT",
      body: heic,
    });
    expect(put.status).toBe(200);
    let body: { status: string; format: string | null; failure?: unknown } = {
      status: "",
      format: null,
    };
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      body = (await (await api("alice", `/v1/images/${id}`)).json()) as typeof body;
      if (body.status === "ready" || body.status === "failed") break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect([body.status, body.format, body.failure]).toEqual(["ready", "heic", undefined]);
  });
});
