import { z } from "zod";

/** An upload is stored and ready to be processed at `revision`. */
export const ImageUploadedV1 = z.object({
  type: z.literal("ImageUploaded"),
  v: z.literal(1),
  imageId: z.string().min(1),
  revision: z.number().int().positive(),
  uploadedAt: z.number().int().nonnegative(),
});

/** An image was deleted; its objects and rows must be purged. */
export const ImageDeletedV1 = z.object({
  type: z.literal("ImageDeleted"),
  v: z.literal(1),
  imageId: z.string().min(1),
});

/**
 * A ready image should get its slow variants (AVIF). Sent by the processor after `ready`,
 * so an upload is viewable in the time WebP/JPEG take and AVIF follows.
 */
export const SlowVariantsRequestedV1 = z.object({
  type: z.literal("SlowVariantsRequested"),
  v: z.literal(1),
  imageId: z.string().min(1),
  revision: z.number().int().positive(),
});

/** Every event on the image-events queue. */
export const ImageEvent = z.discriminatedUnion("type", [
  ImageUploadedV1,
  ImageDeletedV1,
  SlowVariantsRequestedV1,
]);

export type ImageUploaded = z.infer<typeof ImageUploadedV1>;
export type ImageDeleted = z.infer<typeof ImageDeletedV1>;
export type SlowVariantsRequested = z.infer<typeof SlowVariantsRequestedV1>;
export type ImageEvent = z.infer<typeof ImageEvent>;
