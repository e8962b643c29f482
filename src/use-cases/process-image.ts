import { contentTypeFor } from "../domain/images";
import type { ClassifierRules } from "../domain/moderation";
import type { Policy } from "../domain/policy";
import type { Classifier } from "../moderation/classifier";
import { fail } from "../pipeline/bytes";
import type {
  ClassificationRequested,
  ImageDeleted,
  ImageEvent,
  ImageUploaded,
  ModerationDecision,
  SlowVariantsRequested,
} from "../pipeline/messages";
import { DEFAULT_TRANSFORM_OPTIONS } from "../pipeline/presets";
import { sniffFormat } from "../pipeline/sniff";
import type {
  EncodedVariant,
  Result,
  TransformError,
  TransformOptions,
  TransformOutput,
} from "../pipeline/types";
import type { ModerationRepository } from "../storage/moderation-repository";
import type { ObjectStore } from "../storage/object-store";
import { purgeImage } from "./delete-image";
import type { Deps } from "./deps";
import { applyClassification } from "./moderation";
import { type EdgePurgePort, retryCachePurge } from "./purge-cache";
import { type IndexerDeps, indexAlbum, indexImages } from "./search-index";

/**
 * Which outputs a transform run makes: `primary` is everything needed for `ready` (original,
 * WebP, JPEG/PNG); `slow` is what may follow later (AVIF), so uploads become viewable sooner.
 */
export type TransformStage = "primary" | "slow";

/** Runs the WASM transform on one upload for one stage, under its owner's policy. */
export type TransformFn = (
  bytes: Uint8Array,
  stage: TransformStage,
  policy: Policy,
) => Promise<Result<TransformOutput, TransformError>>;

/**
 * The transform options of each stage: the processor's own pixel ceiling, and the owner's
 * policy for pixels, preset sizes and metadata.
 */
export function stageOptions(
  settings: { maxPixels: number },
  policy: Policy,
): Record<TransformStage, TransformOptions> {
  const ceiling = settings.maxPixels > 0 ? settings.maxPixels : DEFAULT_TRANSFORM_OPTIONS.maxPixels;
  const sizes = policy.variantPresets;
  const base: TransformOptions = {
    ...DEFAULT_TRANSFORM_OPTIONS,
    maxPixels: Math.min(ceiling, policy.maxPixels),
    presets: DEFAULT_TRANSFORM_OPTIONS.presets.map((p) => ({
      name: p.name,
      maxWidth: sizes[p.name].width,
      maxHeight: sizes[p.name].height,
    })),
    metadata: { keepCopyrightAndCamera: policy.metadataPolicy === "keep_copyright" },
  };
  const avif = base.avifPresets;
  return {
    primary: { ...base, avifPresets: [] },
    slow: {
      ...base,
      presets: base.presets.filter((p) => avif.includes(p.name)),
      formats: [],
      original: false,
    },
  };
}

/** What the processing use cases need: the shared deps plus the transform. */
export interface ProcessorDeps extends Deps, Pick<IndexerDeps, "search" | "albums"> {
  transform: TransformFn;
  /** The largest upload the processor reads (MAX_INPUT_BYTES): beyond it, `upload_too_large`. */
  maxInputBytes: number;
  /** The edge Worker's purge entrypoint (a service binding); null where none is bound. */
  edge: EdgePurgePort | null;
  moderation: ModerationRepository;
  /** Null when classification is off (MODERATION_CLASSIFIER=off). */
  classifier: Classifier | null;
  classifierRules: ClassifierRules;
  /** Makes the blurred preview of a thumb (pipeline/blur.ts); null where none is made. */
  blurredPreview:
    | ((
        bytes: Uint8Array,
        format: "jpeg" | "png" | "webp",
      ) => Promise<Result<Uint8Array, TransformError>>)
    | null;
}

/** How one event ended; anything thrown instead is transient and retried. */
export type EventOutcome =
  | "ready"
  | "failed"
  | "duplicate"
  | "stale"
  | "purged"
  | "enriched"
  | "indexed"
  | "skipped"
  | "classified"
  | "moderated"
  | "logged";

/** Stores renditions under their revision and returns the rows that describe them. */
async function storeRenditions(
  store: ObjectStore,
  imageId: string,
  revision: number,
  renditions: readonly EncodedVariant[],
) {
  const stored = [];
  // Sequential puts keep only one upload in flight; the bytes are already in memory.
  for (const r of renditions) {
    const etag = await store.putVariant(
      imageId,
      revision,
      r.name,
      r.format,
      r.bytes,
      r.contentType,
    );
    stored.push({
      name: r.name,
      format: r.format,
      contentType: r.contentType,
      width: r.width,
      height: r.height,
      bytes: r.bytes.byteLength,
      etag,
    });
  }
  return stored;
}

