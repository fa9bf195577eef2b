import { stripVTControlCharacters } from 'node:util';

/** C0 and C1 control characters but tab, line feed and carriage return. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/g;
/** Bidirectional embeddings, overrides and isolates: they reorder what a reader sees ("gnp.exe"). */
const BIDI = /[\u202A-\u202E\u2066-\u2069]/g;

/** The longest title Earshot keeps, in characters (a 1 MB "title" is a feed's mistake or an attack). */
export const MAX_TITLE = 500;

/**
 * Text from a feed (or a file's tags) as Earshot stores it: terminal escape sequences, control
 * characters and bidi overrides removed; tabs and line breaks kept.
 */
export function cleanText(s: string): string {
  return stripVTControlCharacters(s).replace(CONTROL, '').replace(BIDI, '');
}

/** A cleaned title of at most MAX_TITLE characters, cut at a character (never inside a surrogate pair). */
export function cleanTitle(s: string): string {
  const clean = cleanText(s)
    .replace(/[\t\n\r]+/g, ' ')
    .trim();
  const chars = [...clean];
  return chars.length > MAX_TITLE
    ? `${chars
        .slice(0, MAX_TITLE - 1)
        .join('')
        .trimEnd()}…`
    : clean;
}

/**
 * Text on its way to a terminal: whatever the library holds (an older Earshot stored feed text
 * as it came), nothing in it may move the cursor, recolour, retitle the window or reorder the
 * line. Carriage returns go too (they overwrite what a line showed).
 */
export function terminalSafe(s: string): string {
  return cleanText(s.replace(/\r\n?/g, '\n'));
}

/** JSON for a terminal: the characters JSON leaves raw but a terminal obeys are written as \u escapes. */
export function terminalSafeJson(json: string): string {
  return json.replace(
    /[\u007F-\u009F\u202A-\u202E\u2066-\u2069]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
