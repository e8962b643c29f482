import { describe, expect, it } from "vitest";
import {
  canTransition,
  IMAGE_STATUSES,
  LIVE_STATUSES,
  TRANSITIONS,
  type Transition,
} from "../../src/domain/lifecycle";

const NOW = 1_800_000_000_000;
const MINUTE = 60_000;

describe("lifecycle table", () => {
  it("names only known states", () => {
    for (const t of Object.values(TRANSITIONS) as Transition[]) {
      for (const s of [...t.from, t.to, ...(t.stale?.from ?? [])]) {
        expect(IMAGE_STATUSES).toContain(s);
      }
    }
  });

  it("never leaves `deleted`: deletion is the one path out", () => {
    for (const [name, t] of Object.entries(TRANSITIONS) as [string, Transition][]) {
      expect([...t.from, ...(t.stale?.from ?? [])], name).not.toContain("deleted");
    }
    expect(LIVE_STATUSES).not.toContain("deleted");
    expect(LIVE_STATUSES).toHaveLength(IMAGE_STATUSES.length - 1);
  });

  it("takes the upload slot once, and back only after the stale period", () => {
    expect(canTransition("claimUpload", "uploader", "pending", NOW, NOW)).toBe(true);
    expect(canTransition("claimUpload", "uploader", "uploading", NOW - MINUTE, NOW)).toBe(false);
    expect(canTransition("claimUpload", "uploader", "uploading", NOW - 11 * MINUTE, NOW)).toBe(
      true,
    );
    expect(canTransition("claimUpload", "uploader", "uploaded", NOW - 99 * MINUTE, NOW)).toBe(
      false,
    );
  });

  it("checks who may trigger a transition", () => {
    expect(canTransition("claimUpload", "owner", "pending", NOW, NOW)).toBe(false);
    expect(canTransition("completeProcessing", "processor", "processing", NOW, NOW)).toBe(true);
    expect(canTransition("completeProcessing", "owner", "processing", NOW, NOW)).toBe(false);
    expect(canTransition("reprocess", "processor", "ready", NOW, NOW)).toBe(false);
    expect(canTransition("requeue", "sweeper", "uploaded", NOW - 3 * MINUTE, NOW)).toBe(true);
    expect(canTransition("requeue", "owner", "uploaded", NOW - 3 * MINUTE, NOW)).toBe(false);
  });

  it("reprocesses ready and failed images, and stalled ones only after their period", () => {
    expect(canTransition("reprocess", "owner", "ready", NOW, NOW)).toBe(true);
    expect(canTransition("reprocess", "owner", "failed", NOW, NOW)).toBe(true);
    expect(canTransition("reprocess", "owner", "processing", NOW - MINUTE, NOW)).toBe(false);
    expect(canTransition("reprocess", "owner", "processing", NOW - 31 * MINUTE, NOW)).toBe(true);
    expect(canTransition("reprocess", "owner", "pending", NOW - 99 * MINUTE, NOW)).toBe(false);
  });

  it("requeues only stalled revisions", () => {
    expect(canTransition("requeue", "sweeper", "uploaded", NOW - MINUTE, NOW)).toBe(false);
    expect(canTransition("requeue", "sweeper", "ready", NOW - 99 * MINUTE, NOW)).toBe(false);
  });

  it("fails only revisions that are being processed", () => {
    for (const s of IMAGE_STATUSES) {
      expect(canTransition("fail", "processor", s, NOW, NOW), s).toBe(
        s === "uploaded" || s === "processing",
      );
    }
  });

  it("deletes from every live state", () => {
    for (const s of IMAGE_STATUSES) {
      expect(canTransition("delete", "owner", s, NOW, NOW), s).toBe(s !== "deleted");
    }
  });
});