/** What follows `ready`, each its own message: the slow variants, and the classifier. */
async function requestSlowVariants(deps: ProcessorDeps, imageId: string, revision: number) {
  await deps.events.send({ type: "SlowVariantsRequested", v: 1, imageId, revision });
  if (deps.classifier) {
    await deps.events.send({ type: "ClassificationRequested", v: 1, imageId, revision });
  }
}

/** Removes what a run that lost a race wrote: the image is gone or on another revision. */
async function cleanUpAfterLostRace(
  deps: ProcessorDeps,
  imageId: string,
  revision: number,
): Promise<EventOutcome> {
  const current = await deps.images.get(imageId);
  if (current?.revision === revision && current.status === "ready") return "duplicate";
  if (!current) {
    await purgeImage(deps, imageId);
  } else if (current.revision !== revision && current.servedRevision !== revision) {
    // A revision still being served (a reprocess is under way) keeps its objects; the next
    // revision's completion removes them.
    await deps.store.deleteRevision(imageId, revision);
  }
  return "stale";
}

/** Processes an uploaded image into variants; idempotent under redelivery and concurrency. */
export async function handleImageUploaded(
  event: ImageUploaded,
  deps: ProcessorDeps,
): Promise<EventOutcome> {
  const { images, store } = deps;
  const startedAt = deps.now();
  const claimed = await images.claimProcessing(event.imageId, event.revision, startedAt);
  if (!claimed) {
    const current = await images.get(event.imageId);
    if (current?.revision !== event.revision || current.status !== "ready") return "stale";
    // A redelivery after `ready` may follow a failed send of the slow-stage event: send it
    // again (the slow stage is idempotent).
    await requestSlowVariants(deps, event.imageId, event.revision);
    return "duplicate";
  }
  // The size first: an upload the isolate cannot hold is refused without reading it.
  const size = await store.uploadSize(event.imageId);
  const upload =
    size !== null && size <= deps.maxInputBytes ? await store.readUpload(event.imageId) : null;
  if (!upload) {
    const tooLarge = size !== null && size > deps.maxInputBytes;
    await images.markFailed(
      event.imageId,
      event.revision,
      tooLarge ? "upload_too_large" : "upload_missing",
      tooLarge
        ? `The upload is ${size} bytes; the processor reads at most ${deps.maxInputBytes}.`
        : "The uploaded file is gone.",
      deps.now(),
    );
    return "failed";
  }
  const policy = await deps.policy(claimed.ownerId);
  const format = sniffFormat(upload);
  const result =
    format !== null && !(policy.allowedFormats as readonly string[]).includes(format)
      ? fail("unsupported_format", `${format} uploads are not allowed by the owner's policy.`)
      : await deps.transform(upload, "primary", policy);
  if (!result.ok) {
    await images.markFailed(
      event.imageId,
      event.revision,
      result.error.code,
      result.error.detail,
      deps.now(),
    );
    deps.log.warn("image_failed", { imageId: event.imageId, code: result.error.code });
    deps.metrics.record({
      name: "image.process",
      outcome: result.error.code,
      ms: deps.now() - startedAt,
      imageId: event.imageId,
    });
    return "failed";
  }
  const out = result.value;
  if (!out.original) throw new Error("the primary stage must make the original rendition");
  const stored = await storeRenditions(store, event.imageId, event.revision, [
    out.original,
    ...out.variants,
  ]);
  const finishedAt = deps.now();
  const completed = await images.completeProcessing(
    event.imageId,
    event.revision,
    {
      // The upload's own type; the `original` rendition may differ (an AVIF that cannot be
      // stripped in place is served as WebP) and carries its own format and type.
      format: out.probe.format,
      contentType: contentTypeFor(out.probe.format),
      width: out.width,
      height: out.height,
      placeholder: out.placeholder,
      dominantColor: out.dominantColor,
      colour: out.colour,
      originalRepairs: out.originalRepairs,
      timings: {
        queueWaitMs: Math.max(0, startedAt - event.uploadedAt),
        decodeMs: out.timings.decodeMs,
        resizeMs: out.timings.resizeMs,
        encodeMs: out.timings.encodeMs,
        transformMs: out.timings.totalMs,
        totalMs: finishedAt - startedAt,
      },
      variants: stored,
    },
    finishedAt,
  );
  if (!completed) return cleanUpAfterLostRace(deps, event.imageId, event.revision);
  // Older revisions stop being served the moment this one is; their objects and every cached
  // copy (the stable URL's included) go with them.
  if (event.revision > 1) {
    await store.deleteRevisionsBelow(event.imageId, event.revision);
    await deps.invalidate.purge(
      { kind: "image", imageId: event.imageId, newestRevision: event.revision },
      "revision",
      finishedAt,
    );
  }
  await requestSlowVariants(deps, event.imageId, event.revision);
  // Held since its creation (new-account rule, holdUntilClassified): blurred from the start.
  const thumb = claimed.moderation === "pending_review" ? thumbOf(out.variants) : null;
  if (thumb) await storeBlurredPreview(deps, event.imageId, event.revision, thumb);
  deps.log.info("image_ready", {
    imageId: event.imageId,
    revision: event.revision,
    ms: finishedAt - startedAt,
  });
  deps.metrics.record({
    name: "image.process",
    outcome: "ready",
    ms: finishedAt - startedAt,
    bytes: stored.reduce((n, v) => n + v.bytes, 0),
    imageId: event.imageId,
  });
  return "ready";
}

