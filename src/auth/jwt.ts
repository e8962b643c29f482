import {
  createRemoteJWKSet,
  customFetch,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
} from "jose";

import type { Principal } from "../domain/access";

export type { Principal };

/** How tokens are verified: a shared HS256 secret (local) or a JWKS (production). */
export type JwtVerifierConfig =
  | { kind: "secret"; secret: string; issuer: string; audience: string }
  | {
      kind: "jwks";
      url: string;
      issuer: string;
      audience: string;
      /** The fetch used for the JWKS endpoint (a service binding in tests). */
      fetcher?: typeof fetch;
    };

/** Verifies a bearer token and returns the principal, or null when it must be rejected. */
export type JwtVerifier = (token: string) => Promise<Principal | null>;

const ASYMMETRIC_ALGS = ["RS256", "ES256"];

// Remote key sets cache keys and rate-limit refetches; keep one per URL per isolate.
const remoteSets = new Map<string, JWTVerifyGetKey>();

function principalFrom(payload: JWTPayload): Principal | null {
  if (typeof payload.sub !== "string" || payload.sub === "" || payload.sub.length > 128) {
    return null;
  }
  // One explicit boolean claim: a generic `role` is often filled in by identity providers.
  const admin = payload.admin === true;
  return { userId: payload.sub, admin, scopes: "all" };
}

/** Builds a verifier with the algorithm pinned, `exp` required and `iss`/`aud` checked. */
export function createJwtVerifier(config: JwtVerifierConfig): JwtVerifier {
  const options = {
    issuer: config.issuer,
    audience: config.audience,
    requiredClaims: ["exp", "sub"],
    clockTolerance: 30,
  };
  if (config.kind === "secret") {
    const key = new TextEncoder().encode(config.secret);
    return async (token) => {
      try {
        const { payload } = await jwtVerify(token, key, { ...options, algorithms: ["HS256"] });
        return principalFrom(payload);
      } catch {
        return null;
      }
    };
  }
  let keys = remoteSets.get(config.url);
  if (!keys) {
    keys = createRemoteJWKSet(new URL(config.url), {
      cooldownDuration: 30_000,
      cacheMaxAge: 10 * 60_000,
      ...(config.fetcher ? { [customFetch]: config.fetcher } : {}),
    });
    remoteSets.set(config.url, keys);
  }
  const getKey = keys;
  return async (token) => {
    try {
      const { payload } = await jwtVerify(token, getKey, {
        ...options,
        algorithms: ASYMMETRIC_ALGS,
      });
      return principalFrom(payload);
    } catch {
      return null;
    }
  };
}
