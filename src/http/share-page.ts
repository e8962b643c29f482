/**
 * The share page (`GET /s/{token}`): one self-contained HTML document, no script, no
 * third-party resource, styles under a per-response nonce. Pure: the route decides what to
 * show and sends the headers of `sharePageHeaders`.
 */

/** A rendition the page may reference. */
export interface PageVariant {
  name: string;
  format: string;
  width: number;
  height: number;
}

/** One image of a shared album. */
export interface AlbumTile {
  imageId: string;
  title: string;
  width: number;
  height: number;
  variants: readonly PageVariant[];
}

/** What the page shows. */
export type SharePageModel =
  | {
      kind: "image";
      token: string;
      title: string;
      width: number;
      height: number;
      dominantColor: string | null;
      expiresAt: number | null;
      allowDownload: boolean;
      variants: readonly PageVariant[];
    }
  | {
      kind: "album";
      token: string;
      title: string;
      description: string | null;
      expiresAt: number | null;
      allowDownload: boolean;
      tiles: readonly AlbumTile[];
    }
  | { kind: "locked"; token: string; wrongPassword: boolean }
  /** After the report form: thanks, and the way back. */
  | { kind: "reported"; token: string }
  | { kind: "unavailable"; reason: "not_found" | "rate_limited" };

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Escapes text for HTML content and double-quoted attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ESCAPES[ch] ?? ch);
}

const DISPLAY = ["thumb", "medium", "large"];
/** Formats a browser may pick with `<source type>`, best first; the `<img>` falls back. */
const SOURCE_FORMATS: [string, string][] = [
  ["avif", "image/avif"],
  ["webp", "image/webp"],
];

function srcset(token: string, variants: readonly PageVariant[], format: string): string {
  return variants
    .filter((v) => v.format === format && DISPLAY.includes(v.name))
    .sort((a, b) => a.width - b.width)
    .map((v) => `/s/${token}/${v.name}?format=${format} ${v.width}w`)
    .join(", ");
}

/** A `<picture>` of one image; `token` is the path prefix of its variants under `/s/`. */
function picture(
  model: {
    token: string;
    title: string;
    width: number;
    height: number;
    variants: readonly PageVariant[];
  },
  sizes = "(min-width: 1160px) 1100px, calc(100vw - 32px)",
): string {
  const { token, variants } = model;
  const fallback = variants.some((v) => v.format === "jpeg" && DISPLAY.includes(v.name))
    ? "jpeg"
    : "png";
  const medium =
    variants.find((v) => v.name === "medium" && v.format === fallback) ??
    variants.find((v) => v.format === fallback && DISPLAY.includes(v.name));
  const sources = SOURCE_FORMATS.map(([format, type]) => {
    const set = srcset(token, variants, format);
    return set ? `<source type="${type}" srcset="${escapeHtml(set)}" sizes="${sizes}">` : "";
  }).join("\n        ");
  const src = medium ? `/s/${token}/${medium.name}?format=${fallback}` : "";
  return `<picture>
        ${sources}
        <img src="${escapeHtml(src)}" srcset="${escapeHtml(srcset(token, variants, fallback))}" sizes="${sizes}"
          width="${model.width}" height="${model.height}" alt="${escapeHtml(model.title)}" decoding="async">
      </picture>`;
}

function expiryText(expiresAt: number | null): string {
  if (expiresAt === null) return "This link does not expire.";
  const when = new Date(expiresAt).toISOString().replace("T", " ").slice(0, 16);
  return `This link expires on ${when} UTC.`;
}

