import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { PolicyOverride } from "../../src/domain/policy";
import { ImageRepository } from "../../src/storage/image-repository";
import { deliver, encoded, event, gradient, uploaded } from "../helpers/processor";

const repo = new ImageRepository(env.DB);

/** Stores a user's policy overrides as the admin API does (the processor reads the same row). */
async function override(userId: string, document: PolicyOverride): Promise<void> {
  await env.DB.prepare(
    "insert into policies (scope, document, version, updated_at, updated_by) values (?, ?, 1, ?, 'test')",
  )
    .bind(`user:${userId}`, JSON.stringify(document), Date.now())
    .run();
}

describe("processing under the owner's policy", () => {
  it("fails a format the policy does not allow, by its sniffed bytes", async () => {
    await override("pol-jpeg-only", { allowedFormats: ["jpeg"] });
    const png = await uploaded(await encoded(gradient(64, 48), "png"), "pol-jpeg-only");
    const jpeg = await uploaded(await encoded(gradient(64, 48), "jpeg"), "pol-jpeg-only");
    const result = await deliver("image-events", [event(png), event(jpeg)]);
    expect(result.explicitAcks).toHaveLength(2);
    expect(await repo.get(png)).toMatchObject({
      status: "failed",
      failureCode: "unsupported_format",
    });
    expect((await repo.get(jpeg))?.status).toBe("ready");
  });

  it("fails an image over the policy's pixel ceiling", async () => {
    await override("pol-pixels", { maxPixels: 1000 });
    const id = await uploaded(await encoded(gradient(64, 48), "jpeg"), "pol-pixels");
    await deliver("image-events", [event(id)]);
    expect(await repo.get(id)).toMatchObject({ status: "failed", failureCode: "too_many_pixels" });
  });

  it("makes variants at the policy's preset sizes", async () => {
    await override("pol-presets", {
      variantPresets: {
        thumb: { width: 100, height: 100 },
        medium: { width: 300, height: 300 },
        large: { width: 500, height: 500 },
      },
    });
    const id = await uploaded(await encoded(gradient(800, 600), "jpeg"), "pol-presets");
    await deliver("image-events", [event(id)]);
    const found = await repo.getWithVariants(id);
    expect(found?.image.status).toBe("ready");
    const dims = Object.fromEntries(
      (found?.variants ?? []).map((v) => [`${v.name}.${v.format}`, [v.width, v.height]]),
    );
    expect(dims["thumb.webp"]).toEqual([100, 75]);
    expect(dims["medium.jpeg"]).toEqual([300, 225]);
    expect(dims["large.webp"]).toEqual([500, 375]);
  });
});
