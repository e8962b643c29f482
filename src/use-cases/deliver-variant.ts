import {
  type BlockedResponse,
  DEFAULT_HOTLINK_RULES,
  hotlinkBeforeOwner,
  hotlinkWithOwner,
  type RefererOrigin,
  shareRefererAllowed,
} from "../domain/hotlink";
import { chooseFormat, type FormatChoice, type VariantName } from "../domain/images";
import { moderationGate, moderationRefusal, type PendingDelivery } from "../domain/moderation";
import { secondsUntilNextDay } from "../domain/policy";
import { fail, type Outcome, ok } from "../domain/result";
import { sliceStream } from "../domain/stream-slice";
import type { DeliveryCache, EntryRef, RenditionMeta } from "../storage/delivery-cache";
import type { Deps } from "./deps";
import { spendBudget } from "./hotlink-budget";
import { ownerProfileFor, type ProfileDeps } from "./owner-profile";

/** Who is asking: an unsigned public URL (hotlink rules apply), a verified signed URL or cookie, or an opened share. */
export type Viewer =
  | {
      kind: "public";
      referer: RefererOrigin;
      /** The host the request was sent to: the service's own pages are always allowed. */
      ownHost: string;
      globalAllowed: readonly string[];
    }
  | { kind: "signed" }
  /** Through a share link that was opened (use-cases/shares.ts): its own Referer list applies. */
  | {
      kind: "share";
      shareId: string;
      referer: RefererOrigin;
      ownHost: string;
      allowedReferers: readonly string[];
    };

/** One view of one variant. */
export interface DeliveryInput {
  imageId: string;
  variant: VariantName;
  /** `current` for the stable URL; revisioned and signed URLs name theirs. */
  revision: number | "current";
  viewer: Viewer;
  choice: FormatChoice;
  /** A plain full GET: a miss is then also stored in the cache while it streams. */
  fill: boolean;
}

/** A byte range of a rendition. */
export interface ByteRange {
  offset: number;
  length: number;
}

/** A rendition ready to serve: its metadata first, its bytes only when asked for. */
export interface Rendition {
  kind: "rendition";
  meta: RenditionMeta;
  /** Whether it came from the edge cache (no D1, no R2). */
  cached: boolean;
  /** The bytes, or the range of them; null when storage lost them meanwhile. */
  body(range?: ByteRange): Promise<ReadableStream<Uint8Array> | null>;
  /** Releases the cached body when no bytes are sent (304, HEAD, errors). */
  discard(): Promise<void>;
}

/** What the view gets. */
export type Delivery =
  | Rendition
  | { kind: "blocked"; response: BlockedResponse }
  /** The client is over its rate of views the edge cache could not answer. */
  | { kind: "throttled" }
  /** Under review, served blurred (MODERATION_PENDING_DELIVERY=blurred): the processor's placeholder. */
  | { kind: "blurred"; body: ReadableStream<Uint8Array> }
  /** A daily budget of views (the owner's embedded views, or one share link's) is spent. */
  | {
      kind: "over_budget";
      response: "placeholder" | "429";
      retryAfterSeconds: number;
      detail: string;
    };

/** What delivery uses: D1 and R2 on a miss only, the edge cache, the owner's profile. */
export type DeliveryDeps = Pick<Deps, "images" | "store" | "log" | "policy"> &
  ProfileDeps & {
    cache: DeliveryCache;
    /**
     * Counts one view that reaches D1 and R2 against the client's rate; false when over it.
     * Hits are not counted: they cost the origin nothing.
     */
    admitOrigin(): Promise<boolean>;
    /** How images under review are served (MODERATION_PENDING_DELIVERY). */
    pendingDelivery: PendingDelivery;
  };

/**
 * What moderation lets this view have, on hits and misses alike: null to serve it, or what to
 * answer instead (404 as if private, 451, or the blurred placeholder).
 */
async function moderationVerdict(
  deps: DeliveryDeps,
  image: { id: string; moderation: string; revision: number },
): Promise<Outcome<Delivery> | null> {
  switch (moderationGate(image.moderation, deps.pendingDelivery)) {
    case "serve":
      return null;
    case "hide":
      return fail("image_not_found");
    case "unavailable":
      return moderationRefusal(image.moderation);
    case "blur": {
      // Until the processor has made the preview, the image is simply unavailable.
      const obj = await deps.store.getVariant(image.id, image.revision, "blurred", "webp");
      return obj && "body" in obj
        ? ok({ kind: "blurred", body: obj.body })
        : moderationRefusal(image.moderation);
    }
  }
}

/**
 * What the owner decides about this view, on hits and misses alike: a suspended owner's
 * images are not found; on unsigned URLs their hotlink rules (or the policy's defaults) and
 * the daily budget of embedded views apply. Null: serve it.
 */
