import { DurableObject } from "cloudflare:workers";
import type { ErrorCode } from "../domain/errors";
import { PartPacker } from "../domain/part-packer";
import type { UploadChecksum } from "../domain/tus";
import { queueProducer } from "../events/producer";
import { createLogger } from "../observability/logger";
import { D1MetricsSink } from "../observability/metrics";
import { concat } from "../pipeline/bytes";
import { PREFIX_PROBE_LIMIT, probePrefix } from "../pipeline/prefix-probe";
import { ImageRepository } from "../storage/image-repository";
import { ObjectStore } from "../storage/object-store";
import {
  finishResumableUpload,
  type ResumableDeps,
  releaseResumableUpload,
} from "../use-cases/resumable-uploads";

/**
 * One resumable upload (tus), one Durable Object: the single coordinator that serialises the
 * upload's requests and keeps its state durably (docs/architecture.md, "Resumable uploads").
 *
 * Bytes arrive in chunks the client chooses. They are cut into equal parts of PART_SIZE and
 * written to an R2 multipart upload; what does not fill a part yet (the tail) is kept in this
 * object's storage, so a new request, a new client or a restarted Worker resumes at the exact
 * offset. After each part the state is committed; a request cut off mid-body keeps every byte
 * that arrived. When the offset reaches the length the parts are joined into `uploads/{id}`,
 * the image becomes `uploaded` and its processing is queued, once. An alarm at the expiry
 * aborts what was never finished.
 */

/** Size of every part but the last (R2: equal parts of at least 5 MiB). */
export const PART_SIZE = 5 * 1024 * 1024;
/** Largest value written to storage at once (the tail is kept in pieces). */
const TAIL_PIECE = 256 * 1024;
/** After a failed completion, try again this soon (the alarm), then at every request. */
const RETRY_MS = 30_000;

/** What a new session is told by the edge. */
export interface SessionInit {
  uploadId: string;
  imageId: string;
  ownerId: string;
  /** The image's upload claim (images.upload_started_at) this session holds. */
  claim: number;
  length: number;
  /** Unix ms. */
  expiresAt: number;
  maxPixels: number;
  /** The owner's policy's formats (domain/policy.ts); another is refused from its magic bytes. */
  allowedFormats: readonly string[];
}

type Stage = "receiving" | "stored" | "uploaded";

interface SessionState extends SessionInit {
  r2UploadId: string;
  parts: R2UploadedPart[];
  offset: number;
  tailKeys: string[];
  tailPersisted: number;
  nextTailKey: number;
  probed: boolean;
  stage: Stage;
  createdAt: number;
}

/** What the edge learns about a session. */
export interface SessionInfo {
  uploadId: string;
  imageId: string;
  ownerId: string;
  length: number;
  offset: number;
  expiresAt: number;
  /** The raw upload is stored and the image handed to processing. */
  complete: boolean;
}

/** A request the session refused, with where the upload stands (null once it is gone). */
export interface SessionRefusal {
  ok: false;
  code: ErrorCode;
  detail: string;
  info: SessionInfo | null;
}

/** The answer to a request on a session. */
export type SessionOutcome = { ok: true; info: SessionInfo } | SessionRefusal;

/** One PATCH: where the client believes the upload stands, and how to check its body. */
export interface PatchRequest {
  offset: number;
  checksum: UploadChecksum | null;
}

function infoOf(s: SessionState): SessionInfo {
  return {
    uploadId: s.uploadId,
    imageId: s.imageId,
    ownerId: s.ownerId,
    length: s.length,
    offset: s.offset,
    expiresAt: s.expiresAt,
    complete: s.stage === "uploaded",
  };
}

function refusal(code: ErrorCode, detail: string, s: SessionState | null): SessionRefusal {
  return { ok: false, code, detail, info: s ? infoOf(s) : null };
}

const log = createLogger({ worker: "edge", entrypoint: "UploadSession" });

/** The Durable Object class of resumable uploads (bound as UPLOAD_SESSIONS). */
export class UploadSession extends DurableObject<Env> {
  /** One request at a time changes the upload; another one meanwhile gets 423. */
  private busy = false;
  /**
   * The stored tail as this instance last wrote it: the next request of a live object need
   * not read it back. Valid while its keys are the state's.
   */
  private tailCache: { keys: string; chunks: Uint8Array[] } | null = null;
  private readonly store = new ObjectStore(this.env.BUCKET);

