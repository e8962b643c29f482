// Makes the two large AVIF fixtures (test/fixtures/avif-large/): 4032x3024 and 6000x4000,
// 8-bit 4:2:0, quality 50, as a phone or camera exports them. The content is smooth on
// purpose (gradients and flat blocks, see largeAvifColor in test/helpers/large-avif.ts), so
// each file stays a few KB; decoding memory does not depend on the content. The 12 MP one has
// an Exif item, so a test can make its metadata unstrippable and get the re-encoded original.
// Run: node scripts/make-large-avif.mjs
import { mkdirSync } from "node:fs";
import sharp from "sharp";

const out = new URL("../test/fixtures/avif-large/", import.meta.url);
mkdirSync(out, { recursive: true });

/** Keep in step with largeAvifColor in test/helpers/large-avif.ts. */
function color(x, y, w, h) {
  const u = x / w;
  const v = y / h;
  // Three flat blocks at fixed fractions of the frame: they tell the corners apart.
  if (u >= 0.1 && u < 0.3 && v >= 0.1 && v < 0.3) return [220, 40, 40];
  if (u >= 0.7 && u < 0.9 && v >= 0.1 && v < 0.3) return [40, 60, 220];
  if (u >= 0.4 && u < 0.6 && v >= 0.6 && v < 0.8) return [40, 200, 60];
  return [Math.round(40 + 180 * u), Math.round(40 + 180 * v), 128];
}

for (const [w, h] of [
  [4032, 3024],
  [6000, 4000],
]) {
  const raw = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const [r, g, b] = color(x, y, w, h);
      const i = (y * w + x) * 3;
      raw[i] = r;
      raw[i + 1] = g;
      raw[i + 2] = b;
    }
  }
  const file = new URL(`${w}x${h}.avif`, out);
  let img = sharp(raw, { raw: { width: w, height: h, channels: 3 } });
  if (w === 4032) img = img.withExif({ IFD0: { Copyright: "large-avif fixture" } });
  const info = await img
    .avif({ quality: 50, chromaSubsampling: "4:2:0", effort: 4 })
    .toFile(file.pathname);
  console.log(file.pathname, info.size);
}