const STYLE = `
  :root { color-scheme: light dark; --fg: #1b1f24; --muted: #5b6470; --bg: #f4f5f7; --card: #fff;
    --accent: #2457d6; --line: #dde1e6; }
  @media (prefers-color-scheme: dark) { :root { --fg: #e8eaed; --muted: #9aa3ad; --bg: #111417;
    --card: #1b1f24; --accent: #7aa2ff; --line: #2c3239; } }
  * { box-sizing: border-box; }
  body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
    color: var(--fg); background: var(--bg); }
  main { max-width: 1132px; margin: 0 auto; padding: 24px 16px 48px; }
  header { display: flex; align-items: baseline; justify-content: space-between; gap: 16px;
    flex-wrap: wrap; margin-bottom: 16px; }
  h1 { font-size: 1.35rem; margin: 0; overflow-wrap: anywhere; }
  .meta { color: var(--muted); font-size: .9rem; }
  .frame { background: var(--frame, #888); border-radius: 12px; overflow: hidden;
    box-shadow: 0 1px 3px rgb(0 0 0 / .12), 0 8px 24px rgb(0 0 0 / .08); }
  .frame img { display: block; width: 100%; height: auto; }
  .actions { margin-top: 16px; display: flex; gap: 12px; align-items: center; flex-wrap: wrap; }
  .button { display: inline-block; padding: 10px 18px; border-radius: 8px; border: 0;
    background: var(--accent); color: #fff; font: inherit; font-weight: 600;
    text-decoration: none; cursor: pointer; }
  .card { max-width: 420px; margin: 12vh auto 0; background: var(--card); border: 1px solid var(--line);
    border-radius: 12px; padding: 28px; text-align: center; }
  .card h1 { margin-bottom: 8px; }
  .card p { color: var(--muted); margin: 0 0 20px; }
  label { display: block; text-align: left; font-size: .9rem; margin-bottom: 6px; }
  input[type=password], select, textarea { width: 100%; padding: 10px 12px; font: inherit;
    border-radius: 8px; border: 1px solid var(--line); background: var(--bg); color: var(--fg);
    margin-bottom: 14px; }
  .report { margin-top: 24px; max-width: 420px; color: var(--muted); font-size: .9rem; }
  .report summary { cursor: pointer; }
  .report form { margin-top: 12px; }
  .error { color: #c62828; font-weight: 600; }
  .grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); gap: 12px; }
  .tile { display: block; border-radius: 10px; overflow: hidden; background: var(--line);
    aspect-ratio: 1; }
  .tile img { display: block; width: 100%; height: 100%; object-fit: cover; }
  .lead { color: var(--muted); margin: -8px 0 16px; }
  .icon { width: 44px; height: 44px; margin-bottom: 8px; color: var(--muted); }
  footer { margin-top: 32px; color: var(--muted); font-size: .8rem; text-align: center; }
`;

const LOCK_ICON = `<svg class="icon" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.8" aria-hidden="true"><rect x="4" y="10" width="16" height="11" rx="2"/><path d="M8 10V7a4 4 0 0 1 8 0v3"/></svg>`;

