/**
 * Cuts bytes that arrive in chunks of any size into equal parts: an R2 multipart upload
 * needs every part but the last to be the same size (and at least 5 MiB), while tus clients
 * choose their own chunk sizes. What does not fill a part yet is the tail, which the upload
 * session keeps durably between requests.
 */
export class PartPacker {
  private chunks: Uint8Array[] = [];
  private size = 0;

  constructor(
    readonly partSize: number,
    tail: readonly Uint8Array[] = [],
  ) {
    for (const chunk of tail) this.append(chunk);
  }

  private append(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.chunks.push(bytes);
    this.size += bytes.length;
  }

  /** Bytes waiting for a part. */
  get tailBytes(): number {
    return this.size;
  }

  /** Adds bytes; returns every part they complete (each exactly `partSize` long). */
  push(bytes: Uint8Array): Uint8Array[] {
    this.append(bytes);
    const parts: Uint8Array[] = [];
    while (this.size >= this.partSize) parts.push(this.take(this.partSize));
    return parts;
  }

  /** The tail as it is, for storing (not removed). */
  tail(): Uint8Array[] {
    return [...this.chunks];
  }

  /** Removes and returns the whole tail (the last part of an upload). */
  drain(): Uint8Array {
    return this.take(this.size);
  }

  private take(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const head = this.chunks[0];
      if (!head) break;
      const need = n - filled;
      if (head.length <= need) {
        out.set(head, filled);
        filled += head.length;
        this.chunks.shift();
      } else {
        out.set(head.subarray(0, need), filled);
        this.chunks[0] = head.subarray(need);
        filled += need;
      }
    }
    this.size -= filled;
    return out;
  }
}
