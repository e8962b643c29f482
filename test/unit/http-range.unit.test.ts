import { describe, expect, it } from "vitest";
import { parseRange } from "../../src/domain/http-range";

describe("parseRange", () => {
  it("parses closed, open and suffix ranges", () => {
    expect(parseRange("bytes=0-9", 100)).toEqual({ kind: "partial", offset: 0, length: 10 });
    expect(parseRange("bytes=90-", 100)).toEqual({ kind: "partial", offset: 90, length: 10 });
    expect(parseRange("bytes=-10", 100)).toEqual({ kind: "partial", offset: 90, length: 10 });
    expect(parseRange("bytes=95-200", 100)).toEqual({ kind: "partial", offset: 95, length: 5 });
    expect(parseRange("bytes=-500", 100)).toEqual({ kind: "partial", offset: 0, length: 100 });
  });

  it("serves the whole body for absent, malformed or multi-range headers", () => {
    for (const h of [null, "items=0-1", "bytes=0-1,5-6", "bytes=5-1", "bytes=-"]) {
      expect(parseRange(h, 100)).toEqual({ kind: "full" });
    }
  });

  it("never yields a negative or non-integer window for huge numbers", () => {
    expect(parseRange(`bytes=${"9".repeat(400)}-`, 100)).toEqual({ kind: "unsatisfiable" });
    expect(parseRange(`bytes=0-${"9".repeat(400)}`, 100)).toEqual({
      kind: "partial",
      offset: 0,
      length: 100,
    });
    expect(parseRange(`bytes=-${"9".repeat(400)}`, 100)).toEqual({
      kind: "partial",
      offset: 0,
      length: 100,
    });
  });

  it("reports ranges past the end as unsatisfiable", () => {
    expect(parseRange("bytes=100-", 100)).toEqual({ kind: "unsatisfiable" });
    expect(parseRange("bytes=-0", 100)).toEqual({ kind: "unsatisfiable" });
  });
});