function document(title: string, nonce: string, body: string, frameColour = ""): string {
  const frame = frameColour ? `\n  .frame { --frame: ${frameColour}; }` : "";
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="robots" content="noindex, nofollow">
  <meta name="referrer" content="same-origin">
  <title>${escapeHtml(title)}</title>
  <style nonce="${nonce}">${STYLE}${frame}</style>
</head>
<body>
  <main>
    ${body}
    <footer>Shared with Image Host</footer>
  </main>
</body>
</html>
`;
}

/** Renders the page for `model`; `nonce` must be the one in the response's CSP. */
export function renderSharePage(model: SharePageModel, nonce: string): string {
  if (model.kind === "unavailable") {
    const [heading, text] =
      model.reason === "rate_limited"
        ? ["Too many attempts", "Wait a minute, then try the password again."]
        : ["This link is not available", "It may have expired or been revoked by its owner."];
    return document(heading, nonce, `<div class="card"><h1>${heading}</h1><p>${text}</p></div>`);
  }
  if (model.kind === "locked") {
    const error = model.wrongPassword
      ? `<p class="error" role="alert">That password is not right.</p>`
      : "";
    return document(
      "Password required",
      nonce,
      `<div class="card">
      ${LOCK_ICON}
      <h1>Password required</h1>
      <p>The owner protected this image with a password.</p>
      ${error}
      <form method="post" action="/s/${escapeHtml(model.token)}">
        <label for="password">Password</label>
        <input id="password" name="password" type="password" autocomplete="current-password" required autofocus maxlength="1024">
        <button class="button" type="submit">View image</button>
      </form>
    </div>`,
    );
  }
  if (model.kind === "reported") {
    return document(
      "Report received",
      nonce,
      `<div class="card"><h1>Thank you</h1><p>Your report was sent to the moderators.</p>
      <p><a class="button" href="/s/${escapeHtml(model.token)}">Back to the image</a></p></div>`,
    );
  }
  if (model.kind === "album") return albumDocument(model, nonce);
  const colour =
    model.dominantColor && /^#[0-9a-f]{6}$/i.test(model.dominantColor) ? model.dominantColor : "";
  const download = model.allowDownload
    ? `<a class="button" href="/s/${escapeHtml(model.token)}/original?download=1">Download original</a>`
    : "";
  return document(
    model.title,
    nonce,
    `<header>
      <h1>${escapeHtml(model.title)}</h1>
      <span class="meta">${model.width} × ${model.height}</span>
    </header>
    <div class="frame">
      ${picture(model)}
    </div>
    <div class="actions">
      ${download}
      <span class="meta">${escapeHtml(expiryText(model.expiresAt))}</span>
    </div>
    ${reportForm(model.token)}`,
    colour,
  );
}

const REASON_LABELS: readonly [string, string][] = [
  ["sexual", "Sexual content"],
  ["violence", "Violence or gore"],
  ["harassment", "Harassment"],
  ["hate", "Hate"],
  ["illegal", "Illegal content"],
  ["spam", "Spam"],
  ["copyright", "Copyright"],
  ["other", "Something else"],
];

/** A small report form: no script, posts to the share's own origin. */
function reportForm(token: string): string {
  const options = REASON_LABELS.map(([v, label]) => `<option value="${v}">${label}</option>`).join(
    "",
  );
  return `<details class="report">
      <summary>Report this image</summary>
      <form method="post" action="/s/${escapeHtml(token)}/report">
        <label for="reason">Reason</label>
        <select id="reason" name="reason" required>${options}</select>
        <label for="note">Details (optional)</label>
        <textarea id="note" name="note" maxlength="2000" rows="3"></textarea>
        <button class="button" type="submit">Send report</button>
      </form>
    </details>`;
}

function albumDocument(model: Extract<SharePageModel, { kind: "album" }>, nonce: string): string {
  const tiles = model.tiles
    .map((tile) => {
      const base = `${model.token}/${tile.imageId}`;
      return `<a class="tile" href="/s/${escapeHtml(base)}/large" title="${escapeHtml(tile.title)}">
        ${picture({ ...tile, token: base }, "(min-width: 1160px) 270px, 50vw")}
      </a>`;
    })
    .join("\n      ");
  const lead = model.description ? `<p class="lead">${escapeHtml(model.description)}</p>` : "";
  const count = `${model.tiles.length} ${model.tiles.length === 1 ? "image" : "images"}`;
  return document(
    model.title,
    nonce,
    `<header>
      <h1>${escapeHtml(model.title)}</h1>
      <span class="meta">${count}</span>
    </header>
    ${lead}
    <div class="grid">
      ${tiles || `<p class="meta">This album is empty.</p>`}
    </div>
    <div class="actions"><span class="meta">${escapeHtml(expiryText(model.expiresAt))}</span></div>`,
  );
}

/** The headers of every share page: strict CSP, never cached, never indexed, never framed. */
export function sharePageHeaders(nonce: string): Record<string, string> {
  return {
    "Content-Type": "text/html; charset=utf-8",
    "Content-Security-Policy": `default-src 'none'; img-src 'self'; style-src 'nonce-${nonce}'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`,
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex, nofollow",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
  };
}
