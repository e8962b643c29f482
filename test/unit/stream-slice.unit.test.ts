import { describe, expect, it } from "vitest";
import { sliceStream } from "../../src/domain/stream-slice";

function chunked(bytes: Uint8Array, size: number): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(at, at + size));
      at += size;
    },
  });
}

async function collect(stream: ReadableStream<Uint8Array>): Promise<number[]> {
  return [...new Uint8Array(await new Response(stream).arrayBuffer())];
}

describe("sliceStream", () => {
  const bytes = Uint8Array.from({ length: 100 }, (_, i) => i);

  it("returns exactly the requested range across chunk boundaries", async () => {
    for (const size of [1, 7, 10, 100, 1000]) {
      for (const [offset, length] of [
        [0, 100],
        [0, 1],
        [99, 1],
        [5, 20],
        [30, 40],
      ] as const) {
        const got = await collect(sliceStream(chunked(bytes, size), offset, length));
        expect(got, `${size}/${offset}/${length}`).toEqual([
          ...bytes.slice(offset, offset + length),
        ]);
      }
    }
  });

  it("stops reading once the range is complete", async () => {
    let pulls = 0;
    const source = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulls++;
        controller.enqueue(new Uint8Array(10));
      },
    });
    expect(await collect(sliceStream(source, 0, 25))).toHaveLength(25);
    expect(pulls).toBeLessThanOrEqual(4);
  });

  it("errors when the source is shorter than the range", async () => {
    await expect(collect(sliceStream(chunked(bytes, 10), 90, 20))).rejects.toThrow(/ended/);
  });
});
