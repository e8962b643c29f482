import { type SigningKeyring, signSubject, verifyPath } from "./url-signing";

/**
 * Cookie values signed with the URL-signing key ring (same keys, same rotation):
 * `{exp}.{kid}.{sig}[.{data}]`, where the MAC covers the purpose, key id, expiry and a subject
 * built from the data. Key ids must not contain a dot (cookie values carry them verbatim).
 */

/** What a share session cookie remembers about one share (its path scopes it to the share). */
export interface ShareSession {
  /** The share's password was given. */
  unlocked: boolean;
  /** This browser's view was counted (its page and image requests do not count again). */
  counted: boolean;
}

/** A parsed, verified cookie: its data fields and expiry. */
interface Verified {
  data: string[];
  expires: number;
}

const COOKIE_TEXT = /^[A-Za-z0-9_.-]{1,4000}$/;

async function sign(
  ring: SigningKeyring,
  purpose: "share-session" | "delivery-cookie",
  subject: string,
  data: string[],
  expires: number,
): Promise<string> {
  const { kid, exp, sig } = await signSubject(ring, purpose, subject, expires);
  return [exp, kid, sig, ...data].join(".");
}

async function verify(
  ring: SigningKeyring,
  purpose: "share-session" | "delivery-cookie",
  value: string | undefined,
  subjectOf: (data: string[]) => string,
  nowSeconds: number,
  maxLifetimeSeconds: number,
): Promise<Verified | null> {
  if (value === undefined || !COOKIE_TEXT.test(value)) return null;
  const [exp, kid, sig, ...data] = value.split(".");
  const check = await verifyPath(
    ring,
    purpose,
    subjectOf(data),
    { kid, exp, sig },
    nowSeconds,
    maxLifetimeSeconds,
  );
  return check === "valid" ? { data, expires: Number(exp) } : null;
}

// The share's id is signed, not its version: a revoked share (or a bumped version) is refused
// by the share lookup itself, whatever session a browser holds.
const shareSubject = (shareId: string, flags: string) => `${shareId}\n${flags}`;

/** The cookie value of a session of one share. */
export function shareSessionValue(
  ring: SigningKeyring,
  shareId: string,
  session: ShareSession,
  expires: number,
): Promise<string> {
  const flags = `${session.unlocked ? "u" : ""}${session.counted ? "c" : ""}` || "-";
  return sign(ring, "share-session", shareSubject(shareId, flags), [flags], expires);
}

/** The session a cookie value proves for this share; an empty session for anything else. */
export async function readShareSession(
  ring: SigningKeyring,
  value: string | undefined,
  shareId: string,
  nowSeconds: number,
  maxLifetimeSeconds: number,
): Promise<ShareSession> {
  const verified = await verify(
    ring,
    "share-session",
    value,
    (data) => shareSubject(shareId, data.join(".")),
    nowSeconds,
    maxLifetimeSeconds,
  );
  const flags = verified?.data.length === 1 ? (verified.data[0] ?? "") : "";
  return { unlocked: flags.includes("u"), counted: flags.includes("c") };
}

/** What a delivery cookie grants: a list of images, or every image of one album. */
export type DeliveryGrant =
  | { kind: "images"; imageIds: ReadonlySet<string> }
  | { kind: "album"; albumId: string };

// An album grant's data is ["album", id]: "album" can never be an image id (22 characters).
const ALBUM = "album";

/** The cookie value that lets its holder view a grant's images on `/d` without URL signatures. */
export function deliveryCookieValue(
  ring: SigningKeyring,
  grant: { imageIds: readonly string[] } | { albumId: string },
  expires: number,
): Promise<string> {
  const data = "albumId" in grant ? [ALBUM, grant.albumId] : [...grant.imageIds];
  return sign(ring, "delivery-cookie", data.join(","), data, expires);
}

/** What a delivery cookie grants, with its expiry; null when it is not valid. */
export async function readDeliveryCookie(
  ring: SigningKeyring,
  value: string | undefined,
  nowSeconds: number,
  maxLifetimeSeconds: number,
): Promise<{ grant: DeliveryGrant; expires: number } | null> {
  const verified = await verify(
    ring,
    "delivery-cookie",
    value,
    (data) => data.join(","),
    nowSeconds,
    maxLifetimeSeconds,
  );
  if (!verified || verified.data.length === 0) return null;
  const [first, second, ...rest] = verified.data;
  if (first === ALBUM && second !== undefined && rest.length === 0) {
    return { grant: { kind: "album", albumId: second }, expires: verified.expires };
  }
  return { grant: { kind: "images", imageIds: new Set(verified.data) }, expires: verified.expires };
}
