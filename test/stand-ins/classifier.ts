/**
 * A local stand-in for an external classification service speaking the protocol the HTTP
 * classifier implements (docs/api.md, "Classifier protocol"): `POST /v1/classify` with the
 * image bytes and their `Content-Type`, `Authorization: Bearer <token>`, answered
 * `200 {"scores": {...}}`. It decides from the pixels (decoded with sharp in Node), so every
 * test file gets the same answer for the same image without shared state: a mostly red image
 * is "porn" 0.99, a mostly blue one "sexy" 0.95, anything else "neutral". `POST /v1/broken`
 * answers 503, `POST /v1/garbage` a 200 without valid scores.
 */
import sharp from "sharp";

export const CLASSIFIER_STAND_IN = "https://classifier.stand-in";

/** A plain request, so the stand-in runs behind any HTTP adapter. */
export interface ClassifierRequest {
  method: string;
  url: string;
  headers: { get(name: string): string | null };
  arrayBuffer(): Promise<ArrayBuffer>;
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json" },
  });
}

/** Scores an image by its mean colour. */
async function scoresOf(bytes: Uint8Array): Promise<Record<string, number>> {
  const { channels } = await sharp(bytes).stats();
  const [r = 0, g = 0, b = 0] = channels.map((c) => c.mean);
  if (r > 180 && g < 90 && b < 90) {
    return { porn: 0.99, sexy: 0.005, hentai: 0.002, neutral: 0.002, drawing: 0.001 };
  }
  if (b > 180 && r < 90 && g < 90) {
    return { sexy: 0.95, porn: 0.03, hentai: 0.01, neutral: 0.005, drawing: 0.005 };
  }
  return { neutral: 0.97, drawing: 0.02, sexy: 0.005, porn: 0.003, hentai: 0.002 };
}

/** The stand-in, as a fetch handler; `token` is the bearer token it requires. */
export function classifierStandIn(token: string) {
  return {
    async fetch(req: ClassifierRequest): Promise<Response> {
      const path = new URL(req.url).pathname;
      if (req.method !== "POST") return json(405, { error: "method not allowed" });
      if (req.headers.get("Authorization") !== `Bearer ${token}`) {
        return json(401, { error: "unauthorized" });
      }
      if (path === "/v1/broken") return json(503, { error: "overloaded" });
      if (path === "/v1/garbage") return json(200, { scores: { porn: "high" } });
      if (path !== "/v1/classify") return json(404, { error: "not found" });
      if (!/^image\/(jpeg|png|webp)$/.test(req.headers.get("Content-Type") ?? "")) {
        return json(415, { error: "send image/jpeg, image/png or image/webp" });
      }
      const bytes = new Uint8Array(await req.arrayBuffer());
      try {
        return json(200, { scores: await scoresOf(bytes) });
      } catch {
        return json(422, { error: "not an image" });
      }
    },
  };
}
