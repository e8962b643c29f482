import { ApiError } from "../domain/errors";
import { isImageId } from "../domain/ids";

/** An image id from the path; any other shape is an image that does not exist (404). */
export function imageIdParam(raw: string): string {
  if (!isImageId(raw)) throw new ApiError("image_not_found");
  return raw;
}

/** Strips a Google-style custom-method suffix (`abc:view` → `abc`) and checks the id shape. */
export function customMethodId(raw: string, method: string): string {
  return imageIdParam(raw.slice(0, -(method.length + 1)));
}
