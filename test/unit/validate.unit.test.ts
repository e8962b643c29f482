import { describe, expect, it } from "vitest";
import { z } from "zod";
import { decimalInteger, MAX_REPORTED_ISSUES, reportIssues } from "../../src/http/validate";

describe("reportIssues", () => {
  it("echoes at most MAX_REPORTED_ISSUES issues and then a count", () => {
    const issues = Array.from({ length: 50_000 }, (_, i) => ({ path: ["k", i], message: "bad" }));
    const errors = reportIssues(issues);
    expect(errors).toHaveLength(MAX_REPORTED_ISSUES + 1);
    expect(errors[0]).toEqual({ path: "k.0", message: "bad" });
    expect(errors.at(-1)).toEqual({
      path: "(more)",
      message: `${50_000 - MAX_REPORTED_ISSUES} more issues not shown`,
    });
    expect(JSON.stringify(errors).length).toBeLessThan(2048);
  });

  it("clips long messages and paths (zod lists every unknown key in one message)", () => {
    const keys = Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`key${i}`, 0]));
    const parsed = z.strictObject({ title: z.string().optional() }).safeParse(keys);
    expect(parsed.success).toBe(false);
    const errors = reportIssues(parsed.error?.issues ?? []);
    expect(JSON.stringify(errors).length).toBeLessThan(1024);
    const deep = reportIssues([{ path: Array.from({ length: 5000 }, () => "a"), message: "x" }]);
    expect(deep[0]?.path.length).toBeLessThanOrEqual(201);
    expect(reportIssues([{ path: [], message: "m" }])).toEqual([{ path: "(root)", message: "m" }]);
  });
});

describe("decimalInteger", () => {
  const limit = decimalInteger(1, 100);

  it("accepts plain decimal digits in range", () => {
    expect(limit.parse("1")).toBe(1);
    expect(limit.parse("16")).toBe(16);
    expect(limit.parse("100")).toBe(100);
  });

  it.each([
    "0x10",
    "1e1",
    "-1",
    "+5",
    " 5",
    "5 ",
    "5.0",
    "",
    "0",
    "101",
    "9".repeat(400),
    "Infinity",
  ])("rejects %j", (value) => {
    expect(limit.safeParse(value).success).toBe(false);
  });
});
