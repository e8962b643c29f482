/**
 * What a credential may do. A user's bearer token may do everything its user may; an API key
 * at most the scopes it was created with (docs/api.md, "API keys").
 */
export const SCOPES = [
  "images:read",
  "images:write",
  "shares:read",
  "shares:write",
  "settings:read",
  "settings:write",
] as const;
export type Scope = (typeof SCOPES)[number];

/** Who is calling: a signed-in user (or an admin), through a bearer token or an API key. */
export interface Principal {
  userId: string;
  /** Only ever true for a user token: an API key never acts as an admin. */
  admin: boolean;
  /** `all` for a user token; an API key's own scopes otherwise. */
  scopes: "all" | readonly Scope[];
  /** The API key this call authenticated with; absent for a user token. */
  apiKeyId?: string;
}

/** Whether `principal` may manage (change, delete, download the upload of) an owner's image. */
export function canManage(
  image: { ownerId: string },
  principal: Pick<Principal, "userId" | "admin"> | null,
): boolean {
  return principal !== null && (principal.admin || principal.userId === image.ownerId);
}

/** Whether a credential carries `scope`. */
export function hasScope(principal: Principal, scope: Scope): boolean {
  return principal.scopes === "all" || principal.scopes.includes(scope);
}
