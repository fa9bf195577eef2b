import { createHash } from 'node:crypto';
import type { TranscriptSegment } from '../ingest/transcripts.ts';

/**
 * The text every understanding artifact points into, and the code that grounds quotes in it.
 *
 * Full text: the segments' texts joined by one space (speaker labels are not part of it).
 * Offsets are JavaScript string indices (UTF-16 code units) into that text; `charEnd` is
 * exclusive.
 *
 * Times: a character inside segment i maps to
 *   startMs_i + (offset - segStart_i) / length_i × (endMs_i - startMs_i)
 * i.e. segment boundaries are exact and positions inside a segment are interpolated by
 * character position (speech rate is assumed even within one cue). A quote's start maps its
 * first character, its end maps its exclusive end (the end of a segment maps to endMs). For an
 * untimed transcript (a publisher's plain HTML) every time is null.
 */
export interface TranscriptText {
  text: string;
  /** Start offset of each segment's text in `text`. */
  starts: number[];
  segments: TranscriptSegment[];
  timed: boolean;
}

export function transcriptText(segments: TranscriptSegment[], timed = true): TranscriptText {
  const starts: number[] = [];
  let at = 0;
  const parts: string[] = [];
  for (const s of segments) {
    starts.push(at);
    parts.push(s.text);
    at += s.text.length + 1;
  }
  return { text: parts.join(' '), starts, segments, timed };
}

/** SHA-256 of the transcript's segments (text and times): what the understand step read. */
export function transcriptHash(segments: TranscriptSegment[]): string {
  const h = createHash('sha256');
  for (const s of segments) h.update(`${s.startMs}\u0000${s.endMs}\u0000${s.speaker ?? ''}\u0000${s.text}\n`);
  return h.digest('hex');
}

/** Index of the segment holding character `offset` (a separator belongs to the segment before). */
export function segmentAt(t: TranscriptText, offset: number): number {
  let lo = 0;
  let hi = t.starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (t.starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

export function msAt(t: TranscriptText, offset: number, edge: 'start' | 'end'): number | null {
  if (!t.timed || t.segments.length === 0) return null;
  // An exclusive end sits one past the last character: map the character before it.
  const i = segmentAt(t, edge === 'end' ? Math.max(0, offset - 1) : offset);
  const seg = t.segments[i]!;
  const len = Math.max(1, seg.text.length);
  const within = Math.min(len, Math.max(0, offset - t.starts[i]!));
  return Math.round(seg.startMs + (within / len) * (seg.endMs - seg.startMs));
}

export interface Span {
  text: string;
  charStart: number;
  charEnd: number;
  startMs: number | null;
  endMs: number | null;
}

/** A span of the full text with its times. */
export function spanOf(t: TranscriptText, charStart: number, charEnd: number): Span {
  return {
    text: t.text.slice(charStart, charEnd),
    charStart,
    charEnd,
    startMs: msAt(t, charStart, 'start'),
    endMs: msAt(t, charEnd, 'end'),
  };
}

/**
 * Normalization for verifying quotes: letters and digits must match in order; case,
 * punctuation (straight or curly quotes, dashes, commas…), and runs of whitespace do not count.
 * Returns the normalized string and, for each of its characters, the offset it came from.
 */
export function normalizeForMatch(text: string): { norm: string; map: number[] } {
  let norm = '';
  const map: number[] = [];
  let pendingSpace = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (/[\p{L}\p{N}]/u.test(ch)) {
      if (pendingSpace && norm.length > 0) {
        norm += ' ';
        map.push(i);
      }
      pendingSpace = false;
      // Lower-casing and diacritic-free folding per character keeps the map one-to-one.
      const folded = ch.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase();
      for (const f of folded.length > 0 ? folded : ch) {
        norm += f;
        map.push(i);
      }
    } else if (/[\s\p{P}\p{S}]/u.test(ch)) {
      // Apostrophes inside a word ("don't") join it; other punctuation separates words.
      if (!(ch === "'" || ch === '’')) pendingSpace = true;
    }
  }
  return { norm, map };
}

export interface NormalizedText {
  norm: string;
  map: number[];
}

/** Normalize once per transcript; verifying many quotes reuses it. */
export function normalizedTranscript(t: TranscriptText): NormalizedText {
  return normalizeForMatch(t.text);
}

/**
 * Verify that `quote` is a verbatim span of the transcript (after normalization) and return
 * where it is. With several occurrences, the one nearest `near` (an offset) wins. Null when the
 * quote is not in the transcript: the caller must not present it as grounded.
 */
export function verifyQuote(t: TranscriptText, n: NormalizedText, quote: string, near = 0): Span | null {
  const q = normalizeForMatch(quote).norm;
  // Fewer than two words proves nothing: "yes" is in every transcript.
  if (q.length < 8 || !q.includes(' ')) return null;
  let best = -1;
  for (let at = n.norm.indexOf(q); at !== -1; at = n.norm.indexOf(q, at + 1)) {
    // Whole words only: the match must not start or end inside a word.
    const before = at === 0 || n.norm[at - 1] === ' ';
    const after = at + q.length === n.norm.length || n.norm[at + q.length] === ' ';
    if (!before || !after) continue;
    if (best === -1 || Math.abs(n.map[at]! - near) < Math.abs(n.map[best]! - near)) best = at;
  }
  if (best === -1) return null;
  const charStart = n.map[best]!;
  const charEnd = n.map[best + q.length - 1]! + 1;
  return spanOf(t, charStart, extendOverClosingPunctuation(t.text, charEnd));
}

/** Keep a sentence's own closing mark (". ? !" and a closing quote) with the quote. */
function extendOverClosingPunctuation(text: string, end: number): number {
  let e = end;
  while (e < text.length && /[.?!…"”’)]/u.test(text[e]!)) e++;
  return e;
}
