/**
 * `npx tsx bench/colour.ts` (through the shared test lock): what converting a P3 source to sRGB
 * costs in transformImage, and the bytes of that choice on the thumb against the alternative,
 * keeping the device pixels and carrying the profile in every thumb.
 *
 * Input: the 12 MP photo mosaic of bench/photos.ts (COLOUR_BENCH_INPUT overrides the path),
 * tagged as Display P3 by splicing the profile of test/fixtures/jpeg/full-metadata.jpg.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import sharp from "sharp";
import { decideColour, readColourSource } from "../src/pipeline/colour-source";
import { applyColourTransform, decideForIcc } from "../src/pipeline/icc";
import { DEFAULT_TRANSFORM_OPTIONS } from "../src/pipeline/presets";
import { transformImage } from "../src/pipeline/transform";
import type { EncodedVariant, TransformOptions } from "../src/pipeline/types";
import { spliceIcc } from "../test/helpers/icc-build";
import { createNodeCodecs } from "./node-codecs";
import { ensureInputs } from "./photos";

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 20);

function stats(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  const med = s[Math.floor(s.length / 2)] ?? Number.NaN;
  return `median ${med.toFixed(2)} ms (min ${(s[0] ?? 0).toFixed(2)}, max ${(s[s.length - 1] ?? 0).toFixed(2)}, n=${s.length})`;
}

function time(n: number, f: () => void): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    f();
    out.push(performance.now() - t);
  }
  return out;
}

/** A simple (VP8/VP8L) WebP rewritten as extended, with an ICCP chunk before the bitstream. */
function webpWithIcc(webp: Uint8Array, icc: Uint8Array, width: number, height: number): Uint8Array {
  const chunk = (fourcc: string, data: Uint8Array): Uint8Array => {
    const out = new Uint8Array(8 + data.length + (data.length & 1));
    out.set([...fourcc].map((c) => c.charCodeAt(0)));
    new DataView(out.buffer).setUint32(4, data.length, true);
    out.set(data, 8);
    return out;
  };
  const vp8x = new Uint8Array(10);
  vp8x[0] = 0x20; // ICC flag
  const dv = new DataView(vp8x.buffer);
  dv.setUint16(4, (width - 1) & 0xffff, true);
  vp8x[6] = ((width - 1) >> 16) & 255;
  dv.setUint16(7, (height - 1) & 0xffff, true);
  vp8x[9] = ((height - 1) >> 16) & 255;
  const body = webp.subarray(12);
  const parts = [new TextEncoder().encode("WEBP"), chunk("VP8X", vp8x), chunk("ICCP", icc), body];
  const payload = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    payload.set(p, at);
    at += p.length;
  }
  return chunk("RIFF", payload);
}

async function main(): Promise<void> {
  const input =
    process.env.COLOUR_BENCH_INPUT ??
    (await ensureInputs()).files.find((f) => f.label === "12MP")?.path;
  if (!input) throw new Error("no 12 MP input");
  const photo = new Uint8Array(readFileSync(input));
  const fixture = new Uint8Array(
    readFileSync(path.join(import.meta.dirname, "../test/fixtures/jpeg/full-metadata.jpg")),
  );
  const src = await readColourSource(fixture, "jpeg");
  if (src?.kind !== "icc") throw new Error("fixture has no profile");
  const p3 = src.bytes;
  const tagged = spliceIcc(photo, p3);
  console.log(`input ${input} (${photo.length} bytes), P3 profile ${p3.length} bytes`);

  // 1. The conversion alone, on a 2048x1536 frame.
  const frame = await sharp(Buffer.from(photo))
    .resize(2048, 1536, { fit: "fill" })
    .ensureAlpha()
    .raw()
    .toBuffer();
  const decision = decideColour(src);
  if (decision.kind !== "convert") throw new Error("expected a conversion");
  const data = new Uint8Array(frame);
  for (let i = 0; i < 3; i++)
    applyColourTransform({ width: 2048, height: 1536, data }, decision.transform);
  console.log(
    `applyColourTransform 2048x1536: ${stats(time(ITERATIONS, () => applyColourTransform({ width: 2048, height: 1536, data }, decision.transform)))}`,
  );
  // 2. Finding and deciding (what every upload pays, sRGB or not).
  const find: number[] = [];
  for (let i = 0; i < ITERATIONS; i++) {
    const t = performance.now();
    decideColour(await readColourSource(tagged, "jpeg"));
    find.push(performance.now() - t);
  }
  console.log(`readColourSource + decide, 12 MP P3 JPEG: ${stats(find)}`);
  const srgbProfile = new Uint8Array(
    (
      await sharp(Buffer.from(photo))
        .resize(8)
        .withIccProfile("srgb")
        .jpeg()
        .toBuffer()
        .then((b) => sharp(b).metadata())
    ).icc ?? [],
  );
  console.log(
    `decideForIcc(sRGB profile, ${srgbProfile.length} bytes) -> ${decideForIcc(srgbProfile).kind}: ${stats(time(ITERATIONS, () => decideForIcc(srgbProfile)))}`,
  );

  // 3. The whole transform, tagged vs untagged, and the thumb bytes of each choice.
  const codecs = await createNodeCodecs();
  const opts: TransformOptions = { ...DEFAULT_TRANSFORM_OPTIONS, avifPresets: ["thumb"] };
  const run = async (bytes: Uint8Array) => {
    const r = await transformImage(bytes, opts, codecs);
    if (!r.ok) throw new Error(r.error.detail);
    return r.value;
  };
  const runs = Number(process.env.BENCH_TRANSFORMS ?? 3);
  const decodeTagged: number[] = [];
  const decodePlain: number[] = [];
  let converted = await run(tagged);
  let plain = await run(photo);
  for (let i = 0; i < runs; i++) {
    converted = await run(tagged);
    decodeTagged.push(converted.timings.decodeMs);
    plain = await run(photo);
    decodePlain.push(plain.timings.decodeMs);
  }
  console.log(`transformImage colour: tagged "${converted.colour}", untagged "${plain.colour}"`);
  console.log(`decodeMs (decode + colour) tagged:   ${stats(decodeTagged)}`);
  console.log(`decodeMs (decode)          untagged: ${stats(decodePlain)}`);

  const thumb = (vs: EncodedVariant[], f: string) =>
    vs.find((v) => v.name === "thumb" && v.format === f);
  for (const f of ["jpeg", "webp", "avif"]) {
    const a = thumb(converted.variants, f);
    const b = thumb(plain.variants, f);
    if (!a || !b) continue;
    let withProfile: number | string = "n/a";
    if (f === "jpeg") withProfile = spliceIcc(b.bytes, p3).length;
    else if (f === "webp" && new TextDecoder().decode(b.bytes.subarray(12, 16)) !== "VP8X") {
      const w = webpWithIcc(b.bytes, p3, b.width, b.height);
      const meta = await sharp(Buffer.from(w)).metadata();
      if (meta.icc?.length !== p3.length) throw new Error("spliced WebP profile unreadable");
      withProfile = w.length;
    }
    console.log(
      `thumb ${f} ${a.width}x${a.height}: converted ${a.bytes.length} B; device pixels ${b.bytes.length} B, + P3 profile ${withProfile} B`,
    );
  }
}

await main();
