// Writes the 512x512 "photo-like" PNG that scripts/make-fixtures.sh encodes into
// test/fixtures/heic/grid-tile-512.heic (the tile test/helpers/synthetic-heic.ts repeats into
// 24 and 48 MP grids). Red on the left, blue on the right, brighter at the top, so a rotated
// grid shows which way is up; smooth waves on top so libde265 decodes a real texture.
// Usage: node scripts/make-heic-tile.cjs out.png   (needs the repo's sharp)
const sharp = require("sharp");
const W = 512;
const H = 512;
const px = Buffer.alloc(W * H * 3);
for (let y = 0; y < H; y++) {
  for (let x = 0; x < W; x++) {
    const u = x / (W - 1);
    const v = y / (H - 1);
    const t =
      18 * Math.sin(x / 23 + Math.sin(y / 41) * 2) +
      14 * Math.sin(y / 17 + x / 61) +
      8 * Math.sin((x + y) / 9);
    const k = 1 - 0.45 * v;
    const i = (y * W + x) * 3;
    px[i] = Math.max(0, Math.min(255, (230 * (1 - u) + 25 + t) * k));
    px[i + 1] = Math.max(0, Math.min(255, (70 + t * 1.5) * k));
    px[i + 2] = Math.max(0, Math.min(255, (230 * u + 25 - t) * k));
  }
}
sharp(px, { raw: { width: W, height: H, channels: 3 } })
  .png()
  .toFile(process.argv[2]);
