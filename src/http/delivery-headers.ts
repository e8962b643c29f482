/** Headers every image response carries (DESIGN.md: nosniff + sandboxed CSP). */
export function imageSecurityHeaders(): Headers {
  return new Headers({
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cross-Origin-Resource-Policy": "cross-origin",
    "Accept-Ranges": "bytes",
  });
}
