import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { convert as htmlToText } from 'html-to-text';
import type { TranscriptSegment } from '../ingest/transcripts.ts';
import { msAt, segmentAt, transcriptText, type TranscriptText } from '../understand/text.ts';

/**
 * Sentence-aligned chunks of a transcript for search: about `targetTokens` tokens each, the
 * last sentence(s) of a chunk repeated at the start of the next (`overlapTokens`), so a passage
 * that straddles a boundary is still found whole. Sentences come from wink-nlp's English model
 * (abbreviations, decimals and ellipses are not sentence ends). A sentence longer than a whole
 * chunk (unpunctuated speech) is cut at word boundaries.
 *
 * Times: the transcript's segment texts are joined by one space; a character inside segment i
 * maps to startMs_i + its fraction of the segment's text × the segment's duration. A chunk runs
 * from its first character's time to its last character's time. Untimed transcripts (a
 * publisher's plain HTML) give 0 / 0.
 */

export interface Chunk {
  seq: number;
  text: string;
  startMs: number;
  endMs: number;
  /** Short hash of the text and times: the same chunk in a re-run has the same fingerprint. */
  fingerprint: string;
  tokens: number;
}

export interface ChunkOptions {
  /** Default 300. */
  targetTokens?: number;
  /** Tokens of the previous chunk repeated at the start of the next. Default 40. */
  overlapTokens?: number;
}

interface WinkDoc {
  sentences(): { each(fn: (s: { out(): string }) => void): void };
}
interface Wink {
  readDoc(text: string): WinkDoc;
}

const requireCjs = createRequire(import.meta.url);
let nlp: Wink | undefined;
function wink(): Wink {
  if (!nlp) {
    const winkNLP = requireCjs('wink-nlp') as (model: unknown) => Wink;
    nlp = winkNLP(requireCjs('wink-eng-lite-web-model'));
  }
  return nlp;
}

const TOKEN = /[\p{L}\p{N}]+(?:['’][\p{L}]+)?|[^\s\p{L}\p{N}]/gu;

/** Tokens as a sub-word model would roughly count them: words and punctuation marks. */
export function countTokens(text: string): number {
  return text.match(TOKEN)?.length ?? 0;
}

interface Sentence {
  start: number;
  end: number;
  tokens: number;
}

/** Sentences of `text` as [start, end) offsets into it. */
export function splitSentences(text: string): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [];
  let cursor = 0;
  wink()
    .readDoc(text)
    .sentences()
    .each((s) => {
      const body = s.out().trim();
      if (!body) return;
      let at = text.indexOf(body, cursor);
      // wink normalizes nothing we feed it, but be safe: fall back to the cursor.
      if (at < 0) at = cursor;
      const end = Math.min(text.length, at + body.length);
      out.push({ start: at, end });
      cursor = end;
    });
  return out;
}

/** Cut an over-long sentence at word boundaries into pieces of at most `max` tokens. */
function cutLong(text: string, s: Sentence, max: number): Sentence[] {
  if (s.tokens <= max) return [s];
  const pieces: Sentence[] = [];
  const re = new RegExp(TOKEN.source, 'gu');
  re.lastIndex = s.start;
  let start = s.start;
  let n = 0;
  let lastEnd = s.start;
  for (let m = re.exec(text); m && m.index < s.end; m = re.exec(text)) {
    if (n === max) {
      pieces.push({ start, end: lastEnd, tokens: n });
      start = m.index;
      n = 0;
    }
    n++;
    lastEnd = m.index + m[0].length;
  }
  if (n > 0) pieces.push({ start, end: s.end, tokens: n });
  return pieces;
}

export function chunkTranscript(
  segments: TranscriptSegment[],
  timed: boolean,
  options: ChunkOptions = {},
): Chunk[] {
  const target = options.targetTokens ?? 300;
  const overlap = Math.min(options.overlapTokens ?? 40, Math.floor(target / 2));
  // The same full text and time mapping the understanding artifacts point into.
  const t = transcriptText(segments, timed);
  const text = t.text;
  const timeOf = (offset: number): number => msAt(t, offset, 'start') ?? 0;
  const sentences = splitSentences(text).flatMap((s) =>
    cutLong(text, { ...s, tokens: countTokens(text.slice(s.start, s.end)) }, target),
  );
  const chunks: Chunk[] = [];
  let i = 0;
  while (i < sentences.length) {
    let j = i;
    let tokens = 0;
    while (j < sentences.length && (j === i || tokens + sentences[j]!.tokens <= target)) {
      tokens += sentences[j]!.tokens;
      j++;
    }
    const first = sentences[i]!;
    const last = sentences[j - 1]!;
    const body = text.slice(first.start, last.end);
    const startMs = timeOf(first.start);
    // A chunk that ends where its segment ends ends at the segment's end time; otherwise at the
    // interpolated time of its last character.
    const endMs =
      timed && endsSegment(t, last.end)
        ? msAt(t, last.end, 'end')!
        : Math.max(startMs, timeOf(Math.max(first.start, last.end - 1)));
    chunks.push({
      seq: chunks.length,
      text: body,
      startMs,
      endMs,
      fingerprint: createHash('sha256')
        .update(`${startMs}\u0000${endMs}\u0000${body}`)
        .digest('hex')
        .slice(0, 16),
      tokens,
    });
    if (j >= sentences.length) break;
    // Step back over whole sentences worth at most `overlap` tokens, always moving forward.
    let k = j;
    let back = 0;
    while (k - 1 > i && back + sentences[k - 1]!.tokens <= overlap) {
      back += sentences[k - 1]!.tokens;
      k--;
    }
    i = k;
  }
  return chunks;
}

/** Whether `end` (exclusive) is the end of a segment's text. */
function endsSegment(t: TranscriptText, end: number): boolean {
  const i = segmentAt(t, Math.max(0, end - 1));
  return end >= t.starts[i]! + t.segments[i]!.text.length;
}

/** Plain text of show notes (HTML in most feeds): links and images dropped, whitespace collapsed. */
export function notesText(html: string | null): string {
  if (!html) return '';
  return htmlToText(html, {
    wordwrap: false,
    selectors: [
      { selector: 'a', options: { ignoreHref: true } },
      { selector: 'img', format: 'skip' },
    ],
  })
    .replace(/\s+/g, ' ')
    .trim();
}
