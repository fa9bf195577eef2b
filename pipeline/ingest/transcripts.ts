import { parse as parseSubtitles } from '@plussub/srt-vtt-parser';
import { convert as htmlToText } from 'html-to-text';
import { decodeHTML } from 'entities';
import { IngestError } from './errors.ts';

/** Earshot's transcript: what every later step (summaries, quotes, search) reads. */
export interface TranscriptSegment {
  startMs: number;
  endMs: number;
  text: string;
  speaker?: string;
}

export interface Transcript {
  schemaVersion: 1;
  source: 'publisher' | 'whisper';
  /** What it was read from: the publisher's file format, or Whisper's own output. */
  format: 'srt' | 'vtt' | 'json' | 'html' | 'whisper';
  /** The Whisper model that wrote it (source 'whisper'). */
  model?: string;
  language?: string;
  url?: string;
  /** False when the publisher's transcript carries no timings (plain HTML). */
  timed: boolean;
  segments: TranscriptSegment[];
}

/** The publisher transcript formats Earshot reads. */
export type TranscriptFormat = Exclude<Transcript['format'], 'whisper'>;

/** Which format a `podcast:transcript` type (or a file's content) is. */
export function transcriptFormat(mime: string, body?: string): TranscriptFormat | undefined {
  const t = mime.split(';')[0]!.trim().toLowerCase();
  if (t === 'application/srt' || t === 'application/x-subrip' || t === 'text/srt') return 'srt';
  if (t === 'text/vtt') return 'vtt';
  if (t === 'application/json' || t === 'application/json+transcript') return 'json';
  if (t === 'text/html') return 'html';
  if (body !== undefined) {
    const head = body.trimStart();
    if (head.startsWith('WEBVTT')) return 'vtt';
    if (head.startsWith('{')) return 'json';
    if (/^\d+\s*\r?\n\d\d:\d\d/.test(head)) return 'srt';
    if (head.startsWith('<')) return 'html';
  }
  return undefined;
}

/** Preference when an episode offers several: timed and structured first. */
export const FORMAT_PREFERENCE: TranscriptFormat[] = ['json', 'vtt', 'srt', 'html'];

function clean(text: string): string {
  return decodeHTML(text.replace(/<[^>]+>/g, ''))
    .replace(/\s+/g, ' ')
    .trim();
}

function fromSubtitles(body: string): TranscriptSegment[] {
  // The package's own types do not resolve under NodeNext; its documented entry shape:
  const { entries } = parseSubtitles(body.replace(/^\uFEFF/, '')) as {
    entries: { from: number; to: number; text: string }[];
  };
  return entries.flatMap((e) => {
    const voice = /^<v(?:\.[^\s>]*)?\s+([^>]+)>/.exec(e.text);
    const text = clean(e.text);
    if (!text) return [];
    return [{ startMs: e.from, endMs: e.to, text, ...(voice ? { speaker: voice[1]!.trim() } : {}) }];
  });
}

function fromJson(body: string): TranscriptSegment[] {
  let doc: { segments?: { startTime?: number; endTime?: number; body?: string; speaker?: string }[] };
  try {
    doc = JSON.parse(body);
  } catch (err) {
    throw new IngestError(
      'TRANSCRIPT_BAD',
      `The publisher's JSON transcript is not valid JSON (${(err as Error).message}).`,
    );
  }
  if (!Array.isArray(doc.segments)) {
    throw new IngestError('TRANSCRIPT_BAD', 'The publisher\'s JSON transcript has no "segments" list.');
  }
  // Podcasting 2.0 JSON often splits a sentence into word-level segments: keep them, merged
  // into runs by speaker so quotes can still map back to times.
  const out: TranscriptSegment[] = [];
  for (const s of doc.segments) {
    const text = clean(String(s.body ?? ''));
    if (!text || typeof s.startTime !== 'number') continue;
    const seg: TranscriptSegment = {
      startMs: Math.round(s.startTime * 1000),
      endMs: Math.round((typeof s.endTime === 'number' ? s.endTime : s.startTime) * 1000),
      text,
      ...(s.speaker ? { speaker: String(s.speaker) } : {}),
    };
    const last = out[out.length - 1];
    if (last && last.speaker === seg.speaker && last.text.length < 200 && !/[.!?]$/.test(last.text)) {
      last.text = `${last.text} ${seg.text}`;
      last.endMs = Math.max(last.endMs, seg.endMs);
    } else out.push(seg);
  }
  return out;
}

function fromHtml(body: string): TranscriptSegment[] {
  const text = htmlToText(body, {
    wordwrap: false,
    selectors: [{ selector: 'a', options: { ignoreHref: true } }],
  });
  return text
    .split(/\n{2,}|\n(?=\S)/)
    .map((p) => p.replace(/\s+/g, ' ').trim())
    .filter(Boolean)
    .map((p) => {
      const speaker = /^([A-Z][\w .'-]{0,40}):\s+/.exec(p);
      return {
        startMs: 0,
        endMs: 0,
        text: speaker ? p.slice(speaker[0].length) : p,
        ...(speaker ? { speaker: speaker[1] } : {}),
      };
    });
}

/** Parse a publisher transcript into Earshot's format. Throws IngestError with the reason. */
export function parseTranscript(
  body: string,
  format: TranscriptFormat,
  meta: { url?: string; language?: string } = {},
): Transcript {
  const segments =
    format === 'json' ? fromJson(body) : format === 'html' ? fromHtml(body) : fromSubtitles(body);
  if (segments.length === 0) {
    throw new IngestError(
      'TRANSCRIPT_EMPTY',
      `The publisher's ${format.toUpperCase()} transcript has no text in it.`,
    );
  }
  return { schemaVersion: 1, source: 'publisher', format, ...meta, timed: format !== 'html', segments };
}

export interface ChapterEntry {
  startMs: number;
  title: string;
  url?: string;
  image?: string;
}

/** Podcasting 2.0 chapters JSON → chapter list. */
export function parseChaptersJson(body: string): ChapterEntry[] {
  let doc: { chapters?: { startTime?: number; title?: string; url?: string; img?: string; toc?: boolean }[] };
  try {
    doc = JSON.parse(body);
  } catch (err) {
    throw new IngestError(
      'CHAPTERS_BAD',
      `The publisher's chapters file is not valid JSON (${(err as Error).message}).`,
    );
  }
  return (doc.chapters ?? [])
    .filter((c) => typeof c.startTime === 'number' && c.title && c.toc !== false)
    .map((c) => ({
      startMs: Math.round(c.startTime! * 1000),
      title: String(c.title),
      ...(c.url ? { url: c.url } : {}),
      ...(c.img ? { image: c.img } : {}),
    }));
}
