/**
 * libwebp's simple decoder (the only one @jsquash/webp ships) refuses animated files, so we cut
 * the first ANMF frame out and rewrap it as a still WebP. Pure byte work, no pixels.
 */

function chunk(fourcc: string, payload: Uint8Array): Uint8Array {
  const pad = payload.length & 1;
  const out = new Uint8Array(8 + payload.length + pad);
  for (let i = 0; i < 4; i++) out[i] = fourcc.charCodeAt(i);
  new DataView(out.buffer).setUint32(4, payload.length, true);
  out.set(payload, 8);
  return out;
}

function riff(parts: Uint8Array[]): Uint8Array {
  const body = parts.reduce((n, p) => n + p.length, 4);
  const out = new Uint8Array(8 + body);
  out.set([0x52, 0x49, 0x46, 0x46], 0);
  new DataView(out.buffer).setUint32(4, body, true);
  out.set([0x57, 0x45, 0x42, 0x50], 8);
  let o = 12;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Returns a still WebP holding the first frame of an animated WebP, or null if not animated. */
export function firstWebpFrame(bytes: Uint8Array): Uint8Array | null {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (o: number): string => String.fromCharCode(...bytes.subarray(o, o + 4));
  for (let o = 12; o + 8 <= bytes.length; ) {
    const size = dv.getUint32(o + 4, true);
    if (tag(o) === "ANMF" && size >= 16 + 8) {
      const frame = bytes.subarray(o + 8, o + 8 + size);
      const w = 1 + (frame[6] ?? 0) + ((frame[7] ?? 0) << 8) + ((frame[8] ?? 0) << 16);
      const h = 1 + (frame[9] ?? 0) + ((frame[10] ?? 0) << 8) + ((frame[11] ?? 0) << 16);
      const fdv = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
      let alph: Uint8Array | null = null;
      let image: Uint8Array | null = null;
      let imageTag = "";
      for (let p = 16; p + 8 <= frame.length; ) {
        const len = fdv.getUint32(p + 4, true);
        const t = String.fromCharCode(...frame.subarray(p, p + 4));
        const payload = frame.subarray(p + 8, p + 8 + len);
        if (t === "ALPH") alph = payload;
        if (t === "VP8 " || t === "VP8L") {
          image = payload;
          imageTag = t;
        }
        p += 8 + len + (len & 1);
      }
      if (!image) return null;
      if (!alph) return riff([chunk(imageTag, image)]);
      const vp8x = new Uint8Array(10);
      vp8x[0] = 0x10;
      vp8x.set([(w - 1) & 255, ((w - 1) >> 8) & 255, (w - 1) >> 16], 4);
      vp8x.set([(h - 1) & 255, ((h - 1) >> 8) & 255, (h - 1) >> 16], 7);
      return riff([chunk("VP8X", vp8x), chunk("ALPH", alph), chunk(imageTag, image)]);
    }
    o += 8 + size + (size & 1);
  }
  return null;
}