  private deps(metrics: D1MetricsSink): ResumableDeps {
    return {
      images: new ImageRepository(this.env.DB),
      store: this.store,
      events: queueProducer(this.env.EVENTS),
      now: Date.now,
      log,
      metrics,
    };
  }

  private load(): Promise<SessionState | undefined> {
    return this.ctx.storage.get<SessionState>("session");
  }

  /** Starts the session (idempotent: a retried creation gets the same session back). */
  async create(init: SessionInit): Promise<SessionInfo> {
    const existing = await this.load();
    if (existing) return infoOf(existing);
    const state: SessionState = {
      ...init,
      r2UploadId: await this.store.startMultipartUpload(init.imageId),
      parts: [],
      offset: 0,
      tailKeys: [],
      tailPersisted: 0,
      nextTailKey: 0,
      probed: false,
      stage: "receiving",
      createdAt: Date.now(),
    };
    await this.ctx.storage.put("session", state);
    await this.ctx.storage.setAlarm(init.expiresAt);
    return infoOf(state);
  }

  /** The session as it is stored, without finishing anything (for authorisation). */
  async peek(): Promise<SessionInfo | null> {
    const state = await this.load();
    return state ? infoOf(state) : null;
  }

  /**
   * The session as it stands (null when there is none). A full upload that was not joined
   * yet (a crash right after its last bytes) is finished first, so a client that sees
   * `offset == length` can rely on it.
   */
  async info(): Promise<SessionOutcome | null> {
    const state = await this.load();
    if (!state) return null;
    if (Date.now() >= state.expiresAt && state.stage !== "uploaded") {
      return refusal("upload_expired", "The upload has expired.", state);
    }
    if (state.offset === state.length && state.stage !== "uploaded" && !this.busy) {
      return this.exclusive(() => this.finish(state));
    }
    return { ok: true, info: infoOf(state) };
  }

  private async exclusive(work: () => Promise<SessionOutcome>): Promise<SessionOutcome> {
    if (this.busy) {
      return refusal("upload_locked", "Another request is writing to this upload.", null);
    }
    this.busy = true;
    try {
      return await work();
    } finally {
      this.busy = false;
    }
  }

  /** Appends one request body at `offset` (tus PATCH). */
  async patch(
    request: PatchRequest,
    body: ReadableStream<Uint8Array> | null,
  ): Promise<SessionOutcome> {
    if (this.busy) {
      await body?.cancel().catch(() => undefined);
      return refusal("upload_locked", "Another request is writing to this upload.", null);
    }
    return this.exclusive(async () => {
      const state = await this.load();
      if (!state) return refusal("upload_not_found", "No such upload.", null);
      if (Date.now() >= state.expiresAt && state.stage !== "uploaded") {
        return refusal("upload_expired", "The upload has expired.", state);
      }
      if (request.offset !== state.offset) {
        await body?.cancel().catch(() => undefined);
        return refusal(
          "upload_offset_mismatch",
          `The upload is at offset ${state.offset}, not ${request.offset}.`,
          state,
        );
      }
      if (state.stage === "receiving" && body) {
        const received = await this.receive(state, request.checksum, body);
        if (received) return received;
      }
      if (state.offset === state.length && state.stage !== "uploaded") return this.finish(state);
      return { ok: true, info: infoOf(state) };
    });
  }

