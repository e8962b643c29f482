/** Who is calling: a signed-in user (or an admin). */
export interface Principal {
  userId: string;
  admin: boolean;
}

/** Whether `principal` may manage (change, delete, download the upload of) an owner's image. */
export function canManage(image: { ownerId: string }, principal: Principal | null): boolean {
  return principal !== null && (principal.admin || principal.userId === image.ownerId);
}
