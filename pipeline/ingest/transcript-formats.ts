import { stringifySync } from 'subtitle';
import type { TranscriptSegment } from './transcripts.ts';

export const TRANSCRIPT_FORMATS = ['txt', 'srt', 'vtt', 'json'] as const;
export type TranscriptOutputFormat = (typeof TRANSCRIPT_FORMATS)[number];

function cueText(s: TranscriptSegment): string {
  return s.speaker ? `${s.speaker}: ${s.text}` : s.text;
}

/**
 * A transcript as text: plain paragraphs (txt), subtitles (srt, vtt; via the `subtitle` package)
 * or Earshot's JSON. Untimed transcripts (a publisher's HTML) have no subtitle form.
 */
export function renderTranscript(
  t: { timed: boolean; segments: TranscriptSegment[] },
  format: TranscriptOutputFormat,
): string {
  if (format === 'json') return `${JSON.stringify(t, null, 2)}\n`;
  if (format === 'txt') return `${t.segments.map(cueText).join('\n')}\n`;
  if (!t.timed)
    throw new Error(
      `This transcript has no timings (the publisher's is plain HTML), so it cannot be written as ${format.toUpperCase()}; use --format txt or json, or process the episode with --whisper.`,
    );
  // A file with no cues is still a valid file (the library writes nothing at all for VTT).
  if (t.segments.length === 0) return format === 'vtt' ? 'WEBVTT\n' : '';
  return stringifySync(
    t.segments.map((s) => ({
      type: 'cue' as const,
      data: { start: s.startMs, end: s.endMs, text: cueText(s) },
    })),
    { format: format === 'srt' ? 'SRT' : 'WebVTT' },
  );
}