async function ownerVerdict(
  deps: DeliveryDeps,
  viewer: Viewer,
  ownerId: string,
): Promise<Outcome<Delivery | null>> {
  const profile = await ownerProfileFor(deps, ownerId);
  if (profile.suspended) return fail("image_not_found");
  if (viewer.kind === "signed") return ok(null);
  const policy = await deps.policy(ownerId);
  const overBudget = (detail: string): Outcome<Delivery> =>
    ok({
      kind: "over_budget",
      response: policy.overBudgetResponse,
      retryAfterSeconds: secondsUntilNextDay(deps.now()),
      detail,
    });
  if (viewer.kind === "share") {
    if (!shareRefererAllowed(viewer.referer, viewer.ownHost, viewer.allowedReferers)) {
      return ok({ kind: "blocked", response: "403" });
    }
    const spent = !(await spendBudget(deps, `share:${viewer.shareId}`, policy.shareRequestsPerDay));
    return spent ? overBudget("This share link's daily budget of views is spent.") : ok(null);
  }
  const globalAllowed = [...viewer.globalAllowed, ...policy.hotlinkAllowedReferers];
  if (hotlinkBeforeOwner(viewer.referer, viewer.ownHost, globalAllowed) === "allowed") {
    return ok(null);
  }
  const rules = profile.rules ?? {
    ...DEFAULT_HOTLINK_RULES,
    allowEmptyReferer: policy.hotlinkAllowEmptyReferer,
  };
  if (hotlinkWithOwner(viewer.referer, globalAllowed, rules) !== "allowed") {
    return ok({ kind: "blocked", response: rules.blockedResponse });
  }
  // Only views embedded on other sites spend the owner's hotlink budget.
  if (
    viewer.referer.kind === "site" &&
    !(await spendBudget(deps, `hotlink:${ownerId}`, policy.hotlinkRequestsPerDay))
  ) {
    return overBudget("This owner's daily budget of embedded views is spent.");
  }
  return ok(null);
}

/**
 * What this view gets instead of the rendition, on hits and misses alike, or null to serve it:
 * the owner's verdict first (a suspended owner's images are not found whatever their state),
 * then moderation's.
 */
async function viewVerdict(
  deps: DeliveryDeps,
  viewer: Viewer,
  image: { id: string; ownerId: string; moderation: string; revision: number },
): Promise<Outcome<Delivery> | null> {
  const verdict = await ownerVerdict(deps, viewer, image.ownerId);
  if (!verdict.ok) return verdict;
  if (verdict.value) return ok(verdict.value);
  return moderationVerdict(deps, image);
}

/**
 * Finds what to serve for one view: from the edge cache when it holds the rendition (a hit
 * reads neither D1 nor R2), otherwise from D1 and R2, filling the cache on a full GET. The
 * access rules are the same either way: public URLs serve public images only, under the
 * owner's hotlink rules; signed URLs were verified before this is called.
 */
export async function deliverVariant(
  deps: DeliveryDeps,
  input: DeliveryInput,
): Promise<Outcome<Delivery>> {
  const ref: EntryRef = {
    imageId: input.imageId,
    slot: input.revision,
    variant: input.variant,
    choice: input.choice,
  };
  const hit = await deps.cache.get(ref);
  if (hit) {
    const { meta } = hit;
    if (input.viewer.kind === "public" && !meta.publiclyServable) {
      await hit.body.cancel();
      return fail("image_not_found");
    }
    const refusal = await viewVerdict(deps, input.viewer, {
      id: input.imageId,
      ownerId: meta.ownerId,
      moderation: meta.moderation,
      revision: meta.revision,
    });
    if (refusal) {
      await hit.body.cancel();
      return refusal;
    }
    let body: ReadableStream<Uint8Array> | null = hit.body;
    const take = () => {
      const taken = body;
      body = null;
      return taken;
    };
    return ok({
      kind: "rendition",
      meta,
      cached: true,
      async body(range) {
        const whole = take();
        if (!whole || !range) return whole;
        return sliceStream(whole, range.offset, range.length);
      },
      async discard() {
        await take()?.cancel();
      },
    });
  }
  return deliverFromOrigin(deps, input, ref);
}

async function deliverFromOrigin(
  deps: DeliveryDeps,
  input: DeliveryInput,
  ref: EntryRef,
): Promise<Outcome<Delivery>> {
  if (!(await deps.admitOrigin())) return ok({ kind: "throttled" });
  const found =
    input.revision === "current"
      ? await deps.images.getWithVariants(input.imageId)
      : await deps.images.getWithRevision(input.imageId, input.revision);
  if (!found) return fail("image_not_found");
  const { image, variants } = found;
  const publiclyServable = image.visibility === "public";
  if (input.viewer.kind === "public" && !publiclyServable) return fail("image_not_found");
  const revision = input.revision === "current" ? image.servedRevision : input.revision;
  if (revision === null) return fail("image_not_found");
  const rows = variants.filter((v) => v.name === input.variant);
  if (rows.length === 0) return fail("variant_not_found");
  const format = chooseFormat(
    rows.map((r) => r.format),
    input.choice,
  );
  const row = rows.find((r) => r.format === format);
  if (!row) {
    return fail(
      "format_not_available",
      `This variant is stored as ${rows.map((r) => r.format).join(", ")}.`,
    );
  }
  const refusal = await viewVerdict(deps, input.viewer, {
    id: image.id,
    ownerId: image.ownerId,
    moderation: image.moderation,
    revision,
  });
  if (refusal) return refusal;
  const meta: RenditionMeta = {
    ownerId: image.ownerId,
    publiclyServable,
    moderation: image.moderation,
    revision,
    format: row.format,
    contentType: row.contentType,
    size: row.bytes,
    etag: row.etag,
    lastModified: row.createdAt,
    filename: image.filename,
  };
  return ok({
    kind: "rendition",
    meta,
    cached: false,
    async body(range) {
      const obj = await deps.store.getVariant(
        image.id,
        revision,
        row.name,
        row.format,
        range ? { range } : {},
      );
      if (!obj || !("body" in obj)) return null;
      if (range || !input.fill) return obj.body;
      const [client, fill] = obj.body.tee();
      deps.background(
        deps.cache
          .put(ref, meta, fill)
          .catch((err: unknown) => deps.log.warn("cache_fill_failed", { imageId: image.id, err })),
      );
      return client;
    },
    async discard() {},
  });
}
