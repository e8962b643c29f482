/**
 * Bench inputs: 12 MP and 24 MP JPEGs that behave like camera photos. Byte ratios depend on
 * image statistics, so we use real photographs: the photo wallpapers in Debian's
 * plasma-workspace-wallpapers (2560x1600 JPEGs), cropped at native resolution (no upscaling,
 * which would smooth away the detail that decides encoded size) and mosaicked into a grid,
 * then saved at quality 92 with 4:2:0 like a camera. Everything is cached under bench/out.
 * Without apt (or offline) it falls back to a synthetic multi-scale noise image, and says so.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import path from "node:path";
import sharp from "sharp";

type OverlayOptions = Parameters<ReturnType<typeof sharp>["composite"]>[0][number];

const OUT = path.join(import.meta.dirname, "out");
const DEB_DIR = path.join(OUT, "deb");
const PHOTOS = ["Path", "Autumn", "ColorfulCups", "BytheWater", "FallenLeaf", "OneStandsOut"];
const PHOTO_DIR = path.join(DEB_DIR, "usr/share/wallpapers");

export interface BenchInputs {
  source: string;
  files: { label: string; path: string }[];
}

function photoPaths(): string[] {
  return PHOTOS.map((p) => path.join(PHOTO_DIR, p, "contents/images/2560x1600.jpg")).filter((p) =>
    existsSync(p),
  );
}

function fetchPhotos(): void {
  if (photoPaths().length > 0) return;
  mkdirSync(DEB_DIR, { recursive: true });
  try {
    execFileSync("apt-get", ["download", "plasma-workspace-wallpapers"], {
      cwd: OUT,
      stdio: "ignore",
    });
    const deb = readdirSync(OUT).find(
      (f) => f.startsWith("plasma-workspace-wallpapers") && f.endsWith(".deb"),
    );
    if (deb) execFileSync("dpkg-deb", ["-x", path.join(OUT, deb), DEB_DIR], { stdio: "ignore" });
  } catch {
    // Fall through to the synthetic input.
  }
}

async function mosaic(
  photos: string[],
  width: number,
  height: number,
  cols: number,
  rows: number,
): Promise<Buffer> {
  const tw = Math.ceil(width / cols);
  const th = Math.ceil(height / rows);
  const tiles: OverlayOptions[] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const i = r * cols + c;
      const src = photos[i % photos.length] ?? "";
      // Different crop offsets per reuse so no two tiles are identical.
      const left = Math.min(2560 - tw, ((i * 97) % 5) * 100);
      const top = Math.min(1600 - th, ((i * 53) % 3) * 100);
      const tile = await sharp(src).extract({ left, top, width: tw, height: th }).toBuffer();
      tiles.push({ input: tile, left: c * tw, top: r * th });
    }
  }
  return sharp({ create: { width: cols * tw, height: rows * th, channels: 3, background: "#000" } })
    .composite(tiles)
    .extract({ left: 0, top: 0, width, height })
    .jpeg({ quality: 92, chromaSubsampling: "4:2:0" })
    .toBuffer();
}

async function synthetic(width: number, height: number): Promise<Buffer> {
  // Sum of blurred noise at several scales approximates the 1/f spectrum of natural images.
  let acc = sharp({ create: { width, height, channels: 3, background: "#808080" } });
  const layers: OverlayOptions[] = [];
  for (const [scale, blend] of [
    [64, "overlay"],
    [8, "soft-light"],
    [1, "soft-light"],
  ] as const) {
    const w = Math.ceil(width / scale);
    const h = Math.ceil(height / scale);
    const noise = await sharp({
      create: {
        width: w,
        height: h,
        channels: 3,
        background: "#808080",
        noise: { type: "gaussian", mean: 128, sigma: 40 },
      },
    })
      .resize(width, height, { kernel: "cubic" })
      .png()
      .toBuffer();
    layers.push({ input: noise, blend });
  }
  acc = acc.composite(layers);
  return acc.jpeg({ quality: 92 }).toBuffer();
}

/**
 * Every wallpaper of the Debian package (real photos and a few artworks), fetched once into
 * bench/out; empty when apt cannot download it.
 */
export function wallpapers(): string[] {
  fetchPhotos();
  if (!existsSync(PHOTO_DIR)) return [];
  return readdirSync(PHOTO_DIR)
    .map((name) => path.join(PHOTO_DIR, name, "contents/images/2560x1600.jpg"))
    .filter((p) => existsSync(p));
}

/** Makes (or reuses) bench/out/photo-12mp.jpg and photo-24mp.jpg. */
export async function ensureInputs(): Promise<BenchInputs> {
  mkdirSync(OUT, { recursive: true });
  fetchPhotos();
  const photos = photoPaths();
  const real = photos.length >= 3;
  const prefix = real ? "photo" : "synthetic";
  const specs = [
    { label: "12MP", width: 4000, height: 3000, cols: 2, rows: 2 },
    { label: "24MP", width: 6000, height: 4000, cols: 3, rows: 3 },
  ];
  const files: BenchInputs["files"] = [];
  for (const s of specs) {
    const file = path.join(OUT, `${prefix}-${s.label.toLowerCase()}.jpg`);
    if (!existsSync(file)) {
      const buf = real
        ? await mosaic(photos, s.width, s.height, s.cols, s.rows)
        : await synthetic(s.width, s.height);
      await sharp(buf).toFile(file);
    }
    files.push({ label: s.label, path: file });
  }
  // Camera and phone exports as lossy WebP (q85) of the same photos.
  for (const s of specs) {
    const jpeg = path.join(OUT, `${prefix}-${s.label.toLowerCase()}.jpg`);
    const file = path.join(OUT, `${prefix}-${s.label.toLowerCase()}.webp`);
    if (!existsSync(file)) await sharp(jpeg).webp({ quality: 85 }).toFile(file);
    files.push({ label: `${s.label} WebP`, path: file });
  }
  return {
    source: real
      ? `real photos (Debian plasma-workspace-wallpapers: ${photos.map((p) => path.basename(path.dirname(path.dirname(path.dirname(p))))).join(", ")}), native-resolution crops mosaicked, q92 4:2:0`
      : "SYNTHETIC multi-scale noise (apt download unavailable): byte ratios less meaningful",
    files,
  };
}
