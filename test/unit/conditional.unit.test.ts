import { describe, expect, it } from "vitest";
import {
  evaluatePreconditions,
  hasPreconditions,
  parseEntityTagCondition,
  parseHttpDate,
  parsePreconditions,
  storageConditionHint,
} from "../../src/domain/conditional";

const ETAG = '"abc123"';
const MODIFIED = Date.UTC(2024, 0, 15, 12, 0, 0, 400);
const NOW = Date.UTC(2025, 5, 1);

function pre(headers: Record<string, string>, method = "GET") {
  return parsePreconditions(new Headers(headers), method, NOW);
}

function outcome(headers: Record<string, string>, lastModified?: number, method = "GET") {
  return evaluatePreconditions(pre(headers, method), method, { etag: ETAG, lastModified });
}

describe("parseEntityTagCondition", () => {
  it("parses *, strong and weak tags and lists with empty elements", () => {
    expect(parseEntityTagCondition("*")).toEqual({ kind: "any" });
    expect(parseEntityTagCondition('"a"')).toEqual({
      kind: "tags",
      tags: [{ weak: false, opaque: "a" }],
    });
    expect(parseEntityTagCondition(' W/"a" , "b,c",, ""')).toEqual({
      kind: "tags",
      tags: [
        { weak: true, opaque: "a" },
        { weak: false, opaque: "b,c" },
        { weak: false, opaque: "" },
      ],
    });
  });

  it.each([
    "abc",
    '"abc',
    'abc"',
    ",",
    " , ,",
    "W/abc",
    'w/"abc"',
    '"a" "b"',
    '"a" x',
    '*, "a"',
    '"a"b"',
    "",
    `"${"x".repeat(16_384)}`,
    Array.from({ length: 100 }, (_, i) => `"t${i}"`).join(","),
  ])("treats %j as absent", (header) => {
    expect(parseEntityTagCondition(header)).toBeNull();
  });

  it("handles a 16 KB header without backtracking blow-ups", () => {
    const start = performance.now();
    expect(parseEntityTagCondition(`"${"a".repeat(16_384)}"`)).not.toBeNull();
    expect(parseEntityTagCondition(`${'"a",'.repeat(4096)}x`)).toBeNull();
    expect(performance.now() - start).toBeLessThan(200);
  });
});

