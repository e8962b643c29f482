import { readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..");
// Each vitest project runs every *.test.ts under its folder (vitest.config.ts).
const PROJECT_DIRS = ["test/unit/", "test/edge/", "test/processor/", "test/e2e/"];

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith(".test.ts"))
    .map((e) => relative(root, join(e.parentPath, e.name)));
}

describe("test layout", () => {
  it("puts every test file where a vitest project runs it", () => {
    const files = testFiles(join(root, "test"));
    expect(files.length).toBeGreaterThan(20);
    const orphans = files.filter((f) => !PROJECT_DIRS.some((d) => f.startsWith(d)));
    expect(orphans).toEqual([]);
  });
});
