/**
 * Quality of the classic (no-model) understanding tier (`npm run bench:quality`).
 *
 * Runs the tier over the labelled transcripts (test/fixtures/quality/labels.json: people,
 * organizations, places and topics per transcript in test/fixtures/transcripts, and the roles of
 * the people) and prints, per entity type, precision (what it found that is labelled, of what it
 * found) and recall (what is labelled that it found), micro-averaged over the transcripts; the
 * people's roles; and the summary's faults the tier must not have: an abstract that repeats the
 * key points, speaker labels ("Travis:") in the abstract, key points or insights, and insights
 * whose text is their own quote repeated. A found entity counts when its name or one of its
 * aliases is one of a label's names (case, punctuation and a plural -s aside).
 * BENCH_VERBOSE=1 lists what was missed and what was found but not labelled. The last line is
 * one JSON object of the figures.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseTranscript, type TranscriptFormat } from '../pipeline/ingest/transcripts.ts';
import { understandTranscript, type UnderstandDocs } from '../pipeline/understand/run.ts';
import { normalizeName } from '../pipeline/understand/names.ts';
import { normalizeForMatch } from '../pipeline/understand/text.ts';
import type { EntityRole, EntityType } from '../pipeline/understand/types.ts';

const root = fileURLToPath(new URL('../test/fixtures/', import.meta.url));
const VERBOSE = process.env.BENCH_VERBOSE === '1';

interface Labelled {
  file: string;
  meta: { showTitle: string | null; host: string | null; episodeTitle: string | null };
  people: string[];
  roles: Record<string, EntityRole>;
  organizations: string[];
  places: string[];
  topics: string[];
}

const TYPES: { type: EntityType; key: 'people' | 'organizations' | 'places' | 'topics' }[] = [
  { type: 'person', key: 'people' },
  { type: 'organization', key: 'organizations' },
  { type: 'place', key: 'places' },
  { type: 'topic', key: 'topics' },
];

/** The key names are compared on: normalized, each word's plural -s dropped. */
export function matchKey(name: string): string {
  return normalizeName(name)
    .split(' ')
    .map((w) => (w.length > 3 ? w.replace(/(?<=[^s])s$/, '') : w))
    .join(' ');
}

const norm = (s: string) => normalizeForMatch(s).norm;
const LABEL_PREFIX = /(^|[.!?…]\s+)\p{Lu}[\p{L}.'’-]*(\s\p{Lu}[\p{L}'’-]*)?:\s/u;

interface Counts {
  found: number;
  right: number;
  labelled: number;
  recalled: number;
}

function score(docs: UnderstandDocs, t: Labelled, counts: Record<EntityType, Counts>, notes: string[]): void {
  for (const { type, key } of TYPES) {
    const found = docs.kg.entities.filter((e) => e.type === type);
    const labels = t[key].map((l) => new Set(l.split('|').map(matchKey)));
    const keysOf = (e: (typeof found)[number]) => [e.name, ...e.aliases].map(matchKey);
    const c = counts[type];
    c.found += found.length;
    c.labelled += labels.length;
    for (const e of found) {
      if (labels.some((l) => keysOf(e).some((k) => l.has(k)))) c.right++;
      else notes.push(`  not labelled ${type}: ${e.name}`);
    }
    labels.forEach((l, i) => {
      if (found.some((e) => keysOf(e).some((k) => l.has(k)))) c.recalled++;
      else {
        const other = docs.kg.entities.find((e) => [e.name, ...e.aliases].some((n) => l.has(matchKey(n))));
        notes.push(`  missed ${type}: ${t[key][i]}${other ? ` (found as ${other.type})` : ''}`);
      }
    });
  }
}

