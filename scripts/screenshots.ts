// Screenshots of the share page as a person sees it: starts the local system (as npm start
// does), uploads a photo, shares it (open, and with a password), and opens both in Debian's
// Chromium through playwright-core at desktop and phone width.
// Usage: npx tsx scripts/screenshots.ts [outDir]   (default docs/screenshots)
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";
import sharp from "sharp";
import { localToken, patientFetch, startLocalSystem } from "./local-system";

const SECRET = "screenshot-secret-0123456789abcdef0123456789";
const out = process.argv[2] ?? join(import.meta.dirname, "..", "docs", "screenshots");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** A colourful 2400x1600 test photo: sky gradient, sun, hills. */
async function photo(): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="2400" height="1600">
    <defs><linearGradient id="sky" x1="0" y1="0" x2="0" y2="1">
      <stop offset="0" stop-color="#1e3c72"/><stop offset="0.6" stop-color="#f7a35c"/><stop offset="1" stop-color="#fcd68a"/>
    </linearGradient></defs>
    <rect width="2400" height="1600" fill="url(#sky)"/>
    <circle cx="1700" cy="900" r="180" fill="#ffe08a"/>
    <path d="M0 1150 Q 500 900 1000 1120 T 2400 1050 V1600 H0Z" fill="#2f5d50"/>
    <path d="M0 1300 Q 700 1100 1400 1320 T 2400 1280 V1600 H0Z" fill="#1f3f36"/>
  </svg>`;
  return sharp(Buffer.from(svg)).jpeg({ quality: 88 }).toBuffer();
}

const system = await startLocalSystem({ JWT_SECRET: SECRET, URL_SIGNING_KEYS: "k1:screens" });
try {
  const auth = {
    Authorization: `Bearer ${await localToken(SECRET, "alice")}`,
    "Content-Type": "application/json",
  };
  const created = (await (
    await fetch(`${system.base}/v1/images`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ title: "Evening over the hills", visibility: "private" }),
    })
  ).json()) as { id: string; upload: { url: string } };
  const put = await fetch(created.upload.url.replace(/^https?:\/\/[^/]+/, system.base), {
    method: "PUT",
    body: await photo(),
  });
  if (!put.ok) throw new Error(`upload: ${put.status}`);
  for (;;) {
    const image = (await (
      await patientFetch(`${system.base}/v1/images/${created.id}`, { headers: auth })
    ).json()) as { status: string; variants: { format: string }[] };
    if (image.status === "failed") throw new Error("processing failed");
    if (image.variants.some((v) => v.format === "avif")) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const share = async (body: Record<string, unknown>) =>
    (
      (await (
        await fetch(`${system.base}/v1/images/${created.id}/shares`, {
          method: "POST",
          headers: auth,
          body: JSON.stringify(body),
        })
      ).json()) as { token: string }
    ).token;
  const open = await share({ allowDownload: true });
  const album = (await (
    await fetch(`${system.base}/v1/albums`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ title: "Evenings", description: "A few quiet ones" }),
    })
  ).json()) as { id: string };
  await fetch(`${system.base}/v1/albums/${album.id}/images`, {
    method: "POST",
    headers: auth,
    body: JSON.stringify({ imageIds: [created.id] }),
  });
  const albumToken = (
    (await (
      await fetch(`${system.base}/v1/albums/${album.id}/shares`, {
        method: "POST",
        headers: auth,
        body: "{}",
      })
    ).json()) as { token: string }
  ).token;
  const locked = await share({ password: "hills at dusk" });

  mkdirSync(out, { recursive: true });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  try {
    for (const [name, viewport] of [
      ["desktop", { width: 1280, height: 860 }],
      ["phone", { width: 390, height: 844 }],
    ] as const) {
      const context = await browser.newContext({ viewport, deviceScaleFactor: 1 });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on("response", (r) => {
        if (r.status() >= 400) errors.push(`${r.status()} ${r.url()}`);
      });
      page.on("console", (m) => {
        if (m.type() === "error") errors.push(m.text());
      });
      await page.goto(`${system.base}/s/${open}`, { waitUntil: "networkidle" });
      await page.screenshot({ path: join(out, `share-${name}.png`) });
      await page.goto(`${system.base}/s/${albumToken}`, { waitUntil: "networkidle" });
      await page.screenshot({ path: join(out, `share-album-${name}.png`) });
      await page.goto(`${system.base}/s/${locked}`, { waitUntil: "networkidle" });
      await page.screenshot({ path: join(out, `share-locked-${name}.png`) });
      await page.fill("#password", "hills at dusk");
      await Promise.all([page.waitForLoadState("networkidle"), page.click("button[type=submit]")]);
      const unlocked = await page.locator("picture img").count();
      if (unlocked !== 1) throw new Error("the password did not unlock the page");
      // The report form, opened and sent, as a viewer would.
      await page.click(".report summary");
      await page.selectOption("#reason", "spam");
      await page.fill("#note", "Posted in every comment section.");
      await page.locator(".report").screenshot({ path: join(out, `share-report-${name}.png`) });
      await Promise.all([page.waitForLoadState("networkidle"), page.click(".report button")]);
      if (!(await page.content()).includes("Thank you")) throw new Error("the report was not sent");
      if (errors.length > 0) throw new Error(`console errors: ${errors.join("; ")}`);
      await context.close();
      console.log(
        `${name}: share-${name}.png, share-album-${name}.png, share-locked-${name}.png, share-report-${name}.png`,
      );
    }
  } finally {
    await browser.close();
  }
} finally {
  system.stop();
}
