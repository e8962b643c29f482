import { describe, expect, it } from "vitest";
import processor from "../../workers/processor";

const call = (path: string) =>
  processor.fetch(
    new Request(`http://processor${path}`) as Request<unknown, IncomingRequestCfProperties>,
  );

describe("processor HTTP", () => {
  it("answers /healthz and nothing else", async () => {
    const health = await call("/healthz");
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: "ok", worker: "processor" });
    for (const path of ["/", "/v1/images", "/healthz/x"]) {
      const res = await call(path);
      expect(res.status).toBe(404);
      expect(res.headers.get("Content-Type")).toBe("application/problem+json");
      expect(((await res.json()) as { code: string }).code).toBe("not_found");
    }
  });
});