async function main(): Promise<void> {
  const labelled = (
    JSON.parse(fs.readFileSync(path.join(root, 'quality/labels.json'), 'utf8')) as { transcripts: Labelled[] }
  ).transcripts;
  const counts = Object.fromEntries(
    TYPES.map(({ type }) => [type, { found: 0, right: 0, labelled: 0, recalled: 0 }]),
  ) as Record<EntityType, Counts>;
  let roles = 0;
  let rolesRight = 0;
  let insights = 0;
  let insightsRepeatingQuote = 0;
  let keyPoints = 0;
  let keyPointsInAbstract = 0;
  let speakerLabels = 0;
  let ms = 0;
  for (const [i, t] of labelled.entries()) {
    const format = path.extname(t.file).slice(1) as TranscriptFormat;
    const transcript = parseTranscript(
      fs.readFileSync(path.join(root, 'transcripts', t.file), 'utf8'),
      format,
    );
    const started = performance.now();
    const docs = understandTranscript(transcript, {
      episodeId: i + 1,
      key: t.file,
      feedId: i + 1,
      host: t.meta.host,
      showTitle: t.meta.showTitle,
      episodeTitle: t.meta.episodeTitle,
    });
    ms += performance.now() - started;
    const notes: string[] = [];
    score(docs, t, counts, notes);
    for (const [name, role] of Object.entries(t.roles)) {
      roles++;
      const e = docs.kg.entities.find(
        (x) => x.type === 'person' && [x.name, ...x.aliases].some((n) => matchKey(n) === matchKey(name)),
      );
      if (e?.role === role) rolesRight++;
      else notes.push(`  role of ${name}: ${e ? e.role : 'not found'}, labelled ${role}`);
    }
    const abstract = norm(docs.summary.abstract);
    for (const k of docs.summary.keyPoints) {
      keyPoints++;
      if (abstract.includes(norm(k.text))) {
        keyPointsInAbstract++;
        notes.push(`  key point in the abstract: ${k.text}`);
      }
    }
    for (const text of [
      docs.summary.abstract,
      ...docs.summary.keyPoints.map((k) => k.text),
      ...docs.gi.insights.map((x) => x.text),
    ])
      if (LABEL_PREFIX.test(text)) {
        speakerLabels++;
        notes.push(`  speaker label in: ${text}`);
      }
    for (const ins of docs.gi.insights) {
      insights++;
      const own = norm(ins.text);
      if (ins.quotes.some((q) => norm(q.text).includes(own) || own.includes(norm(q.text)))) {
        insightsRepeatingQuote++;
        notes.push(`  insight repeats its quote: ${ins.text}`);
      }
    }
    if (VERBOSE) {
      console.log(`${t.file}`);
      console.log(`  abstract: ${docs.summary.abstract}`);
      for (const e of docs.kg.entities)
        console.log(
          `  · ${e.type} ${e.name} (${e.role}, ${e.mentionCount})${e.aliases.length ? ` aka ${e.aliases.join(', ')}` : ''}`,
        );
      for (const ins of docs.gi.insights)
        console.log(`  ◦ ${ins.type}: ${ins.text}\n      “${ins.quotes.map((q) => q.text).join('” “')}”`);
      console.log(notes.join('\n'));
    }
  }
  const ratio = (a: number, b: number) => (b === 0 ? 1 : Number((a / b).toFixed(3)));
  const precision: Record<string, number> = {};
  const recall: Record<string, number> = {};
  const f1: Record<string, number> = {};
  console.log(`Classic tier over ${labelled.length} labelled transcripts (${Math.round(ms)} ms in all)`);
  console.log('type          found  right  labelled  recalled  precision  recall  F1');
  for (const { type } of TYPES) {
    const c = counts[type];
    precision[type] = ratio(c.right, c.found);
    recall[type] = ratio(c.recalled, c.labelled);
    const p = precision[type]!;
    const r = recall[type]!;
    f1[type] = p + r === 0 ? 0 : Number(((2 * p * r) / (p + r)).toFixed(3));
    console.log(
      `${type.padEnd(12)}  ${String(c.found).padStart(5)}  ${String(c.right).padStart(5)}  ${String(c.labelled).padStart(8)}  ${String(c.recalled).padStart(8)}  ${p.toFixed(3).padStart(9)}  ${r.toFixed(3).padStart(6)}  ${f1[type]!.toFixed(3)}`,
    );
  }
  console.log(`roles right: ${rolesRight} of ${roles}`);
  console.log(`key points repeated in the abstract: ${keyPointsInAbstract} of ${keyPoints}`);
  console.log(`speaker labels in the abstract, key points or insights: ${speakerLabels}`);
  console.log(`insights whose text is their own quote: ${insightsRepeatingQuote} of ${insights}`);
  console.log(
    JSON.stringify({
      bench: 'quality',
      transcripts: labelled.length,
      precision,
      recall,
      f1,
      roles: ratio(rolesRight, roles),
      keyPointsInAbstract,
      speakerLabels,
      insightsRepeatingQuote,
      insights,
      ms: Math.round(ms),
    }),
  );
}

await main();
