import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { ProcessorEnv } from "../../src/config/processor";
import { newImageId } from "../../src/domain/ids";
import type { RgbaImage } from "../../src/pipeline/codecs";
import { createWorkerdCodecs } from "../../src/pipeline/codecs-workerd";
import type { ImageEvent } from "../../src/pipeline/messages";
import { ImageRepository } from "../../src/storage/image-repository";
import { ObjectStore } from "../../src/storage/object-store";
import processor from "../../workers/processor";

const codecs = createWorkerdCodecs();
const repo = new ImageRepository(env.DB);
const store = new ObjectStore(env.BUCKET);

/** A smooth RGBA test picture; `alpha` makes its left half transparent. */
export function gradient(width: number, height: number, alpha = false): RgbaImage {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      data[i] = (x * 255) / width;
      data[i + 1] = (y * 255) / height;
      data[i + 2] = 128;
      data[i + 3] = alpha ? (x < width / 2 ? 0 : 255) : 255;
    }
  }
  return { width, height, data };
}

/** Encodes a test picture with the processor's own codecs. */
export async function encoded(image: RgbaImage, format: "jpeg" | "png"): Promise<Uint8Array> {
  const result = await codecs.encode(image, format, { quality: 90 });
  if (!result.ok) throw new Error(result.error.detail);
  return result.value;
}

/** Puts an image in the `uploaded` state with these bytes, as the edge's PUT does. */
export async function uploaded(bytes: Uint8Array, owner = "alice"): Promise<string> {
  const id = newImageId();
  const now = Date.now();
  await repo.create({ id, ownerId: owner, createdAt: now, updatedAt: now });
  await repo.claimUpload(id, now);
  const body = new Blob([bytes]).stream();
  const stream = new FixedLengthStream(bytes.byteLength);
  void body.pipeTo(stream.writable);
  await store.putUpload(id, stream.readable, "application/octet-stream");
  await repo.markUploaded(id, now, bytes.byteLength, now);
  return id;
}

/** The ImageUploaded event of a revision. */
export function event(imageId: string, revision = 1): ImageEvent {
  return { type: "ImageUploaded", v: 1, imageId, revision, uploadedAt: Date.now() };
}

/** Delivers one batch to the processor's queue handler and returns what it acked or retried. */
export async function deliver(
  queue: string,
  bodies: unknown[],
  options: { bindings?: ProcessorEnv; attempts?: number } = {},
) {
  const batch = createMessageBatch(
    queue,
    bodies.map((body, i) => ({
      id: `m${i}-${crypto.randomUUID()}`,
      timestamp: new Date(),
      attempts: options.attempts ?? 1,
      body,
    })),
  );
  const ctx = createExecutionContext();
  await processor.queue(batch, options.bindings ?? env, ctx);
  return getQueueResult(batch, ctx);
}
