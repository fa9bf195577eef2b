/** Transcript segments (one subtitle cue each) grouped into paragraphs a person reads. Pure. */

export interface Segment {
  startMs: number;
  endMs: number;
  text: string;
  speaker?: string;
}

export interface Paragraph {
  /** The speaker, shown where it changes; null when the transcript names none. */
  speaker: string | null;
  /** The speaker continues from the paragraph before (no name shown). */
  continued: boolean;
  startMs: number;
  /** Indexes into the segments, in order. */
  first: number;
  last: number;
}

export interface ParagraphOptions {
  /** A paragraph this long (characters) ends at the next sentence end. Default 600. */
  maxChars?: number;
  /** A pause this long (ms) between segments starts a new paragraph at a sentence end. Default 2500. */
  gapMs?: number;
}

const SENTENCE_END = /[.!?…]["'”’)\]]*$/;

/**
 * A new paragraph at every change of speaker; within one speaker's turn, at a sentence end once
 * the paragraph is long, or after a pause.
 */
export function paragraphs(segments: readonly Segment[], options: ParagraphOptions = {}): Paragraph[] {
  const maxChars = options.maxChars ?? 600;
  const gapMs = options.gapMs ?? 2500;
  const out: Paragraph[] = [];
  let chars = 0;
  segments.forEach((seg, i) => {
    const speaker = seg.speaker?.trim() || null;
    const open = out[out.length - 1];
    const prev = segments[i - 1];
    const sentenceDone = prev !== undefined && SENTENCE_END.test(prev.text.trim());
    const newSpeaker = open !== undefined && speaker !== open.speaker;
    const long = chars >= maxChars && sentenceDone;
    const pause = prev !== undefined && seg.startMs - prev.endMs >= gapMs && sentenceDone;
    if (!open || newSpeaker || long || pause) {
      out.push({
        speaker,
        continued: open !== undefined && !newSpeaker && speaker !== null,
        startMs: seg.startMs,
        first: i,
        last: i,
      });
      chars = 0;
    } else {
      open.last = i;
    }
    chars += seg.text.length + 1;
  });
  return out;
}

/** The segment playing at `ms`: the last one starting at or before it (-1 before the first). */
export function segmentAt(segments: readonly Segment[], ms: number): number {
  let lo = 0;
  let hi = segments.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (segments[mid]!.startMs <= ms) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}