/** Adds the slow variants (AVIF) to a ready image; failures leave it ready without them. */
export async function handleSlowVariants(
  event: SlowVariantsRequested,
  deps: ProcessorDeps,
): Promise<EventOutcome> {
  const found = await deps.images.getWithVariants(event.imageId);
  const image = found?.image;
  if (image?.revision !== event.revision || image.status !== "ready") return "stale";
  // Redelivery after success: AVIF is the whole slow stage, so its presence means done.
  if (found?.variants.some((v) => v.format === "avif")) return "duplicate";
  // Only what the primary stage read can reach the slow stage: the size was checked there.
  const upload = await deps.store.readUpload(event.imageId);
  if (!upload) return "stale";
  const result = await deps.transform(upload, "slow", await deps.policy(image.ownerId));
  if (!result.ok) {
    deps.log.warn("slow_variants_failed", { imageId: event.imageId, code: result.error.code });
    return "failed";
  }
  const stored = await storeRenditions(
    deps.store,
    event.imageId,
    event.revision,
    result.value.variants,
  );
  const added = await deps.images.addVariants(event.imageId, event.revision, stored, deps.now());
  if (!added) return cleanUpAfterLostRace(deps, event.imageId, event.revision);
  // Cached views negotiated before AVIF existed hold WebP or JPEG for AVIF clients.
  await deps.invalidate.purge(
    { kind: "image", imageId: event.imageId, newestRevision: event.revision },
    "variants",
    deps.now(),
  );
  return "enriched";
}

/** A thumb's bytes, in a format the decoders take. */
interface Thumb {
  bytes: Uint8Array;
  format: "jpeg" | "png" | "webp";
}

/** Which stored thumb the classifier and the preview read: JPEG or PNG first, else WebP. */
function thumbFormat(
  variants: readonly { name: string; format: string }[],
): Thumb["format"] | null {
  const thumbs = variants.filter((v) => v.name === "thumb");
  return (["jpeg", "png", "webp"] as const).find((f) => thumbs.some((v) => v.format === f)) ?? null;
}

/** The thumb among a transform's outputs (still in memory: no need to read it back). */
function thumbOf(variants: readonly EncodedVariant[]): Thumb | null {
  const format = thumbFormat(variants);
  const bytes = variants.find((v) => v.name === "thumb" && v.format === format)?.bytes;
  return format && bytes ? { bytes, format } : null;
}

/** The thumb of a ready revision, as bytes the decoders take, or null when it is gone. */
async function readThumb(
  deps: ProcessorDeps,
  found: { variants: readonly { name: string; format: string }[] },
  imageId: string,
  revision: number,
): Promise<Thumb | null> {
  const format = thumbFormat(found.variants);
  if (!format) return null;
  const object = await deps.store.getVariant(imageId, revision, "thumb", format);
  if (!object || !("arrayBuffer" in object)) return null;
  return { bytes: new Uint8Array(await object.arrayBuffer()), format };
}

/**
 * Classifies a ready revision from its thumb and applies the rules. A classifier error is
 * thrown, so the message is retried with backoff; the image keeps its state meanwhile.
 */
export async function handleClassification(
  event: ClassificationRequested,
  deps: ProcessorDeps,
): Promise<EventOutcome> {
  const classifier = deps.classifier;
  if (!classifier) return "skipped";
  const found = await deps.images.getWithVariants(event.imageId);
  const image = found?.image;
  if (!found || image?.revision !== event.revision || image.status !== "ready") return "stale";
  const thumb = await readThumb(deps, found, image.id, event.revision);
  if (!thumb) return "stale";
  const startedAt = deps.now();
  const scored = await classifier.classify(thumb);
  if (!scored.ok) throw new Error(`classification failed: ${scored.error}`);
  const ms = deps.now() - startedAt;
  deps.metrics.record({
    name: "moderation.classify",
    outcome: classifier.name,
    ms,
    imageId: image.id,
  });
  const applied = await applyClassification(deps, {
    image,
    classifier: classifier.name,
    scores: scored.value,
    rules: deps.classifierRules,
  });
  deps.log.info("image_classified", { imageId: image.id, ms, action: applied.action });
  // Still held, without a decision event to follow: its preview is made here, from this thumb.
  if (!applied.changed && applied.state === "pending_review") {
    await storeBlurredPreview(deps, image.id, event.revision, thumb);
  }
  return applied.changed ? "moderated" : "classified";
}

