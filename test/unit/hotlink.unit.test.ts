import { describe, expect, it } from "vitest";
import {
  DEFAULT_HOTLINK_RULES,
  type HotlinkRules,
  hostMatches,
  hotlinkBeforeOwner,
  hotlinkWithOwner,
  normaliseRefererPattern,
  parseReferer,
} from "../../src/domain/hotlink";

const rules = (over: Partial<HotlinkRules> = {}): HotlinkRules => ({
  ...DEFAULT_HOTLINK_RULES,
  ...over,
});

/** The whole decision, the way delivery takes it. */
function decide(referer: string | null, owner: HotlinkRules, global: string[] = []) {
  const parsed = parseReferer(referer);
  const first = hotlinkBeforeOwner(parsed, "images.test", global);
  return first === "allowed" ? first : hotlinkWithOwner(parsed, global, owner);
}

describe("normaliseRefererPattern", () => {
  it("accepts hosts and label wildcards, normalised", () => {
    expect(normaliseRefererPattern(" Example.COM. ")).toBe("example.com");
    expect(normaliseRefererPattern("*.Example.org")).toBe("*.example.org");
    expect(normaliseRefererPattern("bücher.de")).toBe("xn--bcher-kva.de");
    expect(normaliseRefererPattern("*")).toBe("*");
    expect(normaliseRefererPattern("localhost")).toBe("localhost");
    expect(normaliseRefererPattern("10.0.0.1")).toBe("10.0.0.1");
  });

  it("refuses anything that is not a host pattern", () => {
    for (const bad of [
      "",
      "com",
      "*.com",
      "*.",
      "**.example.com",
      "ex*ample.com",
      "example.com:8080",
      "https://example.com",
      "example.com/path",
      "a_b.com",
      "-bad.example.com",
      "exa mple.com",
      "*.10.0.0.1",
      "[::1]",
      `${"a".repeat(64)}.com`,
      `${"a.".repeat(130)}com`,
      "example..com",
    ]) {
      expect(normaliseRefererPattern(bad), bad).toBeNull();
    }
  });
});

describe("hostMatches", () => {
  it("matches exactly or by whole labels, never by substring", () => {
    expect(hostMatches("example.com", "example.com")).toBe(true);
    expect(hostMatches("example.com", "www.example.com")).toBe(false);
    expect(hostMatches("example.com", "example.com.evil.net")).toBe(false);
    expect(hostMatches("example.com", "evil-example.com")).toBe(false);
    expect(hostMatches("*.example.org", "a.example.org")).toBe(true);
    expect(hostMatches("*.example.org", "a.b.example.org")).toBe(true);
    expect(hostMatches("*.example.org", "example.org")).toBe(false);
    expect(hostMatches("*.example.org", "evil-example.org")).toBe(false);
    expect(hostMatches("*.example.org", "example.org.evil.net")).toBe(false);
    expect(hostMatches("*", "anything.net")).toBe(true);
  });
});

describe("parseReferer", () => {
  it("reads http(s) URLs and calls everything else unknown", () => {
    expect(parseReferer(null)).toEqual({ kind: "none" });
    expect(parseReferer("  ")).toEqual({ kind: "none" });
    expect(parseReferer("https://WWW.Example.com./page?q=1")).toEqual({
      kind: "site",
      host: "www.example.com.",
      hostname: "www.example.com",
    });
    expect(parseReferer("example.com")).toEqual({ kind: "unknown" });
    expect(parseReferer("android-app://com.example.app/")).toEqual({ kind: "unknown" });
    expect(parseReferer("javascript:alert(1)")).toEqual({ kind: "unknown" });
    expect(parseReferer(`https://example.com/${"a".repeat(5000)}`)).toEqual({ kind: "unknown" });
  });
});

describe("hotlink decision", () => {
  const owner = rules({ allowedReferers: ["example.com", "*.example.org"] });

  it("serves everyone while no allowlist is in force", () => {
    expect(decide("https://anywhere.net/", DEFAULT_HOTLINK_RULES)).toBe("allowed");
    expect(decide("not a url", DEFAULT_HOTLINK_RULES)).toBe("allowed");
    expect(decide(null, DEFAULT_HOTLINK_RULES)).toBe("allowed");
  });

  it("serves listed sites and refuses look-alikes", () => {
    expect(decide("https://example.com/post/1", owner)).toBe("allowed");
    expect(decide("http://blog.example.org/", owner)).toBe("allowed");
    expect(decide("https://example.com.evil.net/", owner)).toBe("blocked");
    expect(decide("https://evil-example.com/", owner)).toBe("blocked");
    expect(decide("https://example.org/", owner)).toBe("blocked");
    expect(decide("not a url", owner)).toBe("blocked");
    expect(decide("ftp://example.com/", owner)).toBe("blocked");
  });

  it("always serves the service's own pages and the global allowlist", () => {
    const closed = rules({ allowedReferers: ["example.com"], allowEmptyReferer: false });
    expect(decide("https://images.test/gallery", closed)).toBe("allowed");
    expect(decide("https://images.test.evil.net/", closed)).toBe("blocked");
    expect(decide("https://partner.net/", closed, ["partner.net"])).toBe("allowed");
  });

  it("lets a global allowlist alone turn protection on", () => {
    expect(decide("https://other.net/", DEFAULT_HOTLINK_RULES, ["partner.net"])).toBe("blocked");
    expect(decide("https://other.net/", rules({ allowedReferers: ["*"] }), ["partner.net"])).toBe(
      "allowed",
    );
  });

  it("follows the owner on requests without a Referer", () => {
    expect(decide(null, owner)).toBe("allowed");
    expect(decide("", rules({ allowEmptyReferer: false }))).toBe("blocked");
  });
});
