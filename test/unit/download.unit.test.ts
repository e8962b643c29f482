import { describe, expect, it } from "vitest";
import { attachmentDisposition } from "../../src/domain/download";

const ID = "AAAAAAAAAAAAAAAAAAAAAA";

describe("attachmentDisposition", () => {
  it("names the file after the upload, the variant and the served format", () => {
    expect(attachmentDisposition("Holiday 2024.HEIC", ID, "thumb", "webp")).toBe(
      `attachment; filename="Holiday 2024-thumb.webp"; filename*=UTF-8''Holiday%202024-thumb.webp`,
    );
    expect(attachmentDisposition("scan.png", ID, "original", "png")).toBe(
      `attachment; filename="scan.png"; filename*=UTF-8''scan.png`,
    );
    expect(attachmentDisposition("photo.jpeg", ID, "large", "jpeg")).toContain(
      'filename="photo-large.jpg"',
    );
  });

  it("falls back to the image id", () => {
    expect(attachmentDisposition(null, ID, "medium", "avif")).toContain(
      `filename="${ID}-medium.avif"`,
    );
    expect(attachmentDisposition('"/\\\r\n.', ID, "thumb", "jpeg")).toContain(
      `filename="${ID}-thumb.jpg"`,
    );
  });

  it("keeps unsafe characters out of the header", () => {
    const value = attachmentDisposition(
      'a"b\r\nSet-Cookie: x=1;..\\..%2F/evil.png',
      ID,
      "thumb",
      "png",
    );
    expect(value).not.toMatch(/[\r\n]/);
    expect(value.match(/"/g)).toHaveLength(2);
    expect(value).not.toContain("/");
    expect(value).not.toContain("\\");
    const header = new Headers({ "Content-Disposition": value });
    expect(header.get("Content-Disposition")).toBe(value);
  });

  it("keeps UTF-8 names in filename* and an ASCII fallback", () => {
    const value = attachmentDisposition("Ürlaub 日本.jpg", ID, "thumb", "webp");
    expect(value).toContain('filename="_rlaub __-thumb.webp"');
    expect(value).toContain("filename*=UTF-8''%C3%9Crlaub%20%E6%97%A5%E6%9C%AC-thumb.webp");
    expect(attachmentDisposition("x".repeat(500), ID, "thumb", "webp").length).toBeLessThan(250);
  });
});
