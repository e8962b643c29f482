/**
 * What a blocked hotlink gets when its owner chose `placeholder`: a 64x64 grey striped PNG
 * (172 bytes), so the embedding page shows a neutral tile instead of a broken image.
 */
const PLACEHOLDER_PNG_BASE64 =
  "iVBORw0KGgoAAAANSUhEUgAAAEAAAABAAQMAAACQp+OdAAAABlBMVEXU1NTm5uYVqa+UAAAACXBIWXMAAAPoAAAD6AG1e1JrAAAATElEQVQoz+3OsQnAIAAF0RMLS0dwFEfT0RzFESxThCTF/7hDQK5/HLwuPIp4K9KlyEtRpqIORetqM5gJmImYSZjJmCmYqZhpnJ9f/XzzAv8BsDtn7gAAAABJRU5ErkJggg==";

const PLACEHOLDER_PNG = Uint8Array.from(atob(PLACEHOLDER_PNG_BASE64), (c) => c.charCodeAt(0));

/** The placeholder's bytes (a fresh copy per response). */
export function placeholderPng(): Uint8Array {
  return PLACEHOLDER_PNG.slice();
}