describe("parseHttpDate", () => {
  const ms = Date.UTC(1994, 10, 6, 8, 49, 37);

  it("accepts the IMF-fixdate and both obsolete forms", () => {
    expect(parseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT")).toBe(ms);
    expect(parseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT", NOW)).toBe(ms);
    expect(parseHttpDate("Sun Nov  6 08:49:37 1994")).toBe(ms);
  });

  it.each([
    "garbage",
    "1",
    "Jan",
    "2024-01-15T12:00:00Z",
    "Sun, 06 Nov 1994 08:49:37 UTC",
    "Mon, 06 Nov 1994 08:49:37 GMT",
    "Thu, 31 Feb 2022 08:49:37 GMT",
    "Sun, 06 Nov 1994 25:49:37 GMT",
    "sun, 06 nov 1994 08:49:37 gmt",
    "",
  ])("rejects %j", (value) => {
    expect(parseHttpDate(value)).toBeNull();
  });
});

describe("parsePreconditions", () => {
  it("drops malformed headers and the ones RFC 9110 says not to evaluate", () => {
    expect(hasPreconditions(pre({ "If-None-Match": "abc", "If-Match": "W/abc" }))).toBe(false);
    expect(hasPreconditions(pre({ "If-Unmodified-Since": "garbage" }))).toBe(false);
    const both = pre({
      "If-Match": ETAG,
      "If-Unmodified-Since": "Sun, 06 Nov 1994 08:49:37 GMT",
    });
    expect(both.ifUnmodifiedSince).toBeNull();
    const ims = "Sun, 06 Nov 1994 08:49:37 GMT";
    expect(pre({ "If-None-Match": ETAG, "If-Modified-Since": ims }).ifModifiedSince).toBeNull();
    expect(pre({ "If-Modified-Since": ims }, "POST").ifModifiedSince).toBeNull();
    expect(
      pre({ "If-None-Match": "abc", "If-Modified-Since": ims }).ifModifiedSince,
    ).not.toBeNull();
    // A date in the future is invalid for If-Modified-Since.
    expect(
      pre({ "If-Modified-Since": "Fri, 01 Jan 2100 00:00:00 GMT" }).ifModifiedSince,
    ).toBeNull();
  });
});

describe("evaluatePreconditions (RFC 9110 §13.2.2 order)", () => {
  const before = "Sun, 14 Jan 2024 12:00:00 GMT";
  const same = "Mon, 15 Jan 2024 12:00:00 GMT";
  const after = "Tue, 16 Jan 2024 12:00:00 GMT";

  it("If-Match uses the strong comparison and wins over If-None-Match", () => {
    expect(outcome({ "If-Match": ETAG })).toBe("proceed");
    expect(outcome({ "If-Match": "*" })).toBe("proceed");
    expect(outcome({ "If-Match": `W/${ETAG}` })).toBe("failed");
    expect(outcome({ "If-Match": '"other"', "If-None-Match": ETAG })).toBe("failed");
  });

  it("If-Unmodified-Since applies only without If-Match", () => {
    expect(outcome({ "If-Unmodified-Since": before }, MODIFIED)).toBe("failed");
    expect(outcome({ "If-Unmodified-Since": same }, MODIFIED)).toBe("proceed");
    expect(outcome({ "If-Unmodified-Since": before })).toBe("unknown");
    expect(outcome({ "If-Match": ETAG, "If-Unmodified-Since": before }, MODIFIED)).toBe("proceed");
  });

  it("If-None-Match uses the weak comparison: 304 for GET/HEAD, 412 otherwise", () => {
    expect(outcome({ "If-None-Match": `"x", W/${ETAG}` })).toBe("not_modified");
    expect(outcome({ "If-None-Match": "*" }, undefined, "HEAD")).toBe("not_modified");
    expect(outcome({ "If-None-Match": ETAG }, undefined, "DELETE")).toBe("failed");
    expect(outcome({ "If-None-Match": '"x"', "If-Modified-Since": after }, MODIFIED)).toBe(
      "proceed",
    );
  });

  it("If-Modified-Since compares at one-second resolution", () => {
    expect(outcome({ "If-Modified-Since": same }, MODIFIED)).toBe("not_modified");
    expect(outcome({ "If-Modified-Since": before }, MODIFIED)).toBe("proceed");
    expect(outcome({ "If-Modified-Since": same })).toBe("unknown");
  });

  it("ignores malformed headers instead of failing", () => {
    for (const bad of ["abc", '"abc', ",", "W/abc"]) {
      expect(outcome({ "If-None-Match": bad, "If-Match": bad })).toBe("proceed");
    }
    expect(outcome({ "If-Unmodified-Since": "garbage" }, MODIFIED)).toBe("proceed");
  });
});

describe("storageConditionHint", () => {
  it("only expresses single unquoted tags and dates", () => {
    expect(storageConditionHint(pre({}))).toBeUndefined();
    expect(storageConditionHint(pre({ "If-None-Match": ETAG }))).toEqual({
      etagDoesNotMatch: "abc123",
    });
    expect(storageConditionHint(pre({ "If-None-Match": '"a", "b"' }))).toBeUndefined();
    // A quoted "*" is a literal tag, not the wildcard.
    expect(storageConditionHint(pre({ "If-Match": '"*"' }))).toBeUndefined();
    expect(storageConditionHint(pre({ "If-Match": "*" }))).toEqual({ etagMatches: "*" });
    expect(
      storageConditionHint(pre({ "If-Modified-Since": "Sun, 06 Nov 1994 08:49:37 GMT" })),
    ).toEqual({
      uploadedAfter: new Date(Date.UTC(1994, 10, 6, 8, 49, 37)),
      secondsGranularity: true,
    });
    expect(
      storageConditionHint(pre({ "If-Unmodified-Since": "Sun, 06 Nov 1994 08:49:37 GMT" })),
    ).toEqual({
      uploadedBefore: new Date(Date.UTC(1994, 10, 6, 8, 49, 38)),
      secondsGranularity: true,
    });
  });
});
