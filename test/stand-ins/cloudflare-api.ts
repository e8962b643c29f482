/**
 * A local stand-in for the part of Cloudflare's API the service calls: purge by Cache-Tag,
 * `POST /client/v4/zones/{zone}/purge_cache` with `{"tags": [...]}`, answering with the API's
 * envelope (`success`, `errors[{code, message}]`, `messages`, `result`) and its error shapes.
 * Runs in Node (a Miniflare outbound service in the edge tests); tests read what it received
 * and make it fail through `/__stand-in/*`.
 */

/** One purge the stand-in accepted. */
export interface ReceivedPurge {
  zone: string;
  tags: string[];
  at: number;
}

/** A plain request/response pair, so the stand-in runs behind any HTTP adapter. */
export interface StandInRequest {
  method: string;
  url: string;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
}

export interface StandInResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const PURGE_PATH = /^\/client\/v4\/zones\/([^/]+)\/purge_cache$/;

function envelope(
  status: number,
  result: unknown,
  errors: { code: number; message: string }[] = [],
  headers: Record<string, string> = {},
): StandInResponse {
  return {
    status,
    headers: { "Content-Type": "application/json", ...headers },
    body: JSON.stringify({ success: errors.length === 0, errors, messages: [], result }),
  };
}

/** Creates a stand-in that accepts `token` for `zone`. */
export function cloudflareApiStandIn(zone: string, token: string) {
  let purges: ReceivedPurge[] = [];
  let failures: { status: number; remaining: number } | null = null;
  let attempts = 0;

  async function purge(req: StandInRequest, zoneId: string): Promise<StandInResponse> {
    attempts++;
    if (failures && failures.remaining > 0) {
      failures.remaining--;
      if (failures.status === 429) {
        return envelope(
          429,
          null,
          [{ code: 971, message: "Please wait and consider throttling your request speed" }],
          { "Retry-After": "0" },
        );
      }
      return envelope(failures.status, null, [{ code: 10013, message: "Internal error" }]);
    }
    if (req.headers.get("Authorization") !== `Bearer ${token}`) {
      return envelope(403, null, [{ code: 10000, message: "Authentication error" }]);
    }
    if (zoneId !== zone) {
      return envelope(400, null, [
        {
          code: 7003,
          message: `Could not route to /zones/${zoneId}/purge_cache, perhaps your object identifier is invalid?`,
        },
      ]);
    }
    let body: unknown;
    try {
      body = JSON.parse(await req.text());
    } catch {
      return envelope(400, null, [{ code: 9207, message: "Request body is invalid JSON" }]);
    }
    const tags = (body as { tags?: unknown } | null)?.tags;
    if (
      !Array.isArray(tags) ||
      tags.length === 0 ||
      !tags.every((t) => typeof t === "string" && t.length > 0 && t.length <= 1024)
    ) {
      return envelope(400, null, [
        {
          code: 1012,
          message:
            'Request must contain one of "purge_everything", "files", "tags", "hosts" or "prefixes"',
        },
      ]);
    }
    if (tags.length > 30) {
      return envelope(400, null, [
        { code: 1025, message: "Too many tags in one request (max 30)" },
      ]);
    }
    purges.push({ zone: zoneId, tags: tags as string[], at: Date.now() });
    return envelope(200, { id: crypto.randomUUID().replaceAll("-", "") });
  }

  return {
    /** Answers one request: the purge endpoint, or the `/__stand-in/*` controls. */
    async fetch(req: StandInRequest): Promise<StandInResponse> {
      const path = new URL(req.url).pathname;
      const match = PURGE_PATH.exec(path);
      if (match?.[1] && req.method === "POST") return purge(req, decodeURIComponent(match[1]));
      if (path === "/__stand-in/purges") return envelope(200, { purges, attempts });
      if (path === "/__stand-in/fail" && req.method === "POST") {
        const { status, count } = JSON.parse(await req.text()) as { status: number; count: number };
        failures = { status, remaining: count };
        return envelope(200, null);
      }
      if (path === "/__stand-in/reset" && req.method === "POST") {
        purges = [];
        failures = null;
        attempts = 0;
        return envelope(200, null);
      }
      return envelope(404, null, [{ code: 7000, message: "No route for that URI" }]);
    },
  };
}
