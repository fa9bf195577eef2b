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

/** An episode's length the way lists write it: "62 min", "45 s" under a minute; '' when unknown. */
export function formatLength(ms: number | null): string {
  if (ms === null || ms <= 0) return '';
  return ms < 60_000 ? `${Math.round(ms / 1000)} s` : `${Math.round(ms / 60_000)} min`;
}

/** What is left of an episode: "12 min left", "40 s left". */
export function formatLeft(positionMs: number, durationMs: number | null): string {
  if (durationMs === null || durationMs <= 0) return 'In progress';
  const left = Math.max(0, durationMs - positionMs);
  return left < 60_000 ? `${Math.ceil(left / 1000)} s left` : `${Math.round(left / 60_000)} min left`;
}

const dayFormat = new Intl.DateTimeFormat('en', {
  month: 'short',
  day: 'numeric',
  year: 'numeric',
  timeZone: 'UTC',
});

/** A publication date for people: "Mar 3, 2026" (UTC, like formatDate); '' when unknown. */
export function formatDay(ms: number | null): string {
  return ms === null ? '' : dayFormat.format(ms);
}

/** The words of a search worth marking in a text: two letters or more, lower-cased, each once. */
export function queryTerms(query: string): string[] {
  return [...new Set(query.toLowerCase().match(/[\p{L}\p{N}']{2,}/gu) ?? [])];
}

/**
 * Where the words of a search occur in `text`, as [start, end) ranges for splitHighlights: whole
 * words that start with a term ("career" marks "careers" too, as search's stemming finds it).
 */
export function termRanges(text: string, terms: readonly string[]): [number, number][] {
  if (terms.length === 0) return [];
  const escaped = terms.map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const re = new RegExp(`(?<![\\p{L}\\p{N}])(?:${escaped.join('|')})[\\p{L}\\p{N}]*`, 'giu');
  return [...text.matchAll(re)].map((m) => [m.index, m.index + m[0].length]);
}
