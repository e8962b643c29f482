import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { callApp, token } from "../helpers/edge";

async function metricsFor(imageId: string): Promise<{ name: string; outcome: string }[]> {
  const { results } = await env.DB.prepare(
    "select name, outcome, worker from metrics where image_id = ? order by id",
  )
    .bind(imageId)
    .all<{ name: string; outcome: string; worker: string }>();
  for (const r of results) expect(r.worker).toBe("edge");
  return results.map(({ name, outcome }) => ({ name, outcome }));
}

describe("use-case metrics", () => {
  it("records create, upload and delete with their outcomes, once each", async () => {
    const auth = { Authorization: `Bearer ${await token("metrics-user")}` };
    const created = await callApp("/v1/images", {
      method: "POST",
      headers: { ...auth, "Content-Type": "application/json" },
      body: JSON.stringify({ size: 3 }),
    });
    const image = (await created.json()) as { id: string; upload: { url: string } };
    const put = await callApp(
      new URL(image.upload.url).pathname + new URL(image.upload.url).search,
      {
        method: "PUT",
        headers: { "Content-Length": "3" },
        body: new Uint8Array([1, 2, 3]),
      },
    );
    expect(put.status).toBe(200);
    const deleted = await callApp(`/v1/images/${image.id}`, { method: "DELETE", headers: auth });
    expect(deleted.status).toBe(204);
    const recorded = await metricsFor(image.id);
    expect(recorded.filter((m) => m.name.startsWith("image."))).toEqual([
      { name: "image.create", outcome: "created" },
      { name: "image.upload", outcome: "uploaded" },
      { name: "image.delete", outcome: "purged" },
    ]);
    // Takedown latency: this data centre's cache at once, the zone (the stand-in) after.
    expect(recorded.filter((m) => m.name === "cache.purge")).toEqual([
      { name: "cache.purge", outcome: "delete.local" },
      { name: "cache.purge", outcome: "delete.zone" },
    ]);
  });

  it("records nothing for a refused request", async () => {
    const before = await env.DB.prepare("select count(*) as n from metrics").first<{ n: number }>();
    const res = await callApp("/v1/images/AAAAAAAAAAAAAAAAAAAAAA", {
      method: "DELETE",
      headers: { Authorization: `Bearer ${await token("someone")}` },
    });
    expect(res.status).toBe(404);
    const after = await env.DB.prepare("select count(*) as n from metrics").first<{ n: number }>();
    expect(after?.n).toBe(before?.n);
  });
});
