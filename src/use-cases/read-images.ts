import { canManage, type Principal } from "../domain/access";
import { canView, contentTypeFor, type VariantName } from "../domain/images";
import { moderationRefusal } from "../domain/moderation";
import { fail, type Outcome, ok } from "../domain/result";
import type { ImagePage, ImageWithVariants } from "../storage/image-repository";
import type { ImageRow } from "../storage/schema";
import type { Deps } from "./deps";

/** Opens a stored object, honouring conditional and range options. */
export type OpenObject = (options: R2GetOptions) => Promise<R2ObjectBody | R2Object | null>;

/** An image as its viewer may see it: 404 unless they may view it (never a 403). */
export async function getImage(
  deps: Pick<Deps, "images" | "control">,
  input: { imageId: string; principal: Principal | null },
): Promise<Outcome<ImageWithVariants>> {
  const found = await deps.images.getWithVariants(input.imageId);
  if (!found) return fail("image_not_found");
  if (!canView(found.image, input.principal)) {
    // A blocked image anyone could see before says so (451); everything else is a 404.
    const wasVisible = found.image.visibility !== "private";
    return found.image.moderation === "blocked" && wasVisible
      ? moderationRefusal("blocked")
      : fail("image_not_found");
  }
  if (!(await visibleTo(deps, found.image, input.principal))) return fail("image_not_found");
  return ok(found);
}

/**
 * Whether `principal` may see an image: `canView`, and a suspended owner's images are hidden
 * from everyone but the owner and admins.
 */
export async function visibleTo(
  deps: Pick<Deps, "control">,
  image: ImageRow,
  principal: Principal | null,
): Promise<boolean> {
  if (!canView(image, principal)) return false;
  return canManage(image, principal) || !(await deps.control.isSuspended(image.ownerId));
}

/**
 * The caller's images, newest first, with the variants of each served revision; optionally
 * only those with a tag or in an album (stable keyset pages: new uploads never shift them).
 */
export async function listImages(
  deps: Pick<Deps, "images">,
  input: {
    ownerId: string;
    limit: number;
    cursor: string | null;
    tag?: string | undefined;
    albumId?: string | undefined;
  },
): Promise<{ items: ImageWithVariants[]; nextCursor: ImagePage["nextCursor"] }> {
  const page = await deps.images.listByOwner(input.ownerId, input.limit, input.cursor, {
    tag: input.tag,
    albumId: input.albumId,
  });
  const variants = await deps.images.servedVariantsOf(page.items);
  return {
    items: page.items.map((image) => ({ image, variants: variants.get(image.id) ?? [] })),
    nextCursor: page.nextCursor,
  };
}

/** The path of a variant of the served revision and how long its signature may live. */
export async function viewPath(
  deps: Pick<Deps, "images" | "control" | "policy">,
  input: {
    imageId: string;
    principal: Principal | null;
    variant: VariantName;
    maxTtlSeconds: number;
  },
): Promise<Outcome<{ path: string; ttlSeconds: number }>> {
  const found = await getImage(deps, input);
  if (!found.ok) return found;
  const { image, variants } = found.value;
  // Delivery URLs do not serve it normally meanwhile; its owner and admins read /original.
  if (image.moderation !== "allowed") return moderationRefusal(image.moderation);
  // A reprocess keeps serving the previous revision until the new one is ready.
  if (image.servedRevision === null) {
    return fail("image_not_ready", `The image is ${image.status}.`);
  }
  if (!variants.some((v) => v.name === input.variant)) {
    return fail("variant_not_found", `No '${input.variant}' variant.`);
  }
  // The owner's policy may keep signed views shorter than the deployment does.
  const policy = await deps.policy(image.ownerId);
  return ok({
    path: `/d/${image.id}/${image.servedRevision}/${input.variant}`,
    ttlSeconds: Math.min(input.maxTtlSeconds, policy.signedUrlMaxTtl),
  });
}

/** The raw upload, for its owner: what it is and how to read it. */
export interface OriginalUpload {
  contentType: string;
  size: number;
  filename: string;
  open: OpenObject;
}

/** Opens the raw upload for its owner (or an admin). */
export async function openOriginal(
  deps: Pick<Deps, "images" | "store">,
  input: { imageId: string; principal: Principal },
): Promise<Outcome<OriginalUpload>> {
  const image = await deps.images.get(input.imageId);
  if (!image || !canManage(image, input.principal)) return fail("image_not_found");
  if (image.bytes === null) return fail("image_not_ready", "Nothing has been uploaded yet.");
  // Admins may still read what they review; the owner may not download what was taken down.
  if (image.moderation === "blocked" && !input.principal.admin) return moderationRefusal("blocked");
  return ok({
    contentType: image.format ? contentTypeFor(image.format) : "application/octet-stream",
    size: image.bytes,
    filename: image.filename ?? image.id,
    open: (options) => deps.store.getUpload(image.id, options),
  });
}
