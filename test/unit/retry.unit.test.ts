import { describe, expect, it } from "vitest";
import { retryDelaySeconds } from "../../src/domain/retry";

describe("retryDelaySeconds", () => {
  it("doubles from 5 s per attempt", () => {
    expect([1, 2, 3, 4, 5].map(retryDelaySeconds)).toEqual([5, 10, 20, 40, 80]);
  });

  it("is capped at five minutes and sane for odd input", () => {
    expect(retryDelaySeconds(30)).toBe(300);
    expect(retryDelaySeconds(0)).toBe(5);
  });
});
