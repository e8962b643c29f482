import type { HotlinkRules } from "../domain/hotlink";

/** What the view path needs to know of an owner, cached with their images. */
export interface OwnerProfile {
  /** Their own hotlink rules; null when they never set any (the policy's defaults apply). */
  rules: HotlinkRules | null;
  /** A suspended owner's images are served nowhere. */
  suspended: boolean;
}

import { FORMAT_CHOICES, type FormatChoice, VARIANT_NAMES } from "../domain/images";

/**
 * The only code that knows the delivery cache's key layout (Cache API, `caches.default`).
 *
 *   {CACHE_ORIGIN}/r/{id}/{slot}/{variant}/{choice}   one rendition's bytes and metadata
 *   {CACHE_ORIGIN}/owner/{owner}                      one owner's profile: hotlink rules, suspension
 *
 * `slot` is `current` (the stable URL: whatever revision is served) or a revision number
 * (revisioned and signed URLs); `choice` is a format class (`n-avif-webp`, `n-basic`, ...)
 * or a forced format (`f-jpeg`). The Cache API ignores `Vary`, so everything a response
 * depends on is in the key; the raw Accept header never is. Entries carry `Cache-Tag`
 * (`img-{id}`, `own-{hash}`, `hl-{hash}`) for the zone purge API.
 */
const CACHE_ORIGIN = "https://delivery-cache.image-host.internal";

/** How long entries live without a purge: a backstop, since every change purges them. */
const CURRENT_SLOT_TTL_SECONDS = 3600;
const REVISION_SLOT_TTL_SECONDS = 30 * 86400;
const OWNER_TTL_SECONDS = 86400;

/** Revisions below the newest whose entries a purge still deletes (older ones were purged when they were replaced). */
const PURGED_REVISIONS = 3;

/** Which cached rendition: the URL's image, revision slot, variant and format choice. */
export interface EntryRef {
  imageId: string;
  slot: "current" | number;
  variant: string;
  choice: FormatChoice;
}

/** What a cached rendition's response depends on besides its bytes. */
export interface RenditionMeta {
  ownerId: string;
  /** Public visibility: may be served on unsigned URLs (moderation permitting). */
  publiclyServable: boolean;
  /** The moderation state it was cached under (a change purges it; the gate reads it). */
  moderation: string;
  revision: number;
  format: string;
  contentType: string;
  size: number;
  etag: string;
  /** Unix milliseconds. */
  lastModified: number;
  /** The upload's file name, for `?download=1`. */
  filename: string | null;
}

/** A rendition found in the cache. */
export interface CachedRendition {
  meta: RenditionMeta;
  body: ReadableStream<Uint8Array>;
}

const META_HEADER = "X-Rendition-Meta";

/** The `Cache-Tag` of every entry of one image. */
export function imageTag(imageId: string): string {
  return `img-${imageId}`;
}

/** The tags of everything cached for one owner (images, rules); owner ids are hashed. */
export async function ownerTags(ownerId: string): Promise<{ owner: string; rules: string }> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(ownerId));
  const hex = [...new Uint8Array(digest).slice(0, 12)]
    .map((b) => b.toString(16).padStart(2, "0"))
    .join("");
  return { owner: `own-${hex}`, rules: `hl-${hex}` };
}

function choiceSegment(choice: FormatChoice): string {
  return choice.kind === "negotiate" ? `n-${choice.cls}` : `f-${choice.format}`;
}

function entryKey(ref: EntryRef): string {
  return `${CACHE_ORIGIN}/r/${ref.imageId}/${ref.slot}/${ref.variant}/${choiceSegment(ref.choice)}`;
}

function ownerKey(ownerId: string): string {
  return `${CACHE_ORIGIN}/owner/${encodeURIComponent(ownerId)}`;
}

