/**
 * The bytes `[offset, offset + length)` of a stream, passed through as they arrive (a Range
 * request answered from a cached body, which the Cache API hands out whole). The source is
 * cancelled once the slice is complete.
 */
export function sliceStream(
  source: ReadableStream<Uint8Array>,
  offset: number,
  length: number,
): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  let position = 0;
  const end = offset + length;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      for (;;) {
        if (position >= end) {
          controller.close();
          await reader.cancel().catch(() => undefined);
          return;
        }
        const { done, value } = await reader.read();
        if (done) {
          controller.error(new Error("stream ended before the requested range"));
          return;
        }
        const start = position;
        position += value.byteLength;
        const from = Math.max(0, offset - start);
        const to = Math.min(value.byteLength, end - start);
        if (to > from) {
          controller.enqueue(value.subarray(from, to));
          return;
        }
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}
