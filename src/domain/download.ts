/** Longest base name (without variant suffix and extension) put in a download's file name. */
const MAX_BASE_NAME = 80;

function extensionOf(format: string): string {
  return format === "jpeg" ? "jpg" : format;
}

/** RFC 8187 value characters: everything else is percent-encoded. */
function encodeExtValue(text: string): string {
  return encodeURIComponent(text).replace(
    /['()*]/g,
    (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/**
 * `Content-Disposition` for `?download=1`: the upload's name without its extension (or the
 * image id), the variant, and the served format's extension: `holiday-thumb.webp`. Path
 * separators, control and quoting characters never reach the header; the ASCII `filename`
 * replaces anything else with `_`, and `filename*` keeps the UTF-8 name (RFC 6266).
 */
export function attachmentDisposition(
  filename: string | null,
  imageId: string,
  variant: string,
  format: string,
): string {
  const stem = (filename ?? "").replace(/\.[^.]{1,10}$/, "");
  const cleaned = [...stem]
    .filter((ch) => ch >= " " && ch !== "\u007f" && !/[\\/"*:<>?|%;]/.test(ch))
    .join("")
    .trim()
    .replace(/^\.+/, "");
  const base = [...(cleaned === "" ? imageId : cleaned)].slice(0, MAX_BASE_NAME).join("");
  const name = `${base}${variant === "original" ? "" : `-${variant}`}.${extensionOf(format)}`;
  const ascii = name.replace(/[^\x20-\x7e]/g, "_");
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeExtValue(name)}`;
}
