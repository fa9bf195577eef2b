/**
 * Understanding benchmark (`npm run bench:understand`).
 *
 * Classic tier: the time to summarize, ground insights and build the knowledge graph of a
 * 60-minute transcript (about 9,000 words, made by cycling and varying the sentences of the
 * test fixtures, 150 words a minute), median of 5 runs after a warm-up, with the wink-nlp parse
 * alone on the same text as the baseline measured in the same run (the floor for any tier built
 * on it). Sections are functions returning figures; the LLM tier's section (tokens/s through
 * Earshot vs node-llama-cpp directly) is added to SECTIONS by the LLM work. The last line is one
 * JSON object of every section's figures.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseTranscript, type TranscriptSegment } from '../pipeline/ingest/transcripts.ts';
import { understandTranscript } from '../pipeline/understand/run.ts';
import { analyze } from '../pipeline/understand/nlp.ts';
import { transcriptText } from '../pipeline/understand/text.ts';
import { llmSection } from './llm-section.ts';

type Figures = Record<string, number | string>;

const MINUTES = Number(process.env.BENCH_MINUTES ?? 60);
const WORDS_PER_MINUTE = 150;
const fixtures = fileURLToPath(new URL('../test/fixtures/transcripts/', import.meta.url));

const NAMES = [
  ['Sarah Chen', 'Priya Natarajan'],
  ['Lex Fridman', 'Ezra Klein'],
  ['Daniel Kahneman', 'Amos Tversky'],
  ['Google', 'Microsoft'],
  ['Zurich', 'Copenhagen'],
  ['Berlin', 'Munich'],
  ['Stanford University', 'Imperial College'],
  ['Northwind Robotics', 'Helix Energy'],
  ['Lisbon', 'Oslo'],
  ['OpenAI', 'DeepMind'],
];

/** About MINUTES of conversation: the fixtures' cues, cycled, with names and numbers varied per round. */
export function syntheticTranscript(minutes = MINUTES): TranscriptSegment[] {
  const source = [
    ...parseTranscript(fs.readFileSync(path.join(fixtures, 'quiet-lab-12.vtt'), 'utf8'), 'vtt').segments,
    ...parseTranscript(fs.readFileSync(path.join(fixtures, 'quiet-lab-13.srt'), 'utf8'), 'srt').segments,
  ];
  const target = minutes * WORDS_PER_MINUTE;
  const out: TranscriptSegment[] = [];
  let words = 0;
  let ms = 0;
  for (let round = 0; words < target; round++) {
    for (const s of source) {
      if (words >= target) break;
      let text = s.text.replace(
        /\b(ten|six|sixty|2032)\b/g,
        (m) => `${m === '2032' ? 2032 + (round % 7) : m}`,
      );
      if (round % 2 === 1) for (const [a, b] of NAMES) text = text.split(a!).join(b!);
      if (round % 3 === 2) text = text.replace(/\bbatter(y|ies)\b/g, 'grid storage');
      const n = text.split(/\s+/).length;
      const dur = Math.round((n / WORDS_PER_MINUTE) * 60_000);
      out.push({ startMs: ms, endMs: ms + dur, text, ...(s.speaker ? { speaker: s.speaker } : {}) });
      ms += dur;
      words += n;
    }
  }
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function classicSection(): Promise<Figures> {
  const segments = syntheticTranscript();
  const text = transcriptText(segments).text;
  const words = text.split(/\s+/).length;
  const audioMs = segments[segments.length - 1]!.endMs;
  const meta = { episodeId: 1, key: 'bench', feedId: 1, host: 'Mara Quinn', showTitle: 'The Quiet Lab' };
  understandTranscript({ segments, timed: true }, meta); // warm-up: model load, JIT
  const parse: number[] = [];
  const total: number[] = [];
  let last = understandTranscript({ segments: segments.slice(0, 1), timed: true }, meta);
  for (let i = 0; i < 5; i++) {
    let t = performance.now();
    analyze(text);
    parse.push(performance.now() - t);
    t = performance.now();
    last = understandTranscript({ segments, timed: true }, meta);
    total.push(performance.now() - t);
  }
  const ms = median(total);
  const parseMs = median(parse);
  console.log(
    `classic tier, ${(audioMs / 60_000).toFixed(0)}-minute transcript (${words} words, ${segments.length} segments, ${last.summary.stats.sentences} sentences):`,
  );
  console.log(
    `  summary + insights + graph: ${ms.toFixed(0)} ms (median of 5) = ${(audioMs / ms).toFixed(0)}× real time`,
  );
  console.log(
    `  baseline, wink-nlp parse alone: ${parseMs.toFixed(0)} ms; ratio ${(ms / parseMs).toFixed(2)}× the parse`,
  );
  console.log(
    `  output: ${last.gi.insights.length} insights (${last.gi.insights.filter((x) => x.grounded).length} grounded), ${last.kg.entities.length} entities, ${last.kg.relations.length} relations, ${last.summary.keyPoints.length} key points`,
  );
  return {
    classicMinutes: Math.round(audioMs / 60_000),
    classicWords: words,
    classicMs: Math.round(ms),
    classicXRealtime: Math.round(audioMs / ms),
    winkParseMs: Math.round(parseMs),
    ratioVsParse: +(ms / parseMs).toFixed(2),
  };
}

/** Each section prints its own lines and returns its figures. */
export const SECTIONS: (() => Promise<Figures>)[] = [classicSection, llmSection];

if (import.meta.main) {
  const figures: Figures = { bench: 'understand' };
  for (const section of SECTIONS) Object.assign(figures, await section());
  console.log(JSON.stringify(figures));
}
