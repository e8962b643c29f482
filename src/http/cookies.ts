/** Whether the service is reached over plain HTTP on the loopback (local development). */
export function isLocalHttp(url: string): boolean {
  const { protocol, hostname } = new URL(url);
  return protocol === "http:" && ["localhost", "127.0.0.1", "[::1]"].includes(hostname);
}

/** The cookie `/d` accepts instead of a URL signature (`POST /v1/delivery-cookies`). */
export const DELIVERY_COOKIE = "ih_delivery";
