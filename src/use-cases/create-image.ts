import { newImageId } from "../domain/ids";
import type { Visibility } from "../domain/images";
import { fail, type Outcome, ok } from "../domain/result";
import type { ImageRow } from "../storage/schema";
import type { Deps } from "./deps";

/** What a client may say about an image before uploading it. */
export interface NewImage {
  title?: string | undefined;
  description?: string | undefined;
  visibility: Visibility;
  filename?: string | undefined;
  contentType?: string | undefined;
  size?: number | undefined;
}

/** Creates a `pending` image owned by `ownerId`; its bytes come through the upload URL. */
export async function createImage(
  deps: Pick<Deps, "images" | "now" | "metrics">,
  input: { ownerId: string; image: NewImage; maxUploadBytes: number },
): Promise<Outcome<ImageRow>> {
  const { image } = input;
  if (image.size !== undefined && image.size > input.maxUploadBytes) {
    return fail("upload_too_large", `The limit is ${input.maxUploadBytes} bytes.`);
  }
  const now = deps.now();
  const row = await deps.images.create({
    id: newImageId(),
    ownerId: input.ownerId,
    title: image.title ?? null,
    description: image.description ?? null,
    visibility: image.visibility,
    filename: image.filename ?? null,
    declaredContentType: image.contentType ?? null,
    declaredSize: image.size ?? null,
    createdAt: now,
    updatedAt: now,
  });
  deps.metrics.record({ name: "image.create", outcome: "created", imageId: row.id });
  return ok(row);
}
