import type { Principal } from "../domain/access";
import { fail, type Outcome, ok } from "../domain/result";
import type { Deps } from "./deps";
import { recordAdminAction } from "./policies";

/**
 * Suspends a user (admins): their uploads are refused and their images are served nowhere
 * (public, signed, share links, API, search) from the next request; this data centre's cached
 * copies stop at once (the owner profile every view reads) and the zone is purged by the
 * owner's tag. Audited.
 */
export async function setSuspension(
  deps: Pick<Deps, "control" | "invalidate" | "now" | "log">,
  input: { principal: Principal; userId: string; suspended: boolean; reason: string | null },
): Promise<Outcome<{ userId: string; suspended: boolean; changed: boolean }>> {
  if (!input.principal.admin) return fail("forbidden");
  const startedAt = deps.now();
  const reason = input.suspended ? (input.reason ?? "suspended by an admin") : null;
  const changed = await deps.control.setSuspended(input.userId, reason, startedAt);
  if (changed) {
    await deps.invalidate.purge({ kind: "owner", ownerId: input.userId }, "suspension", startedAt);
    await recordAdminAction(
      { control: deps.control, now: deps.now, log: deps.log },
      input.principal,
      input.suspended ? "user.suspend" : "user.unsuspend",
      input.userId,
      { reason },
    );
  }
  return ok({ userId: input.userId, suspended: input.suspended, changed });
}
