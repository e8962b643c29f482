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

  it("accepts only the canonical encoding of sig, exp and kid", async () => {
    if (!ring) throw new Error("no ring");
    const q = params(await signPath(ring, "view", "/d/a/1/thumb", 2000));
    const sig = q.sig ?? "";
    expect(sig).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const last = sig.at(-1) ?? "";
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const index = alphabet.indexOf(last);
    // The last character carries 2 padding bits: these three decode to the same MAC.
    const aliases = [1, 2, 3].map((bits) => alphabet[index | bits] ?? "");
    for (const alias of aliases.filter((a) => a !== last)) {
      expect(
        await verifyPath(
          ring,
          "view",
          "/d/a/1/thumb",
          { ...q, sig: sig.slice(0, -1) + alias },
          1000,
        ),
      ).toBe("invalid");
    }
    for (const variant of [`${sig}=`, `${sig}A`, sig.replaceAll("-", "+").replaceAll("_", "/")]) {
      if (variant === sig) continue;
      expect(await verifyPath(ring, "view", "/d/a/1/thumb", { ...q, sig: variant }, 1000)).toBe(
        "invalid",
      );
    }
    for (const exp of ["02000", "2000.0", "+2000", " 2000", "2e3", "0x7d0"]) {
      expect(await verifyPath(ring, "view", "/d/a/1/thumb", { ...q, exp }, 1000)).toBe("invalid");
    }
    expect(await verifyPath(ring, "view", "/d/a/1/thumb", { ...q, kid: "k9" }, 1000)).toBe(
      "invalid",
    );
    expect(await verifyPath(ring, "view", "/d/a/1/thumb", q, 1000)).toBe("valid");
  });

  it("refuses an expiry further ahead than the TTL allows, with a minute of skew", async () => {
    if (!ring) throw new Error("no ring");
    const now = 1_700_000_000;
    const within = params(await signPath(ring, "view", "/p", now + 300 + 60));
    expect(await verifyPath(ring, "view", "/p", within, now, 300)).toBe("valid");
    const beyond = params(await signPath(ring, "view", "/p", now + 300 + 61));
    expect(await verifyPath(ring, "view", "/p", beyond, now, 300)).toBe("invalid");
    const forever = params(await signPath(ring, "upload", "/p", 999_999_999_999));
    expect(await verifyPath(ring, "upload", "/p", forever, now, 900)).toBe("invalid");
    // Without an explicit TTL the cap still applies (fail closed).
    expect(await verifyPath(ring, "upload", "/p", forever, now)).toBe("invalid");
  });

  it("treats missing parameters as invalid", async () => {
    if (!ring) throw new Error("no ring");
    expect(
      await verifyPath(ring, "view", "/x", { kid: undefined, exp: undefined, sig: undefined }, 0),
    ).toBe("invalid");
  });
});
