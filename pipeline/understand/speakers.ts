import { GENERIC_NOUNS, NOT_NAMES } from './gazetteer.ts';
import type { TranscriptText } from './text.ts';

/**
 * Who speaks when. A segment's speaker is its WebVTT voice (`<v Lena>`, kept by the transcript
 * parser as `speaker`), or a "Name:" prefix of its text ("Travis: So today…", as many SRT and
 * plain-text transcripts write it), or else the speaker of the segment before (a long turn spans
 * several cues). A prefix counts as a speaker label only when the same label starts at least two
 * segments and is not a common word ("Note:", "Update:"), so a sentence like "Rule one: …" said
 * once is left alone.
 *
 * Labels stay in the transcript's text (offsets index it as stored); understanding masks them
 * (`maskLabels`), so they are never read as words, never start a quote, an abstract or a key
 * point, and a new speaker's turn always starts a new sentence (`breaks`).
 */
export interface Turns {
  /** The speaker of each segment, or null. */
  speakerOf: (string | null)[];
  /** "Name: " prefixes in the full text: [start, end) including the colon and the space after. */
  labels: { start: number; end: number; speaker: string }[];
  /** Offsets in the full text where a speaker's turn starts (after its label). */
  breaks: number[];
  /** Turns taken per speaker (a run of segments by one speaker is one turn), in order of first turn. */
  turns: Map<string, number>;
}

const PREFIX = /^(\p{Lu}[\p{L}'’.-]*(?:\s+\p{Lu}[\p{L}'’.-]*){0,2}):\s+/u;

export function speakerTurns(t: TranscriptText): Turns {
  const prefixes = t.segments.map((s) => (s.speaker ? null : PREFIX.exec(s.text)));
  const uses = new Map<string, number>();
  for (const m of prefixes) if (m) uses.set(m[1]!, (uses.get(m[1]!) ?? 0) + 1);
  const isLabel = (label: string) => {
    const first = label
      .split(/\s+/)[0]!
      .toLowerCase()
      .replace(/[.'’]+$/, '');
    return (uses.get(label) ?? 0) >= 2 && !NOT_NAMES.has(first) && !GENERIC_NOUNS.has(first);
  };
  const speakerOf: (string | null)[] = [];
  const labels: Turns['labels'] = [];
  const breaks: number[] = [];
  const turns = new Map<string, number>();
  let current: string | null = null;
  t.segments.forEach((s, i) => {
    const m = prefixes[i];
    let speaker = s.speaker?.trim() || null;
    let labelled = speaker !== null;
    if (!speaker && m && isLabel(m[1]!)) {
      speaker = m[1]!;
      labelled = true;
      const start = t.starts[i]!;
      labels.push({ start, end: start + m[0].length, speaker });
    }
    if (!speaker) speaker = current;
    if (labelled && speaker !== current) {
      breaks.push(labels.at(-1)?.start === t.starts[i] ? labels.at(-1)!.end : t.starts[i]!);
      turns.set(speaker!, (turns.get(speaker!) ?? 0) + 1);
    } else if (labelled && labels.at(-1)?.start === t.starts[i]) {
      // The same speaker labelled again: a sentence still ends before the label.
      breaks.push(labels.at(-1)!.end);
    }
    current = speaker;
    speakerOf.push(speaker);
  });
  return { speakerOf, labels, breaks, turns };
}

/** The full text with every speaker label blanked out (same length, so offsets still hold). */
export function maskLabels(text: string, labels: Turns['labels']): string {
  if (labels.length === 0) return text;
  let out = '';
  let at = 0;
  for (const l of labels) {
    out += text.slice(at, l.start) + ' '.repeat(l.end - l.start);
    at = l.end;
  }
  return out + text.slice(at);
}
