/** Where and how to call Cloudflare's purge API for one zone. */
export interface ZonePurgeConfig {
  zoneId: string;
  apiToken: string;
  /** `https://api.cloudflare.com/client/v4`, or a stand-in's base URL. */
  apiBase: string;
}

/** Tags per purge request: the API's documented limit. */
export const TAGS_PER_REQUEST = 30;

/** Longest `Retry-After` honoured inside one purge; longer waits go back to the queue. */
const MAX_RETRY_AFTER_MS = 5000;

/** One failed purge request, as the API (or the network) reported it. */
export interface PurgeError {
  /** HTTP status, 0 for a network error. */
  status: number;
  /** The envelope's error codes (`errors[].code`). */
  codes: number[];
  message: string;
  retryable: boolean;
}

interface Envelope {
  success?: unknown;
  errors?: unknown;
}

function envelopeErrors(body: Envelope | null): { codes: number[]; message: string } {
  const list = Array.isArray(body?.errors) ? body.errors : [];
  const errors = list.filter(
    (e): e is { code: number; message: string } =>
      typeof e === "object" &&
      e !== null &&
      typeof (e as { code?: unknown }).code === "number" &&
      typeof (e as { message?: unknown }).message === "string",
  );
  return {
    codes: errors.map((e) => e.code),
    message: errors.map((e) => `${e.code}: ${e.message}`).join("; ") || "no error detail",
  };
}

function retryAfterMs(header: string | null): number | null {
  if (header === null || !/^\d{1,6}$/.test(header.trim())) return null;
  return Math.min(Number(header) * 1000, MAX_RETRY_AFTER_MS);
}

/**
 * Client of `POST /zones/{zone}/purge_cache` with `{"tags": [...]}`. Network errors, 429 and
 * 5xx are retried with exponential delay (honouring a short `Retry-After`); a 4xx or an
 * envelope with `success: false` is final. Never throws.
 */
export class ZonePurgeClient {
  constructor(
    private readonly config: ZonePurgeConfig,
    private readonly options: {
      fetch?: typeof fetch;
      sleep?: (ms: number) => Promise<void>;
      attempts?: number;
      baseDelayMs?: number;
    } = {},
  ) {}

  /** Purges every cached object carrying any of `tags`, in batches of 30. */
  async purgeTags(tags: readonly string[]): Promise<PurgeResult> {
    let requests = 0;
    for (let i = 0; i < tags.length; i += TAGS_PER_REQUEST) {
      const result = await this.purgeBatch(tags.slice(i, i + TAGS_PER_REQUEST));
      requests += result.attempts;
      if (result.error) return { ok: false, requests, error: result.error };
    }
    return { ok: true, requests };
  }

  private async purgeBatch(tags: string[]): Promise<{ attempts: number; error?: PurgeError }> {
    const attempts = this.options.attempts ?? 3;
    const baseDelayMs = this.options.baseDelayMs ?? 200;
    const sleep = this.options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    let last: PurgeError = { status: 0, codes: [], message: "not attempted", retryable: true };
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const { error, wait } = await this.send(tags);
      if (!error) return { attempts: attempt };
      last = error;
      if (!error.retryable || attempt === attempts) break;
      await sleep(wait ?? baseDelayMs * 2 ** (attempt - 1));
    }
    return { attempts, error: last };
  }

  private async send(tags: string[]): Promise<{ error?: PurgeError; wait?: number }> {
    const doFetch = this.options.fetch ?? fetch;
    let res: Response;
    try {
      res = await doFetch(
        `${this.config.apiBase.replace(/\/+$/, "")}/zones/${encodeURIComponent(this.config.zoneId)}/purge_cache`,
        {
          method: "POST",
          headers: {
            Authorization: `Bearer ${this.config.apiToken}`,
            "Content-Type": "application/json",
          },
          body: JSON.stringify({ tags }),
        },
      );
    } catch (err) {
      return { error: { status: 0, codes: [], message: String(err), retryable: true } };
    }
    let body: Envelope | null = null;
    try {
      body = (await res.json()) as Envelope;
    } catch {
      body = null;
    }
    if (res.ok && body?.success === true) return {};
    const { codes, message } = envelopeErrors(body);
    const retryable = res.status === 429 || res.status >= 500;
    const wait = retryAfterMs(res.headers.get("Retry-After")) ?? undefined;
    return {
      error: { status: res.status, codes, message: `HTTP ${res.status}: ${message}`, retryable },
      ...(wait !== undefined ? { wait } : {}),
    };
  }
}

/** How a purge ended, with the number of requests it took and the last error. */
export type PurgeResult =
  | { ok: true; requests: number }
  | { ok: false; requests: number; error: PurgeError };
