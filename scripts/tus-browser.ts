// tus-js-client's browser build in Chromium (playwright-core with Debian's chromium) against
// the local system: a page on another origin uploads a 30 MiB PNG in 1 MiB chunks through a
// signed upload URL, is stopped part-way, resumes in a new client instance, and the bytes are
// checked through /original and processed to `ready`.
// Usage: npx tsx scripts/tus-browser.ts   (CHROMIUM_PATH, default /usr/bin/chromium)
import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { chromium } from "playwright-core";
import sharp from "sharp";
import { freePort, localToken, patientFetch, startLocalSystem } from "./local-system";

const SECRET = "tus-browser-secret-0123456789abcdef0123456789";
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const MIB = 1024 * 1024;
const root = join(import.meta.dirname, "..");

const width = 4300;
const height = 2450;
const png = await sharp(randomBytes(width * height * 3), { raw: { width, height, channels: 3 } })
  .png({ compressionLevel: 1 })
  .toBuffer();
const tusJs = readFileSync(join(root, "node_modules", "tus-js-client", "dist", "tus.min.js"));

const PAGE = `<!doctype html><meta charset="utf-8"><title>tus in the browser</title>
<script src="/tus.min.js"></script>
<script>
  // Uploads the file at uploadUrl; stops after stopAt bytes when asked (a new Upload resumes).
  window.send = (uploadUrl, stopAt) => new Promise(async (resolve, reject) => {
    const file = await (await fetch("/image.png")).blob();
    const upload = new tus.Upload(file, {
      uploadUrl,
      chunkSize: ${MIB},
      retryDelays: [0, 500],
      storeFingerprintForResuming: false,
      onProgress(sent) {
        if (stopAt && sent >= stopAt) upload.abort().then(() => resolve({ stopped: true, sent }));
      },
      onSuccess: () => resolve({ stopped: false, sent: file.size }),
      onError: (err) => reject(String(err)),
    });
    upload.start();
  });
</script>`;

/** What the page defines (this file is typed without the DOM library). */
interface PageApi {
  send(uploadUrl: string, stopAt: number): Promise<{ stopped: boolean; sent: number }>;
}

const system = await startLocalSystem({ JWT_SECRET: SECRET, URL_SIGNING_KEYS: "k1:tus-browser" });
const pagePort = await freePort();
const server = createServer((req, res) => {
  if (req.url === "/tus.min.js")
    res.writeHead(200, { "Content-Type": "text/javascript" }).end(tusJs);
  else if (req.url === "/image.png") res.writeHead(200, { "Content-Type": "image/png" }).end(png);
  else res.writeHead(200, { "Content-Type": "text/html" }).end(PAGE);
});
await new Promise<void>((resolve) => server.listen(pagePort, "127.0.0.1", resolve));
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
try {
  const auth = { Authorization: `Bearer ${await localToken(SECRET, "browser-user")}` };
  const json = { ...auth, "Content-Type": "application/json" };
  const image = (await (
    await fetch(`${system.base}/v1/images`, {
      method: "POST",
      headers: json,
      body: JSON.stringify({ title: "from a browser", size: png.length }),
    })
  ).json()) as { id: string };
  const { uploadUrl } = (await (
    await fetch(`${system.base}/v1/uploads:resumable`, {
      method: "POST",
      headers: json,
      body: JSON.stringify({ imageId: image.id, size: png.length }),
    })
  ).json()) as { uploadUrl: string };

  const page = await browser.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(`http://127.0.0.1:${pagePort}/`);
  const started = performance.now();
  const first = await page.evaluate(
    ([url, stop]) => (globalThis as unknown as PageApi).send(url, stop),
    [uploadUrl, 12 * MIB] as const,
  );
  await page.reload();
  const second = await page.evaluate(([url]) => (globalThis as unknown as PageApi).send(url, 0), [
    uploadUrl,
    0,
  ] as const);
  const seconds = (performance.now() - started) / 1000;
  const original = Buffer.from(
    await (
      await patientFetch(`${system.base}/v1/images/${image.id}/original`, { headers: auth })
    ).arrayBuffer(),
  );
  const same =
    createHash("sha256").update(original).digest("hex") ===
    createHash("sha256").update(png).digest("hex");
  let status = "";
  for (let i = 0; i < 180 && status !== "ready" && status !== "failed"; i++) {
    await new Promise((r) => setTimeout(r, 500));
    status = (
      (await (
        await patientFetch(`${system.base}/v1/images/${image.id}`, { headers: auth })
      ).json()) as {
        status: string;
      }
    ).status;
  }
  console.log(
    JSON.stringify({
      bytes: png.length,
      first,
      second,
      seconds: Number(seconds.toFixed(1)),
      byteExact: same,
      status,
      pageErrors: errors,
    }),
  );
  if (!first.stopped || second.stopped || !same || status !== "ready" || errors.length > 0) {
    process.exitCode = 1;
  }
} finally {
  await browser.close();
  server.close();
  system.stop();
}
