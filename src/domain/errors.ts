/** The closed set of error codes the API returns, each with its HTTP status and a title. */
export const ERROR_CODES = {
  bad_request: { status: 400, title: "Bad request" },
  invalid_json: { status: 400, title: "Request body is not valid JSON" },
  validation_failed: { status: 400, title: "Request failed validation" },
  size_mismatch: { status: 400, title: "Upload size does not match the declared size" },
  unauthorized: { status: 401, title: "Authentication required" },
  invalid_token: { status: 401, title: "Token is invalid or expired" },
  share_locked: { status: 401, title: "Share is password protected" },
  share_password_invalid: { status: 401, title: "Wrong password" },
  signature_invalid: { status: 403, title: "URL signature is invalid" },
  signature_expired: { status: 403, title: "URL has expired" },
  forbidden: { status: 403, title: "Admin role required" },
  quota_exceeded: { status: 403, title: "Quota exceeded" },
  account_suspended: { status: 403, title: "Account suspended" },
  insufficient_scope: { status: 403, title: "Credential lacks the required scope" },
  download_not_allowed: { status: 403, title: "Downloads are not allowed for this share" },
  hotlink_blocked: { status: 403, title: "Embedding from this site is not allowed" },
  cross_site_request: { status: 403, title: "Cross-site request refused" },
  image_not_found: { status: 404, title: "Image not found" },
  variant_not_found: { status: 404, title: "Variant not found" },
  not_found: { status: 404, title: "Not found" },
  upload_not_found: { status: 404, title: "Upload not found" },
  share_not_found: { status: 404, title: "Share not found" },
  album_not_found: { status: 404, title: "Album not found" },
  format_not_available: { status: 406, title: "Format not available" },
  upload_already_used: { status: 409, title: "Upload URL was already used" },
  idempotency_in_progress: { status: 409, title: "A request with this Idempotency-Key is running" },
  upload_offset_mismatch: { status: 409, title: "Upload-Offset does not match the upload" },
  upload_expired: { status: 410, title: "Upload has expired" },
  image_not_ready: { status: 409, title: "Image is not ready" },
  appeal_not_allowed: { status: 409, title: "Appeal not allowed" },
  moderation_conflict: { status: 409, title: "Moderation state changed meanwhile" },
  length_required: { status: 411, title: "Content-Length is required" },
  precondition_failed: { status: 412, title: "Precondition failed" },
  tus_version_unsupported: { status: 412, title: "Tus version not supported" },
  upload_too_large: { status: 413, title: "Upload is too large" },
  payload_too_large: { status: 413, title: "Request body is too large" },
  too_many_pixels: { status: 413, title: "Image has too many pixels" },
  unsupported_media_type: { status: 415, title: "Unsupported request media type" },
  unsupported_format: { status: 415, title: "Not an accepted image format" },
  idempotency_key_reused: { status: 422, title: "Idempotency-Key was used with another request" },
  range_not_satisfiable: { status: 416, title: "Range not satisfiable" },
  upload_locked: { status: 423, title: "Upload is busy with another request" },
  rate_limited: { status: 429, title: "Too many requests" },
  content_blocked: { status: 451, title: "Image blocked by moderation" },
  content_under_review: { status: 451, title: "Image is under review" },
  // tus checksum extension: 460 Checksum Mismatch.
  checksum_mismatch: { status: 460, title: "Checksum mismatch" },
  internal_error: { status: 500, title: "Internal error" },
  queue_unavailable: { status: 503, title: "Processing queue is unavailable" },
  storage_unavailable: { status: 503, title: "Storage is unavailable" },
} as const satisfies Record<string, { status: number; title: string }>;

/** A stable, machine-readable error code. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** Error raised by HTTP handlers; formatted as problem+json by the app's one onError. */
export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly errors: readonly { path: string; message: string }[] | undefined;
  /** Extra response headers the status needs (e.g. Content-Range on a 416). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    code: ErrorCode,
    detail?: string,
    errors?: readonly { path: string; message: string }[],
    headers: Readonly<Record<string, string>> = {},
  ) {
    super(detail ?? ERROR_CODES[code].title);
    this.name = "ApiError";
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.errors = errors;
    this.headers = headers;
  }
}
