import { newImageId } from "../domain/ids";
import type { Visibility } from "../domain/images";
import { fail, type Outcome, ok } from "../domain/result";
import { normaliseTags } from "../domain/tags";
import type { ImageRow } from "../storage/schema";
import type { Deps } from "./deps";
import { requestIndexing } from "./search-index";

/** What a client may say about an image before uploading it. */
export interface NewImage {
  title?: string | undefined;
  description?: string | undefined;
  visibility: Visibility;
  filename?: string | undefined;
  contentType?: string | undefined;
  size?: number | undefined;
  /** As given: normalised here (domain/tags.ts). */
  tags?: readonly string[] | undefined;
}

/** Creates a `pending` image owned by `ownerId`; its bytes come through the upload URL. */
export async function createImage(
  deps: Pick<Deps, "images" | "events" | "now" | "metrics" | "log">,
  input: { ownerId: string; image: NewImage; maxUploadBytes: number },
): Promise<Outcome<ImageRow>> {
  const { image } = input;
  if (image.size !== undefined && image.size > input.maxUploadBytes) {
    return fail("upload_too_large", `The limit is ${input.maxUploadBytes} bytes.`);
  }
  const tags = normaliseTags(image.tags ?? []);
  if (!tags.ok) return tags;
  const now = deps.now();
  const row = await deps.images.create(
    {
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
    },
    tags.value,
  );
  // Its title, description and tags are searchable from the start.
  if (row.title !== null || row.description !== null || tags.value.length > 0) {
    await requestIndexing(deps, { kind: "images", imageIds: [row.id] });
  }
  deps.metrics.record({ name: "image.create", outcome: "created", imageId: row.id });
  return ok(row);
}
