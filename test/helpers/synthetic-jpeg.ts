/**
 * A baseline 4:2:0 JPEG of any size, written directly (DC coefficients only), so tests can use
 * 24–100 MP inputs without shipping them: a 48 MP file is ~0.8 MB and takes milliseconds to
 * make. Each 16x16 MCU is one flat colour chosen by `color(x, y)` at the MCU's centre, so
 * decoded pixels can be checked for orientation and scaling.
 */

type Rgb = readonly [number, number, number];

class BitWriter {
  private readonly bytes: number[] = [];
  private acc = 0;
  private n = 0;

  write(value: number, length: number): void {
    for (let i = length - 1; i >= 0; i--) {
      this.acc = (this.acc << 1) | ((value >> i) & 1);
      if (++this.n === 8) this.flushByte();
    }
  }

  private flushByte(): void {
    this.bytes.push(this.acc);
    // 0xFF in entropy data must be followed by a stuffed zero byte.
    if (this.acc === 0xff) this.bytes.push(0);
    this.acc = 0;
    this.n = 0;
  }

  finish(): number[] {
    while (this.n !== 0) this.write(1, 1);
    return this.bytes;
  }
}

function segment(marker: number, payload: readonly number[]): number[] {
  const len = payload.length + 2;
  return [0xff, marker, len >> 8, len & 255, ...payload];
}

function ycc([r, g, b]: Rgb): [number, number, number] {
  return [
    0.299 * r + 0.587 * g + 0.114 * b,
    128 - 0.168736 * r - 0.331264 * g + 0.5 * b,
    128 + 0.5 * r - 0.418688 * g - 0.081312 * b,
  ];
}

/** Writes a baseline JPEG whose MCUs take the colour `color` gives for their centre. */
export function syntheticJpeg(
  width: number,
  height: number,
  color: (x: number, y: number) => Rgb,
): Uint8Array {
  // Quantiser 8 everywhere: a block's DC coefficient is then its mean minus 128.
  const dqt = segment(0xdb, [0x00, ...new Array<number>(64).fill(8)]);
  const sof = segment(0xc0, [
    8,
    height >> 8,
    height & 255,
    width >> 8,
    width & 255,
    3,
    ...[1, 0x22, 0],
    ...[2, 0x11, 0],
    ...[3, 0x11, 0],
  ]);
  // DC table: the 12 size categories, each a 4-bit code equal to the category. AC table: only
  // end-of-block, coded as the single bit 0.
  const dcCounts = [0, 0, 0, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
  const dht = segment(0xc4, [
    0x00,
    ...dcCounts,
    ...Array.from({ length: 12 }, (_, i) => i),
    0x10,
    1,
    ...new Array<number>(15).fill(0),
    0x00,
  ]);
  const sos = segment(0xda, [3, 1, 0x00, 2, 0x00, 3, 0x00, 0, 63, 0]);

  const bits = new BitWriter();
  const pred = [0, 0, 0];
  const block = (component: number, dc: number): void => {
    const diff = dc - (pred[component] ?? 0);
    pred[component] = dc;
    const size = diff === 0 ? 0 : Math.floor(Math.log2(Math.abs(diff))) + 1;
    bits.write(size, 4);
    if (size > 0) bits.write(diff > 0 ? diff : diff + (1 << size) - 1, size);
    bits.write(0, 1);
  };
  const mcusX = Math.ceil(width / 16);
  const mcusY = Math.ceil(height / 16);
  for (let my = 0; my < mcusY; my++) {
    for (let mx = 0; mx < mcusX; mx++) {
      const cx = Math.min(width - 1, mx * 16 + 8);
      const cy = Math.min(height - 1, my * 16 + 8);
      const [y, cb, cr] = ycc(color(cx, cy)).map((v) => Math.round(v - 128));
      for (let i = 0; i < 4; i++) block(0, y ?? 0);
      block(1, cb ?? 0);
      block(2, cr ?? 0);
    }
  }
  return new Uint8Array([0xff, 0xd8, ...dqt, ...sof, ...dht, ...sos, ...bits.finish(), 0xff, 0xd9]);
}
