import { describe, expect, it } from "vitest";
import {
  isCredentialId,
  newApiKey,
  newShareToken,
  parseApiKey,
  parseShareToken,
} from "../../src/auth/credentials";
import {
  constantTimeEqual,
  hashPassword,
  PASSWORD_ITERATIONS,
  secretDigest,
  secretMatches,
  verifyPassword,
} from "../../src/auth/secrets";
import { fromBase64url } from "../../src/domain/ids";

describe("share tokens and API keys", () => {
  it("carry a 16-character id and a secret of 128 (tokens) or 256 (keys) bits", () => {
    const token = newShareToken();
    expect(token.text).toBe(`${token.id}${token.secret}`);
    expect(fromBase64url(token.secret)?.length).toBe(16);
    expect(parseShareToken(token.text)).toEqual({ id: token.id, secret: token.secret });
    const key = newApiKey();
    expect(key.text).toBe(`ihk_${key.id}${key.secret}`);
    expect(fromBase64url(key.secret)?.length).toBe(32);
    expect(parseApiKey(key.text)).toEqual({ id: key.id, secret: key.secret });
    expect(isCredentialId(key.id) && isCredentialId(token.id)).toBe(true);
    expect(newShareToken().text).not.toBe(token.text);
  });

  it("refuse every other shape before any lookup", () => {
    const key = newApiKey().text;
    const token = newShareToken().text;
    for (const bad of [key.slice(0, -1), `${key}A`, key.replace("ihk_", "ihx_"), `${key}\n`, ""]) {
      expect(parseApiKey(bad), bad).toBeNull();
    }
    for (const bad of [token.slice(0, -1), `${token}A`, `${token.slice(0, 37)}!`, key]) {
      expect(parseShareToken(bad), bad).toBeNull();
    }
    expect(isCredentialId("short")).toBe(false);
  });
});

describe("stored secrets", () => {
  it("digests secrets and compares them in constant time", async () => {
    const digest = await secretDigest("s3cret");
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
    expect(await secretMatches("s3cret", digest)).toBe(true);
    expect(await secretMatches("s3creT", digest)).toBe(false);
    expect(await secretMatches("s3cret", "")).toBe(false);
    expect(constantTimeEqual("abc", "abc")).toBe(true);
    expect(constantTimeEqual("abc", "abd")).toBe(false);
    expect(constantTimeEqual("abc", "abcd")).toBe(false);
    expect(constantTimeEqual("", "")).toBe(true);
  });

  it("hashes passwords with salted PBKDF2 and refuses malformed stored values", async () => {
    const a = await hashPassword("correct horse");
    const b = await hashPassword("correct horse");
    expect(a).toMatch(
      new RegExp(`^pbkdf2-sha256\\$${PASSWORD_ITERATIONS}\\$[\\w-]{22}\\$[\\w-]{43}$`),
    );
    expect(a).not.toBe(b);
    expect(await verifyPassword("correct horse", a)).toBe(true);
    expect(await verifyPassword("correct horse ", a)).toBe(false);
    const [prefix, , salt, hash] = a.split("$");
    for (const stored of [
      "",
      "plain",
      `${prefix}$1000000$${salt}$${hash}`,
      `${prefix}$0$${salt}$${hash}`,
      `${prefix}$abc$${salt}$${hash}`,
      `bcrypt$${PASSWORD_ITERATIONS}$${salt}$${hash}`,
      `${prefix}$${PASSWORD_ITERATIONS}$!!$${hash}`,
    ]) {
      expect(await verifyPassword("correct horse", stored), stored).toBe(false);
    }
  });
});
