import { describe, expect, it } from "vitest";
import {
  deliveryCookieValue,
  readDeliveryCookie,
  readShareSession,
  shareSessionValue,
} from "../../src/auth/signed-cookies";
import { parseKeyring } from "../../src/auth/url-signing";
import { parseReferer, shareRefererAllowed } from "../../src/domain/hotlink";
import {
  albumTarget,
  imageTarget,
  type ShareFacts,
  shareExpiry,
  shareState,
} from "../../src/domain/shares";
import { escapeHtml, renderSharePage } from "../../src/http/share-page";

const LIMITS = { defaultTtlSeconds: 604800, maxTtlSeconds: 2592000, allowNever: false };
const NOW = 1_800_000_000_000;

interface ImageFacts {
  status: string;
  shareVersion: number;
  servedRevision: number | null;
  moderation: string;
}

function facts(
  share: Partial<ShareFacts["share"]> = {},
  image: Partial<ImageFacts> = {},
): ShareFacts {
  return {
    share: {
      shareVersion: 1,
      expiresAt: NOW + 1000,
      revokedAt: null,
      maxViews: null,
      views: 0,
      ...share,
    },
    target: imageTarget({
      status: "ready",
      shareVersion: 1,
      servedRevision: 1,
      moderation: "allowed",
      ...image,
    }),
  };
}

describe("share expiry", () => {
  it("defaults to the configured lifetime and caps what is asked", () => {
    expect(shareExpiry(undefined, LIMITS, NOW)).toEqual({ ok: true, value: NOW + 604800_000 });
    expect(shareExpiry(3600, LIMITS, NOW)).toEqual({ ok: true, value: NOW + 3600_000 });
    expect(shareExpiry(2592001, LIMITS, NOW).ok).toBe(false);
    expect(shareExpiry("never", LIMITS, NOW).ok).toBe(false);
    expect(shareExpiry("never", { ...LIMITS, allowNever: true }, NOW)).toEqual({
      ok: true,
      value: null,
    });
  });
});

describe("share state", () => {
  it.each([
    ["active", facts()],
    ["revoked", facts({ revokedAt: NOW - 1 })],
    ["revoked", facts({}, { shareVersion: 2 })],
    ["expired", facts({ expiresAt: NOW })],
    ["active", facts({ expiresAt: null })],
    ["unavailable", facts({}, { status: "deleted" })],
    ["unavailable", facts({}, { servedRevision: null })],
    // Moderation gates each view of a shared image (451), not the share itself.
    ["active", facts({}, { moderation: "blocked" })],
    ["exhausted", facts({ maxViews: 3, views: 3 })],
    ["active", facts({ maxViews: 3, views: 2 })],
    // Revocation wins over expiry, expiry over exhaustion.
    ["revoked", facts({ revokedAt: NOW, expiresAt: NOW - 5 })],
    ["expired", facts({ expiresAt: NOW - 5, maxViews: 1, views: 1 })],
  ] as const)("%s", (state, f) => {
    expect(shareState(f, NOW)).toBe(state);
  });

  it("revokes an album's shares with the album's version", () => {
    const share = facts().share;
    expect(shareState({ share, target: albumTarget({ shareVersion: 1 }) }, NOW)).toBe("active");
    expect(shareState({ share, target: albumTarget({ shareVersion: 2 }) }, NOW)).toBe("revoked");
  });
});

describe("share referers", () => {
  const allowed = (referer: string | null, patterns: string[]) =>
    shareRefererAllowed(parseReferer(referer), "images.test", patterns);
  it("serves the share's own pages, no-Referer requests and listed sites only", () => {
    expect(allowed("https://evil.net/", [])).toBe(true);
    expect(allowed(null, ["example.com"])).toBe(true);
    expect(allowed("https://images.test/s/x", ["example.com"])).toBe(true);
    expect(allowed("https://example.com/a", ["example.com"])).toBe(true);
    expect(allowed("https://example.com.evil.net/", ["example.com"])).toBe(false);
    expect(allowed("data:,x", ["example.com"])).toBe(false);
  });
});

describe("signed cookies", () => {
  const ring = parseKeyring("k1:one,k0:zero", "k1");
  const old = parseKeyring("k1:one,k0:zero", "k0");
  if (!ring || !old) throw new Error("rings");

  it("remember a share session for that share only, until it expires", async () => {
    const value = await shareSessionValue(ring, "share-a", { unlocked: true, counted: true }, 2000);
    expect(await readShareSession(ring, value, "share-a", 1000, 1800)).toEqual({
      unlocked: true,
      counted: true,
    });
    const none = { unlocked: false, counted: false };
    expect(await readShareSession(ring, value, "share-b", 1000, 1800)).toEqual(none);
    expect(await readShareSession(ring, value, "share-a", 2001, 1800)).toEqual(none);
    expect(
      await readShareSession(ring, value.replace(/\.uc$/, ".c"), "share-a", 1000, 1800),
    ).toEqual(none);
    expect(await readShareSession(ring, value, "share-a", 1000, 60)).toEqual(none);
    expect(await readShareSession(ring, undefined, "share-a", 1000, 1800)).toEqual(none);
  });

  it("grant delivery of the named images, across a key rotation", async () => {
    const value = await deliveryCookieValue(old, { imageIds: ["img1", "img2"] }, 2000);
    const read = await readDeliveryCookie(ring, value, 1000, 3600);
    expect(read?.grant.kind === "images" && [...read.grant.imageIds]).toEqual(["img1", "img2"]);
    expect(read?.expires).toBe(2000);
    const album = await deliveryCookieValue(ring, { albumId: "alb1" }, 2000);
    expect((await readDeliveryCookie(ring, album, 1000, 3600))?.grant).toEqual({
      kind: "album",
      albumId: "alb1",
    });
    // An album grant cannot be stretched into an image list, or the other way round.
    expect(
      await readDeliveryCookie(ring, album.replace(".album.", ".img1."), 1000, 3600),
    ).toBeNull();
    expect(await readDeliveryCookie(ring, value.replace("img2", "img3"), 1000, 3600)).toBeNull();
    expect(await readDeliveryCookie(ring, `${value}.img3`, 1000, 3600)).toBeNull();
    expect(
      await readDeliveryCookie(parseKeyring("k1:one", "k1") ?? ring, value, 1000, 3600),
    ).toBeNull();
    // A share session is no delivery grant, and the other way round.
    const session = await shareSessionValue(ring, "img1", { unlocked: true, counted: true }, 2000);
    expect(await readDeliveryCookie(ring, session, 1000, 3600)).toBeNull();
  });
});

describe("share page", () => {
  it("escapes everything the owner typed", () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe(
      "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;",
    );
    const html = renderSharePage(
      {
        kind: "image",
        token: "T",
        title: `</title><script>alert(1)</script>`,
        width: 10,
        height: 10,
        dominantColor: "red;}</style><script>",
        expiresAt: null,
        allowDownload: false,
        variants: [{ name: "medium", format: "jpeg", width: 10, height: 10 }],
      },
      "nonce",
    );
    expect(html).not.toContain("<script");
    expect(html).toContain("&lt;/title&gt;&lt;script&gt;");
    expect(html).toContain('<style nonce="nonce">');
    expect(html).toContain("This link does not expire.");
  });

  it("shows the form and nothing of the image while locked", () => {
    const html = renderSharePage({ kind: "locked", token: "T0k", wrongPassword: true }, "n");
    expect(html).toContain('action="/s/T0k"');
    expect(html).toContain("That password is not right.");
    expect(html).not.toContain("<picture");
  });
});
