import { describe, expect, it } from "vitest";
import { albumKey, ftsQuery, ownerKey, queryWords } from "../../src/domain/search-query";
import { MAX_TAG_LENGTH, MAX_TAGS, normaliseTag, normaliseTags } from "../../src/domain/tags";

describe("tag normalisation", () => {
  it.each([
    ["  Sunset   Beach ", "sunset beach"],
    ["ＳＵＮＳＥＴ", "sunset"],
    ["Straße", "strasse"],
    ["STRASSE", "strasse"],
    ["Café", "café"],
    ["Cafe\u0301", "café"],
    ["new\tyear", "new year"],
    ["c++", "c++"],
    ["rock & roll", "rock & roll"],
  ])("%j -> %j", (raw, tag) => {
    expect(normaliseTag(raw)).toBe(tag);
  });

  it.each(["", "   ", "a\u0000b", "tag<script>", "x/y", "😀", 'quo"te'])("refuses %j", (raw) => {
    expect(normaliseTag(raw)).toBeNull();
  });

  it("deduplicates after normalising and holds the limits", () => {
    expect(normaliseTags(["Beach", "beach ", "BEACH", "sea"])).toEqual({
      ok: true,
      value: ["beach", "sea"],
    });
    expect(normaliseTags(Array.from({ length: MAX_TAGS + 1 }, (_, i) => `t${i}`)).ok).toBe(false);
    expect(normaliseTags(["a".repeat(MAX_TAG_LENGTH)]).ok).toBe(true);
    const long = normaliseTags(["a".repeat(MAX_TAG_LENGTH + 1)]);
    expect(long.ok).toBe(false);
    if (!long.ok) expect(long.error.code).toBe("validation_failed");
    const bad = normaliseTags(["ok", "<no>"]);
    expect(!bad.ok && bad.error.detail).toContain("tags.1");
  });
});

describe("search queries", () => {
  it("quotes every word and makes the last one a prefix", () => {
    expect(ftsQuery("Sunset bea")).toBe('"sunset" "bea"*');
    expect(ftsQuery("  crème   brûlée ")).toBe('"crème" "brûlée"*');
    expect(ftsQuery("ＦＯＸ")).toBe('"fox"*');
  });

  it.each([
    ['"', null],
    ["*", null],
    ["", null],
    ["NEAR(a b)", '"near" "a" "b"*'],
    ["a OR b", '"a" "or" "b"*'],
    ["title:secret", '"title" "secret"*'],
    ["-private", '"private"*'],
    ["'; DROP TABLE images; --", '"drop" "table" "images"*'],
    ['a" OR "1"="1', '"a" "or" "1" "1"*'],
  ])("%j is only words: %j", (q, expected) => {
    expect(ftsQuery(q)).toBe(expected);
  });

  it("keeps at most twelve words", () => {
    expect(queryWords(Array.from({ length: 40 }, (_, i) => `w${i}`).join(" "))).toHaveLength(12);
  });
});

describe("index keys", () => {
  it("are single lower-case tokens, stable, and distinct for distinct owners and albums", () => {
    expect(ownerKey("alice")).toMatch(/^o[0-9a-f]{16}$/);
    expect(ownerKey("alice")).toBe(ownerKey("alice"));
    expect(ownerKey("alice")).not.toBe(ownerKey("bob"));
    expect(albumKey("AbC-_x")).toBe("a4162432d5f78");
    expect(queryWords(albumKey("W4-nIEG-q2wNT5yKEmg6UA"))).toHaveLength(1);
    expect(queryWords(ownerKey("user with spaces"))).toHaveLength(1);
  });
});
