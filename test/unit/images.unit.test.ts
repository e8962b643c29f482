import { describe, expect, it } from "vitest";
import { isImageId, newImageId } from "../../src/domain/ids";
import { canView, isPubliclyServable, negotiateFormat } from "../../src/domain/images";

describe("image ids", () => {
  it("are 128-bit, URL-safe and unique", () => {
    const ids = new Set(Array.from({ length: 1000 }, newImageId));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(isImageId(id)).toBe(true);
    expect(isImageId("../../etc/passwd")).toBe(false);
  });
});

describe("visibility", () => {
  const base = { ownerId: "alice", moderation: "allowed" };
  const alice = { userId: "alice", admin: false };
  const bob = { userId: "bob", admin: false };
  const admin = { userId: "root", admin: true };
  it("lets the owner and admins see everything and others only public/unlisted", () => {
    expect(canView({ ...base, visibility: "private" }, alice)).toBe(true);
    expect(canView({ ...base, visibility: "private" }, admin)).toBe(true);
    expect(canView({ ...base, visibility: "private" }, bob)).toBe(false);
    expect(canView({ ...base, visibility: "private" }, null)).toBe(false);
    expect(canView({ ...base, visibility: "unlisted" }, null)).toBe(true);
    expect(canView({ ...base, visibility: "public" }, bob)).toBe(true);
    expect(canView({ ...base, visibility: "public", moderation: "blocked" }, bob)).toBe(false);
  });

  it("serves only public, allowed images without a signature", () => {
    expect(isPubliclyServable({ visibility: "public", moderation: "allowed" })).toBe(true);
    expect(isPubliclyServable({ visibility: "unlisted", moderation: "allowed" })).toBe(false);
    expect(isPubliclyServable({ visibility: "public", moderation: "pending_review" })).toBe(false);
  });
});

describe("negotiateFormat", () => {
  const all = ["jpeg", "webp", "avif"];
  it("prefers AVIF, then WebP, when announced", () => {
    expect(negotiateFormat(all, "image/avif,image/webp,*/*")).toBe("avif");
    expect(negotiateFormat(all, "image/webp,*/*")).toBe("webp");
    expect(negotiateFormat(all, "*/*")).toBe("jpeg");
    expect(negotiateFormat(all, null)).toBe("jpeg");
  });

  it("honours q=0 and does not read a wildcard as AVIF/WebP support", () => {
    expect(negotiateFormat(all, "image/avif;q=0, image/webp")).toBe("webp");
    expect(negotiateFormat(all, "image/*")).toBe("jpeg");
    expect(negotiateFormat(["jpeg", "webp"], "image/jpeg;q=0, image/webp;q=0.5")).toBe("webp");
  });

  it("falls back to what exists", () => {
    expect(negotiateFormat(["png", "webp"], null)).toBe("png");
    expect(negotiateFormat(["avif"], null)).toBe("avif");
    expect(negotiateFormat([], "image/webp")).toBeNull();
  });
});