function parseMeta(header: string | null): RenditionMeta | null {
  if (header === null) return null;
  try {
    const m: unknown = JSON.parse(decodeURIComponent(header));
    if (typeof m !== "object" || m === null) return null;
    const r = m as Record<string, unknown>;
    const ok =
      typeof r.ownerId === "string" &&
      typeof r.publiclyServable === "boolean" &&
      typeof r.moderation === "string" &&
      typeof r.revision === "number" &&
      typeof r.format === "string" &&
      typeof r.contentType === "string" &&
      typeof r.size === "number" &&
      typeof r.etag === "string" &&
      typeof r.lastModified === "number" &&
      (r.filename === null || typeof r.filename === "string");
    return ok ? (m as RenditionMeta) : null;
  } catch {
    return null;
  }
}

/** Edge cache of renditions and hotlink rules over one data centre's Cache API. */
export class DeliveryCache {
  constructor(private readonly cache: Cache) {}

  /** A cached rendition, or null (absent, expired or unreadable). */
  async get(ref: EntryRef): Promise<CachedRendition | null> {
    const hit = await this.cache.match(entryKey(ref));
    if (!hit?.body) return null;
    const meta = parseMeta(hit.headers.get(META_HEADER));
    if (!meta || meta.size !== Number(hit.headers.get("Content-Length"))) {
      await hit.body.cancel();
      return null;
    }
    return { meta, body: hit.body };
  }

  /** Stores a rendition's bytes under `ref`; resolves once the body has been read. */
  async put(ref: EntryRef, meta: RenditionMeta, body: ReadableStream<Uint8Array>): Promise<void> {
    const tags = await ownerTags(meta.ownerId);
    const ttl = ref.slot === "current" ? CURRENT_SLOT_TTL_SECONDS : REVISION_SLOT_TTL_SECONDS;
    await this.cache.put(
      entryKey(ref),
      new Response(body, {
        headers: {
          "Content-Type": meta.contentType,
          "Content-Length": String(meta.size),
          "Cache-Control": `public, max-age=${ttl}`,
          "Cache-Tag": `${imageTag(ref.imageId)},${tags.owner}`,
          [META_HEADER]: encodeURIComponent(JSON.stringify(meta)),
        },
      }),
    );
  }

  /** Deletes every entry of an image up to revision `newest`; returns how many existed. */
  async deleteImage(imageId: string, newest: number): Promise<number> {
    const slots: EntryRef["slot"][] = ["current"];
    for (let r = Math.max(1, newest - PURGED_REVISIONS + 1); r <= newest; r++) slots.push(r);
    const deletions: Promise<boolean>[] = [];
    for (const slot of slots) {
      for (const variant of VARIANT_NAMES) {
        for (const choice of FORMAT_CHOICES) {
          deletions.push(this.cache.delete(entryKey({ imageId, slot, variant, choice })));
        }
      }
    }
    return (await Promise.all(deletions)).filter(Boolean).length;
  }

  /** An owner's cached profile (hotlink rules, suspension), or null. */
  async getOwnerProfile(ownerId: string): Promise<OwnerProfile | null> {
    const hit = await this.cache.match(ownerKey(ownerId));
    if (!hit) return null;
    try {
      const value = (await hit.json()) as Partial<OwnerProfile>;
      return typeof value.suspended === "boolean" && value.rules !== undefined
        ? { rules: value.rules, suspended: value.suspended }
        : null;
    } catch {
      return null;
    }
  }

  /** Caches an owner's profile. */
  async putOwnerProfile(ownerId: string, profile: OwnerProfile): Promise<void> {
    const tags = await ownerTags(ownerId);
    await this.cache.put(
      ownerKey(ownerId),
      new Response(JSON.stringify(profile), {
        headers: {
          "Content-Type": "application/json",
          "Cache-Control": `public, max-age=${OWNER_TTL_SECONDS}`,
          "Cache-Tag": `${tags.rules},${tags.owner}`,
        },
      }),
    );
  }

  /** Forgets an owner's cached profile. */
  async deleteOwnerProfile(ownerId: string): Promise<void> {
    await this.cache.delete(ownerKey(ownerId));
  }
}
