import { describe, expect, it } from "vitest";
import {
  ClassifierRules,
  classify,
  DEFAULT_CLASSIFIER_RULES,
  mayAppeal,
  moderationGate,
  percentile,
  reporterAddress,
  reportsMayHold,
} from "../../src/domain/moderation";

describe("classify", () => {
  it.each([
    [{ porn: 0.98, neutral: 0.02 }, "block", "classifier: porn 0.980 >= 0.97"],
    [{ hentai: 0.75 }, "pending_review", "classifier: hentai 0.750 >= 0.7"],
    [{ sexy: 0.91 }, "pending_review", "classifier: sexy 0.910 >= 0.9"],
    [{ sexy: 0.89, porn: 0.05 }, "allow", "classifier: below every threshold"],
    [{ drawing: 1 }, "allow", "classifier: below every threshold"],
    [{ neutral: 0.99, porn: Number.NaN }, "allow", "classifier: below every threshold"],
    // The strongest action wins whatever the order of the classes.
    [{ sexy: 0.95, porn: 0.99 }, "block", "classifier: porn 0.990 >= 0.97"],
  ] as const)("%j -> %s", (scores, action, reason) => {
    expect(classify(scores, DEFAULT_CLASSIFIER_RULES)).toEqual({ action, reason });
  });

  it("validates rules: known shape, review at most block, thresholds in [0, 1]", () => {
    expect(ClassifierRules.safeParse({ porn: { review: 0.5, block: 0.9 } }).success).toBe(true);
    expect(ClassifierRules.safeParse({ porn: { review: 0.9, block: 0.5 } }).success).toBe(false);
    expect(ClassifierRules.safeParse({ porn: { block: 2 } }).success).toBe(false);
    expect(ClassifierRules.safeParse({ Porn: { block: 0.9 } }).success).toBe(false);
    expect(ClassifierRules.safeParse({ porn: { block: 0.9, ban: 1 } }).success).toBe(false);
  });
});

describe("moderationGate", () => {
  it.each([
    ["allowed", "451", "serve"],
    ["blocked", "owner_only", "unavailable"],
    ["blocked", "blurred", "unavailable"],
    ["pending_review", "owner_only", "hide"],
    ["pending_review", "451", "unavailable"],
    ["pending_review", "blurred", "blur"],
    ["something else", "owner_only", "unavailable"],
  ] as const)("%s under %s -> %s", (state, mode, gate) => {
    expect(moderationGate(state, mode)).toBe(gate);
  });
});

describe("reports and appeals", () => {
  it("holds an allowed image at the threshold only", () => {
    expect(reportsMayHold("allowed", 2, 3)).toBe(false);
    expect(reportsMayHold("allowed", 3, 3)).toBe(true);
    expect(reportsMayHold("blocked", 9, 3)).toBe(false);
    expect(reportsMayHold("pending_review", 9, 3)).toBe(false);
  });

  it("allows one appeal against a hold or a block", () => {
    expect(mayAppeal({ moderation: "blocked", appealedAt: null })).toBe(true);
    expect(mayAppeal({ moderation: "pending_review", appealedAt: null })).toBe(true);
    expect(mayAppeal({ moderation: "blocked", appealedAt: 1 })).toBe(false);
    expect(mayAppeal({ moderation: "allowed", appealedAt: null })).toBe(false);
  });
});

describe("percentile", () => {
  it("is the nearest rank of ascending values", () => {
    expect(percentile([], 50)).toBeNull();
    expect(percentile([5], 95)).toBe(5);
    expect(percentile([1, 2, 3, 4], 50)).toBe(2);
    expect(percentile([1, 2, 3, 4], 95)).toBe(4);
    expect(percentile([1, 2, 3, 4], 0)).toBe(1);
  });
});

describe("reporterAddress", () => {
  it("keeps IPv4 addresses and folds IPv6 into its /64", () => {
    expect(reporterAddress("203.0.113.7")).toBe("203.0.113.7");
    expect(reporterAddress("2001:db8:1:2:3:4:5:6")).toBe("2001:db8:1:2::/64");
    expect(reporterAddress("2001:DB8:1:2::99")).toBe("2001:db8:1:2::/64");
    expect(reporterAddress("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(reporterAddress("::1")).toBe("0:0:0:0::/64");
    expect(reporterAddress("unknown")).toBe("unknown");
  });
});
