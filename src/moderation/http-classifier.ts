import type { Classifier, ClassifierInput, Scores } from "./classifier";
import { validScores } from "./classifier";

/** Where and how to reach an external classifier. */
export interface HttpClassifierConfig {
  url: string;
  /** Sent as `Authorization: Bearer <token>` when set. */
  token: string | null;
  timeoutMs: number;
}

/**
 * An external classification service, spoken to over one documented protocol
 * (docs/api.md, "Classifier protocol"): `POST {url}` with the image bytes as the body and its
 * `Content-Type`, answered `200 {"scores": {"<class>": <0..1>, ...}}`. Any other answer, a
 * timeout or malformed scores is an error (the message is retried, the image keeps its state).
 */
export function httpClassifier(
  config: HttpClassifierConfig,
  fetcher: typeof fetch = fetch,
): Classifier {
  const host = new URL(config.url).host;
  return {
    name: `http:${host}`,
    async classify(input: ClassifierInput) {
      const headers: Record<string, string> = {
        "Content-Type": `image/${input.format}`,
        Accept: "application/json",
      };
      if (config.token) headers.Authorization = `Bearer ${config.token}`;
      let res: Response;
      try {
        res = await fetcher(config.url, {
          method: "POST",
          headers,
          body: input.bytes,
          signal: AbortSignal.timeout(config.timeoutMs),
        });
      } catch (err) {
        return { ok: false, error: `classifier unreachable: ${String(err)}` };
      }
      if (res.status !== 200) {
        await res.body?.cancel();
        return { ok: false, error: `classifier answered ${res.status}` };
      }
      const body: unknown = await res.json().catch(() => null);
      const scores: Scores | null =
        typeof body === "object" && body !== null && "scores" in body
          ? validScores(body.scores)
          : null;
      if (!scores) return { ok: false, error: "classifier answered without valid scores" };
      return { ok: true, value: scores };
    },
  };
}
