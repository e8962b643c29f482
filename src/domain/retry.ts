const BASE_DELAY_SECONDS = 5;
const MAX_DELAY_SECONDS = 300;

/** Exponential backoff for a transient failure on delivery attempt `attempts` (1-based). */
export function retryDelaySeconds(attempts: number): number {
  const exponent = Math.max(0, Math.min(attempts - 1, 16));
  return Math.min(MAX_DELAY_SECONDS, BASE_DELAY_SECONDS * 2 ** exponent);
}
