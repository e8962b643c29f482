import { fail, type Outcome, ok } from "./result";

/**
 * The tus 1.0.0 resumable upload protocol (https://tus.io/protocols/resumable-upload): the
 * header grammar and constants, pure. The server side is http/routes/tus.ts over the upload
 * session Durable Object (storage/upload-session.ts).
 */

export const TUS_VERSION = "1.0.0";
/** What `OPTIONS` advertises (creation-defer-length is not offered). */
export const TUS_EXTENSIONS = [
  "creation",
  "creation-with-upload",
  "termination",
  "expiration",
  "checksum",
] as const;
export const TUS_CHECKSUM_ALGORITHMS = ["sha256"] as const;
/** The media type of every PATCH body. */
export const OFFSET_OCTET_STREAM = "application/offset+octet-stream";

/** Upload-Metadata keys this server reads (others are kept but ignored). */
export interface UploadMetadata {
  filename?: string;
  filetype?: string;
  title?: string;
  visibility?: string;
  /** An existing `pending` image of the caller's to upload into. */
  imageId?: string;
}

const KEY = /^[\x21-\x2b\x2d-\x7e]+$/; // printable ASCII without space and comma
const MAX_METADATA_HEADER = 8192;
const READ_KEYS = ["filename", "filetype", "title", "visibility", "imageId"] as const;

/**
 * Parses `Upload-Metadata`: comma-separated `key base64value` pairs (a key alone means an
 * empty value). Keys are unique; values must be valid base64 of UTF-8 text.
 */
export function parseUploadMetadata(header: string | null): Outcome<UploadMetadata> {
  if (header === null || header.trim() === "") return ok({});
  if (header.length > MAX_METADATA_HEADER) {
    return fail("validation_failed", `Upload-Metadata is limited to ${MAX_METADATA_HEADER} bytes.`);
  }
  const seen = new Set<string>();
  const out: Record<string, string> = {};
  for (const pair of header.split(",")) {
    const [key = "", value = "", ...rest] = pair.trim().split(" ");
    if (!KEY.test(key) || rest.length > 0 || seen.has(key)) {
      return fail("validation_failed", "Upload-Metadata must be unique 'key base64value' pairs.");
    }
    seen.add(key);
    const text = decodeBase64Text(value);
    if (text === null) {
      return fail("validation_failed", `Upload-Metadata ${key}: the value is not base64 UTF-8.`);
    }
    if ((READ_KEYS as readonly string[]).includes(key)) out[key] = text;
  }
  return ok(out);
}

function decodeBase64Text(value: string): string | null {
  if (value === "") return "";
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 !== 0) return null;
  try {
    const raw = atob(value);
    const bytes = Uint8Array.from(raw, (c) => c.charCodeAt(0));
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return null;
  }
}

/** A parsed `Upload-Checksum`: the algorithm and the expected digest of this PATCH's body. */
export interface UploadChecksum {
  algorithm: "sha256";
  digest: Uint8Array;
}

/**
 * Parses `Upload-Checksum: <algorithm> <base64 digest>`; null when absent. An unsupported
 * algorithm or a malformed digest is an error (tus: 400).
 */
export function parseUploadChecksum(header: string | null): Outcome<UploadChecksum | null> {
  if (header === null) return ok(null);
  const [algorithm = "", encoded = "", ...rest] = header.trim().split(" ");
  if (algorithm !== "sha256") {
    return fail("bad_request", `Upload-Checksum: only ${TUS_CHECKSUM_ALGORITHMS.join(", ")}.`);
  }
  let digest: Uint8Array | null = null;
  if (rest.length === 0 && /^[A-Za-z0-9+/]{43}=$/.test(encoded)) {
    digest = Uint8Array.from(atob(encoded), (c) => c.charCodeAt(0));
  }
  if (digest?.length !== 32) return fail("bad_request", "Upload-Checksum: not a sha256 digest.");
  return ok({ algorithm: "sha256", digest });
}

/** A non-negative decimal header value (Upload-Offset, Upload-Length); null when malformed. */
export function parseByteCount(header: string | null): number | null {
  if (header === null || !/^\d{1,16}$/.test(header.trim())) return null;
  const n = Number(header.trim());
  return Number.isSafeInteger(n) ? n : null;
}