  /**
   * Reads a body into parts and the tail. Returns a refusal (checksum, early probe, too long,
   * storage failure) or null when the bytes were taken.
   */
  private async receive(
    state: SessionState,
    checksum: UploadChecksum | null,
    body: ReadableStream<Uint8Array>,
  ): Promise<SessionOutcome | null> {
    const packer = new PartPacker(PART_SIZE, await this.loadTail(state));
    // Where this body starts (state.offset moves with every commit below).
    const start = state.offset;
    // With a checksum nothing is committed until the whole body matched it.
    const digest = checksum ? new crypto.DigestStream("SHA-256") : null;
    const digestWriter = digest?.getWriter();
    const pending: R2UploadedPart[] = [];
    let flushed = false;
    let received = 0;
    let interrupted = false;
    let refused: SessionRefusal | null = null;
    const reader = body.getReader();
    try {
      for (;;) {
        let chunk: ReadableStreamReadResult<Uint8Array>;
        try {
          chunk = await reader.read();
        } catch (err) {
          // The client went away mid-body: what arrived is kept below.
          log.warn("patch_interrupted", { imageId: state.imageId, err, bytes: received });
          interrupted = true;
          break;
        }
        if (chunk.done) break;
        const value = chunk.value;
        if (start + received + value.length > state.length) {
          refused = refusal(
            "upload_too_large",
            `The body goes past Upload-Length (${state.length}).`,
            state,
          );
          break;
        }
        if (!state.probed) {
          refused = this.probe(state, [...packer.tail(), value], start + received + value.length);
          if (refused) break;
        }
        await digestWriter?.write(value);
        received += value.length;
        for (const part of packer.push(value)) {
          const number = state.parts.length + pending.length + 1;
          pending.push(await this.store.uploadPart(state.imageId, state.r2UploadId, number, part));
          flushed = true;
        }
        if (!checksum && pending.length > 0) {
          await this.commit(state, packer, pending.splice(0), flushed);
          flushed = false;
        }
      }
    } catch (err) {
      // Storage failed: nothing after the last commit is kept, so no byte is counted that is
      // not stored. The client resumes from the offset HEAD reports.
      log.error("patch_storage_failed", { imageId: state.imageId, err });
      await reader.cancel().catch(() => undefined);
      return refusal(
        "storage_unavailable",
        "Storage failed; resume from the current offset.",
        null,
      );
    }
    if (refused) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
    if (refused && (refused.code === "unsupported_format" || refused.code === "too_many_pixels")) {
      await this.end(state, "refused");
      return refusal(refused.code, refused.detail, null);
    }
    if (checksum && digest && digestWriter) {
      if (interrupted) return refusal("bad_request", "The body was cut off.", state);
      if (refused) return refused;
      await digestWriter.close();
      const actual = new Uint8Array(await digest.digest);
      if (!actual.every((b, i) => b === checksum.digest[i])) {
        return refusal("checksum_mismatch", "The body does not match Upload-Checksum.", state);
      }
    }
    await this.commit(state, packer, pending, flushed);
    return refused;
  }

  /**
   * Decides from the first bytes whether this can be an image the processor accepts. Runs
   * before any part is written (the limit is far below a part), so `head` starts at byte 0.
   */
  private probe(state: SessionState, head: Uint8Array[], upTo: number): SessionRefusal | null {
    const bytes = concat(head).subarray(0, PREFIX_PROBE_LIMIT);
    const complete = upTo === state.length;
    const verdict = probePrefix(bytes, complete, state.maxPixels);
    if (verdict.kind === "need_more") return null;
    if (verdict.kind === "refused") return refusal(verdict.code, verdict.detail, state);
    if (!state.allowedFormats.includes(verdict.format)) {
      return refusal(
        "unsupported_format",
        `${verdict.format} uploads are not allowed here.`,
        state,
      );
    }
    state.probed = true;
    return null;
  }

  private async loadTail(state: SessionState): Promise<Uint8Array[]> {
    if (state.tailKeys.length === 0) return [];
    if (this.tailCache?.keys === state.tailKeys.join()) return [...this.tailCache.chunks];
    const pieces = await this.ctx.storage.get<Uint8Array>(state.tailKeys);
    return state.tailKeys.map((key) => {
      const piece = pieces.get(key);
      if (!piece) throw new Error(`tail piece ${key} missing`);
      return piece;
    });
  }

  /**
   * Makes the parts written so far and the tail durable, with the new offset, in one
   * transaction. After a part was flushed the stored tail is replaced; otherwise only the
   * bytes added since the last commit are written.
   */
  private async commit(
    state: SessionState,
    packer: PartPacker,
    parts: R2UploadedPart[],
    flushed: boolean,
  ): Promise<void> {
    const stale = flushed ? state.tailKeys : [];
    if (flushed) {
      state.tailKeys = [];
      state.tailPersisted = 0;
    }
    state.parts.push(...parts);
    const entries: Record<string, unknown> = {};
    let skip = state.tailPersisted;
    for (const chunk of packer.tail()) {
      if (skip >= chunk.length) {
        skip -= chunk.length;
        continue;
      }
      const fresh = chunk.subarray(skip);
      skip = 0;
      for (let o = 0; o < fresh.length; o += TAIL_PIECE) {
        const key = `tail:${state.nextTailKey++}`;
        entries[key] = fresh.slice(o, o + TAIL_PIECE);
        state.tailKeys.push(key);
      }
    }
    state.tailPersisted = packer.tailBytes;
    state.offset = state.parts.length * PART_SIZE + packer.tailBytes;
    entries.session = state;
    await this.ctx.storage.transaction(async (txn) => {
      if (stale.length > 0) await txn.delete(stale);
      await txn.put(entries);
    });
    this.tailCache = { keys: state.tailKeys.join(), chunks: packer.tail() };
  }

