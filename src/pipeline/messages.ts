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

/** Every event on the image-events queue. */
export const ImageEvent = z.discriminatedUnion("type", [ImageUploadedV1, ImageDeletedV1]);

export type ImageUploaded = z.infer<typeof ImageUploadedV1>;
export type ImageDeleted = z.infer<typeof ImageDeletedV1>;
export type ImageEvent = z.infer<typeof ImageEvent>;
