#!/usr/bin/env node
// Prints a local JWT (HS256, 24 h) signed with JWT_SECRET from .dev.vars.
// Usage: npm run token -- <user> [--admin]
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { SignJWT } from "jose";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const user = args.find((a) => !a.startsWith("--"));
if (!user || !/^[\w.@-]{1,128}$/.test(user)) {
  console.error("usage: npm run token -- <user> [--admin]");
  process.exit(2);
}

function readVars(path) {
  const vars = {};
  for (const line of readFileSync(path, "utf8").split("\n")) {
    const m = /^\s*([A-Z0-9_]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (m) vars[m[1]] = m[2].replace(/^"(.*)"$/, "$1");
  }
  return vars;
}

function readToml(path, key) {
  const m = new RegExp(`^${key}\\s*=\\s*"([^"]*)"`, "m").exec(readFileSync(path, "utf8"));
  return m ? m[1] : undefined;
}

let secret;
try {
  secret = readVars(join(root, ".dev.vars")).JWT_SECRET;
} catch {
  // handled below
}
if (!secret) {
  console.error("no JWT_SECRET in .dev.vars: run `npm start` once to create it");
  process.exit(1);
}
const toml = join(root, "wrangler.toml");
const jwt = await new SignJWT({ ...(args.includes("--admin") ? { admin: true } : {}) })
  .setProtectedHeader({ alg: "HS256", typ: "JWT" })
  .setSubject(user)
  .setIssuer(readToml(toml, "JWT_ISSUER") ?? "image-host")
  .setAudience(readToml(toml, "JWT_AUDIENCE") ?? "image-host-api")
  .setIssuedAt()
  .setExpirationTime("24h")
  .sign(new TextEncoder().encode(secret));
process.stdout.write(`${jwt}\n`);
