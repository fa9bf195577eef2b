/** Small formatting helpers the views share. Pure: no DOM, no API. */

const KB = 1024;
const MB = KB * 1024;
const GB = MB * 1024;

/**
 * "1.6 GB", "75 MB", "2.0 MB", "0.3 MB" — the way the API's own messages write sizes — and KB
 * only below 0.1 MB; an em dash when the size is unknown.
 */
export function formatBytes(bytes: number | null): string {
  if (bytes === null) return '—';
  if (bytes >= GB) return `${(bytes / GB).toFixed(1)} GB`;
  if (bytes >= 10 * MB) return `${Math.round(bytes / MB)} MB`;
  if (bytes >= 0.1 * MB) return `${(bytes / MB).toFixed(1)} MB`;
  return `${Math.max(1, Math.round(bytes / KB))} KB`;
}

const pad = (n: number) => String(n).padStart(2, '0');

/**
 * A position in an episode: "mm:ss", or "h:mm:ss" when `long` (the episode runs an hour or more,
 * so every timestamp in it has the same shape and the column lines up).
 */
export function formatTimestamp(ms: number, long = ms >= 3_600_000): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return long ? `${h}:${pad(m)}:${pad(s)}` : `${pad(m + h * 60)}:${pad(s)}`;
}

/** A run of a snippet: plain text, or words the search matched. */
export interface SnippetPart {
  text: string;
  mark: boolean;
}

/**
 * Cut `text` at the `[start, end)` ranges of `highlights` (clamped to the text, sorted, overlaps
 * merged) so a view can render the marked runs as <mark> elements, as text, never as HTML.
 */
export function splitHighlights(
  text: string,
  highlights: readonly (readonly [number, number])[],
): SnippetPart[] {
  const ranges = highlights
    .map(([s, e]) => [Math.max(0, Math.min(s, text.length)), Math.max(0, Math.min(e, text.length))] as const)
    .filter(([s, e]) => e > s)
    .sort((a, b) => a[0] - b[0]);
  const parts: SnippetPart[] = [];
  let at = 0;
  for (const [s, e] of ranges) {
    const start = Math.max(s, at);
    if (e <= start) continue;
    if (start > at) parts.push({ text: text.slice(at, start), mark: false });
    parts.push({ text: text.slice(start, e), mark: true });
    at = e;
  }
  if (at < text.length) parts.push({ text: text.slice(at), mark: false });
  return parts;
}

/** A publication date as YYYY-MM-DD (UTC), the way the episode list writes it; '' when unknown. */
export function formatDate(ms: number | null): string {
  return ms === null ? '' : new Date(ms).toISOString().slice(0, 10);
}