/** Stores the blurred preview of a revision from its thumb (idempotent: the same key again). */
async function storeBlurredPreview(
  deps: ProcessorDeps,
  imageId: string,
  revision: number,
  thumb: Thumb,
): Promise<boolean> {
  if (!deps.blurredPreview) return false;
  const preview = await deps.blurredPreview(thumb.bytes, thumb.format);
  if (!preview.ok) {
    deps.log.warn("blurred_preview_failed", { imageId, code: preview.error.code });
    return false;
  }
  await deps.store.putVariant(imageId, revision, "blurred", "webp", preview.value, "image/webp");
  return true;
}

/** The blurred preview of an image's served revision, its thumb read from R2. */
async function makeBlurredPreview(deps: ProcessorDeps, imageId: string): Promise<boolean> {
  if (!deps.blurredPreview) return false;
  const found = await deps.images.getWithVariants(imageId);
  const revision = found?.image.servedRevision;
  if (!found || revision === null || revision === undefined) return false;
  const thumb = await readThumb(deps, found, imageId, revision);
  return thumb !== null && storeBlurredPreview(deps, imageId, revision, thumb);
}

/** A moderation decision: an image held for review gets its blurred preview; the rest is logged. */
async function handleModerationDecision(
  event: ModerationDecision,
  deps: ProcessorDeps,
): Promise<EventOutcome> {
  deps.log.info("moderation_decision", {
    imageId: event.imageId,
    from: event.from,
    to: event.to,
    source: event.source,
  });
  if (event.to !== "pending_review") return "logged";
  return (await makeBlurredPreview(deps, event.imageId)) ? "enriched" : "logged";
}

/** Finishes a deletion the edge could not complete inline. */
export async function handleImageDeleted(
  event: ImageDeleted,
  deps: ProcessorDeps,
): Promise<EventOutcome> {
  await purgeImage(deps, event.imageId);
  return "purged";
}

/** Dispatches one event from the main queue. */
export function handleEvent(event: ImageEvent, deps: ProcessorDeps): Promise<EventOutcome> {
  switch (event.type) {
    case "ImageUploaded":
      return handleImageUploaded(event, deps);
    case "ImageDeleted":
      return handleImageDeleted(event, deps);
    case "SlowVariantsRequested":
      return handleSlowVariants(event, deps);
    case "CachePurgeRequested":
      return retryCachePurge(event, deps);
    case "ImagesIndexRequested":
      return indexImages(deps, event.imageIds, event.requestedAt).then(() => "indexed");
    case "AlbumIndexRequested":
      return indexAlbum(deps, event.albumId, event.requestedAt).then(() => "indexed");
    case "ClassificationRequested":
      return handleClassification(event, deps);
    case "ModerationDecision":
      return handleModerationDecision(event, deps);
  }
}

/** Handles an event that exhausted its retries: the image ends `failed`, never stuck. */
export async function handleDeadLetter(
  event: ImageEvent,
  deps: ProcessorDeps,
): Promise<EventOutcome> {
  if (event.type === "ImageDeleted") return handleImageDeleted(event, deps);
  if (event.type === "SlowVariantsRequested") {
    deps.log.warn("dead_letter_slow_variants", { imageId: event.imageId });
    return "stale";
  }
  if (event.type === "CachePurgeRequested") {
    // Cached entries still expire on their own (an hour for stable URLs); say so loudly.
    deps.log.error("dead_letter_cache_purge", { target: event.target, reason: event.reason });
    return "failed";
  }
  if (event.type === "ImagesIndexRequested" || event.type === "AlbumIndexRequested") {
    // The text stays as it was until the next change of these images reindexes them.
    deps.log.error("dead_letter_index", { event });
    return "failed";
  }
  if (event.type === "ClassificationRequested") {
    // The image keeps its state (an image held until classified stays in the review queue).
    deps.log.error("dead_letter_classification", { imageId: event.imageId });
    return "failed";
  }
  if (event.type === "ModerationDecision") return "stale";
  const marked = await deps.images.markFailed(
    event.imageId,
    event.revision,
    "processing_failed",
    "Processing kept failing with a transient error; call :reprocess to try again.",
    deps.now(),
  );
  deps.log.error("dead_letter", { imageId: event.imageId, code: "processing_failed", marked });
  return "failed";
}
