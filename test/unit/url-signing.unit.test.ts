import { describe, expect, it } from "vitest";
import { parseKeyring, signPath, verifyPath } from "../../src/auth/url-signing";

const ring = parseKeyring("k1:secret-one,k0:secret-old", "k1");

function params(query: string) {
  const q = new URLSearchParams(query);
  return {
    kid: q.get("kid") ?? undefined,
    exp: q.get("exp") ?? undefined,
    sig: q.get("sig") ?? undefined,
  };
}

describe("URL signing", () => {
  it("parses keyrings and refuses malformed ones", () => {
    expect(ring?.keys.size).toBe(2);
    expect(parseKeyring("k1:a", "k2")).toBeNull();
    expect(parseKeyring("nokey", "nokey")).toBeNull();
    expect(parseKeyring("k1:", "k1")).toBeNull();
  });

  it("verifies its own signature and rejects any change", async () => {
    if (!ring) throw new Error("no ring");
    const q = await signPath(ring, "view", "/d/a/1/thumb", 2000);
    expect(await verifyPath(ring, "view", "/d/a/1/thumb", params(q), 1000)).toBe("valid");
    expect(await verifyPath(ring, "view", "/d/a/1/large", params(q), 1000)).toBe("invalid");
    expect(await verifyPath(ring, "upload", "/d/a/1/thumb", params(q), 1000)).toBe("invalid");
    expect(
      await verifyPath(ring, "view", "/d/a/1/thumb", { ...params(q), exp: "2001" }, 1000),
    ).toBe("invalid");
    expect(await verifyPath(ring, "view", "/d/a/1/thumb", { ...params(q), kid: "k0" }, 1000)).toBe(
      "invalid",
    );
    expect(await verifyPath(ring, "view", "/d/a/1/thumb", { ...params(q), sig: "!!" }, 1000)).toBe(
      "invalid",
    );
    expect(await verifyPath(ring, "view", "/d/a/1/thumb", params(q), 2001)).toBe("expired");
  });

  it("treats missing parameters as invalid", async () => {
    if (!ring) throw new Error("no ring");
    expect(
      await verifyPath(ring, "view", "/x", { kid: undefined, exp: undefined, sig: undefined }, 0),
    ).toBe("invalid");
  });
});