  /**
   * Joins the parts into the raw upload and hands the image to processing. Each step is
   * recorded before the next, so a retry (a request, or the alarm) picks up where a crash
   * left off.
   */
  private async finish(state: SessionState): Promise<SessionOutcome> {
    const metrics = new D1MetricsSink(this.env.DB, "edge");
    try {
      if (state.stage === "receiving") {
        await this.join(state);
        const stale = state.tailKeys;
        state.tailKeys = [];
        state.tailPersisted = 0;
        state.stage = "stored";
        await this.ctx.storage.transaction(async (txn) => {
          await txn.delete(stale);
          await txn.put("session", state);
        });
      }
      if (state.stage === "stored") {
        const finished = await finishResumableUpload(this.deps(metrics), {
          imageId: state.imageId,
          claim: state.claim,
          size: state.length,
          startedAt: state.createdAt,
        });
        if (!finished.ok) {
          await this.ctx.storage.deleteAll();
          return refusal(finished.error.code, finished.error.detail ?? "", null);
        }
        state.stage = "uploaded";
        await this.ctx.storage.put("session", state);
      }
      return { ok: true, info: infoOf(state) };
    } catch (err) {
      log.error("resumable_finish_failed", { imageId: state.imageId, err });
      await this.ctx.storage.setAlarm(Math.min(state.expiresAt, Date.now() + RETRY_MS));
      return refusal("storage_unavailable", "Could not finish the upload; it is retried.", state);
    } finally {
      await metrics.flush().catch(() => undefined);
    }
  }

  /**
   * Writes the tail as the last part and completes the multipart upload. A completion that
   * already happened (a crash before it was recorded) is recognised by the stored object.
   */
  private async join(state: SessionState): Promise<void> {
    try {
      const tail = concat(await this.loadTail(state));
      const parts = [...state.parts];
      if (tail.length > 0 || parts.length === 0) {
        parts.push(
          await this.store.uploadPart(state.imageId, state.r2UploadId, parts.length + 1, tail),
        );
      }
      await this.store.completeMultipartUpload(state.imageId, state.r2UploadId, parts);
      state.parts = parts;
    } catch (err) {
      const stored = await this.store.uploadSize(state.imageId);
      if (stored !== state.length) throw err;
    }
  }

  /** Ends an unfinished upload: the parts are aborted, the slot given back, the state gone. */
  private async end(state: SessionState, why: string): Promise<void> {
    const metrics = new D1MetricsSink(this.env.DB, "edge");
    await this.store.abortMultipartUpload(state.imageId, state.r2UploadId);
    if (state.stage !== "uploaded") {
      await releaseResumableUpload(this.deps(metrics), {
        imageId: state.imageId,
        uploadId: state.uploadId,
        why,
      });
    }
    await this.ctx.storage.deleteAll();
    await metrics.flush().catch(() => undefined);
  }

  /** tus termination: an unfinished upload is abandoned; a finished one only forgotten. */
  async terminate(): Promise<SessionOutcome> {
    return this.exclusive(async () => {
      const state = await this.load();
      if (!state) return refusal("upload_not_found", "No such upload.", null);
      if (state.stage === "uploaded") await this.ctx.storage.deleteAll();
      else await this.end(state, "terminated");
      return { ok: true, info: infoOf(state) };
    });
  }

  /** Expiry (and retries of a failed completion). */
  override async alarm(): Promise<void> {
    const state = await this.load();
    if (!state || this.busy) return;
    if (Date.now() < state.expiresAt) {
      if (state.offset === state.length && state.stage !== "uploaded") {
        await this.exclusive(() => this.finish(state));
      }
      await this.ctx.storage.setAlarm(state.expiresAt);
      return;
    }
    if (state.stage === "uploaded") await this.ctx.storage.deleteAll();
    else await this.end(state, "expired");
  }
}
