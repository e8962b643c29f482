import { describe, expect, it } from "vitest";
import { isImageId, newImageId } from "../../src/domain/ids";
import {
  canView,
  FORMAT_CLASSES,
  formatClass,
  isPubliclyServable,
  negotiateFormat,
} from "../../src/domain/images";

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

describe("formatClass and negotiateFormat", () => {
  const all = ["jpeg", "webp", "avif"];
  const pick = (available: string[], accept: string | null) =>
    negotiateFormat(available, formatClass(accept));

  it("prefers AVIF, then WebP, when announced", () => {
    expect(pick(all, "image/avif,image/webp,*/*")).toBe("avif");
    expect(pick(all, "image/webp,*/*")).toBe("webp");
    expect(pick(all, "*/*")).toBe("jpeg");
    expect(pick(all, null)).toBe("jpeg");
  });

  it("honours q=0 and does not read a wildcard as AVIF/WebP support", () => {
    expect(pick(all, "image/avif;q=0, image/webp")).toBe("webp");
    expect(pick(all, "image/*")).toBe("jpeg");
    expect(pick(["jpeg", "webp"], "image/jpeg;q=0, image/webp;q=0.5")).toBe("webp");
    expect(formatClass("image/avif;q=0.0, image/webp;q=abc")).toBe("basic");
  });

  it("reduces every Accept to one of four classes", () => {
    expect(formatClass("image/avif,image/webp,image/apng,image/*,*/*;q=0.8")).toBe("avif-webp");
    expect(formatClass("IMAGE/AVIF")).toBe("avif");
    expect(formatClass("image/webp")).toBe("webp");
    expect(formatClass("")).toBe("basic");
    expect(formatClass(`${"x,".repeat(5000)}image/webp`)).toBe("basic");
    expect(FORMAT_CLASSES).toHaveLength(4);
  });

  it("serves the legacy format of a variant when the class takes neither AVIF nor WebP", () => {
    expect(pick(["avif", "webp", "png"], "image/png;q=0")).toBe("png");
    expect(pick(["webp", "avif"], "image/jpeg")).toBe("webp");
    expect(pick(["avif", "jpeg"], "image/webp")).toBe("jpeg");
  });

  it("falls back to what exists", () => {
    expect(pick(["png", "webp"], null)).toBe("png");
    expect(pick(["avif"], null)).toBe("avif");
    expect(pick(["heic"], "image/webp")).toBe("heic");
    expect(pick([], "image/webp")).toBeNull();
  });
});
