import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseTranscript, type Transcript } from '../../pipeline/ingest/transcripts.ts';
import { understandTranscript, type UnderstandDocs } from '../../pipeline/understand/run.ts';
import { normalizeForMatch, segmentAt, transcriptText } from '../../pipeline/understand/text.ts';
import { maskLabels, speakerTurns } from '../../pipeline/understand/speakers.ts';
import { GENERIC_NOUNS } from '../../pipeline/understand/gazetteer.ts';
import type { KgEntity } from '../../pipeline/understand/types.ts';
import { repoRoot } from '../helpers/env.ts';

/**
 * The no-model tier on what issue 15 found wrong with it, on fixtures made like the transcripts
 * it was tried on: "Name:" speaker prefixes in an SRT file (podcast-clinic.srt), a news show with
 * no labels at all (city-desk.vtt), and the older fixtures.
 */
const fixture = (name: string): Transcript =>
  parseTranscript(
    fs.readFileSync(path.join(repoRoot, 'test/fixtures/transcripts', name), 'utf8'),
    name.endsWith('.vtt') ? 'vtt' : 'srt',
  );

const clinicTranscript = fixture('podcast-clinic.srt');
const clinic = understandTranscript(clinicTranscript, {
  episodeId: 1,
  key: 'clinic',
  feedId: 1,
  showTitle: 'The Podcast Clinic',
  episodeTitle: 'Trailers, show notes and microphones',
});
const all: [string, UnderstandDocs][] = [
  ['podcast-clinic.srt', clinic],
  ...['city-desk.vtt', 'garden-hour.vtt', 'money-talk.srt', 'quiet-lab-12.vtt', 'quiet-lab-13.srt'].map(
    (f, i) =>
      [f, understandTranscript(fixture(f), { episodeId: i + 2, key: f, feedId: i + 2, showTitle: null })] as [
        string,
        UnderstandDocs,
      ],
  ),
];

const norm = (s: string) => normalizeForMatch(s).norm;

function entity(d: UnderstandDocs, name: string): KgEntity {
  const e = d.kg.entities.find((x) => x.name === name);
  expect(e, `${name} in ${d.kg.entities.map((x) => `${x.name} (${x.type})`).join(', ')}`).toBeDefined();
  return e!;
}

describe('speakers named in the transcript', () => {
  it('"Name:" prefixes are speakers: labels recur, a one-off "Rule one:" is not one', () => {
    const t = transcriptText([
      { startMs: 0, endMs: 1000, text: 'Travis: Welcome back to the show.' },
      { startMs: 1000, endMs: 2000, text: 'Sarah: Thanks, it is good to be here' },
      { startMs: 2000, endMs: 3000, text: 'and I brought questions.' },
      { startMs: 3000, endMs: 4000, text: 'Travis: Rule one: always start with the listener.' },
      { startMs: 4000, endMs: 5000, text: 'Sarah: Agreed.' },
    ]);
    const turns = speakerTurns(t);
    expect(turns.speakerOf).toEqual(['Travis', 'Sarah', 'Sarah', 'Travis', 'Sarah']);
    expect(turns.labels.map((l) => t.text.slice(l.start, l.end))).toEqual([
      'Travis: ',
      'Sarah: ',
      'Travis: ',
      'Sarah: ',
    ]);
    expect(Object.fromEntries(turns.turns)).toEqual({ Travis: 2, Sarah: 2 });
    const masked = maskLabels(t.text, turns.labels);
    expect(masked).toHaveLength(t.text.length);
    expect(masked).not.toMatch(/Travis|Sarah:/);
    expect(masked).toContain('Rule one: always');
    // Speaker voices (<v Name>) count the same way.
    const garden = speakerTurns(transcriptText(fixture('garden-hour.vtt').segments));
    expect([...garden.turns.keys()]).toEqual(['Lena', 'Tom']);
    expect(garden.labels).toEqual([]);
  });

  it('speakers are people with roles and counted mentions, even when no one says their full name', () => {
    expect(entity(clinic, 'Nadia Brooks')).toMatchObject({ type: 'person', role: 'host' });
    expect(entity(clinic, 'Nadia Brooks').aliases).toContain('Nadia');
    expect(entity(clinic, 'Owen Park')).toMatchObject({ type: 'person', role: 'guest' });
    // Sarah speaks many lines and is named once: a guest whose mentions count her turns.
    const sarah = entity(clinic, 'Sarah');
    expect(sarah).toMatchObject({ type: 'person', role: 'guest' });
    expect(sarah.turns).toBeGreaterThanOrEqual(8);
    expect(sarah.mentionCount).toBe(sarah.turns! + sarah.mentions.length);
    // Gilon, the listener who speaks, is a person (the tier once made him a topic).
    expect(entity(clinic, 'Gilon')).toMatchObject({ type: 'person', role: 'guest' });
    expect(entity(clinic, 'Marcus Webb')).toMatchObject({ type: 'person', role: 'mentioned' });
    // No label is read as a word: no quote, key point or abstract starts with or carries one.
    const t = transcriptText(clinicTranscript.segments);
    const labels = speakerTurns(t).labels;
    const quotes = [
      ...clinic.gi.insights.flatMap((i) => i.quotes),
      ...clinic.summary.keyPoints.flatMap((k) => (k.quote ? [k.quote] : [])),
    ];
    expect(quotes.length).toBeGreaterThan(10);
    for (const q of quotes) {
      expect(t.text.slice(q.charStart, q.charEnd)).toBe(q.text);
      for (const l of labels) expect(q.charStart >= l.end || q.charEnd <= l.start).toBe(true);
    }
  });
});

describe('entity types from evidence', () => {
  it('types platforms, companies and places by lexicon, gazetteer and cue, not by capital letters', () => {
    for (const org of ['Apple Podcasts', 'Spotify', 'YouTube', 'Instagram'])
      expect(entity(clinic, org).type).toBe('organization');
    // "Our hosting company, Hostwave, …": an organization by its apposition, though no list has it.
    expect(entity(clinic, 'Hostwave').type).toBe('organization');
    expect(entity(clinic, 'Tel Aviv').type).toBe('place');
    // The show's segment name is not a person or a place (capitalization alone proves nothing).
    const qa = clinic.kg.entities.find((e) => /podcasting q&a/i.test(e.name));
    expect(qa?.type ?? 'topic').toBe('topic');
    // "Short answer, yes.": a sentence's first word that is an adjective is no name.
    expect(clinic.kg.entities.some((e) => e.name === 'Short')).toBe(false);
    const city = all.find(([f]) => f === 'city-desk.vtt')![1];
    expect(entity(city, 'World Health Organization').type).toBe('organization');
    expect(entity(city, 'European Central Bank').type).toBe('organization');
    expect(entity(city, 'Eric Klinenberg')).toMatchObject({ type: 'person', role: 'mentioned' });
    expect(entity(city, 'Jonas Lindqvist')).toMatchObject({ type: 'person', role: 'guest' });
    for (const place of ['Paris', 'Barcelona', 'Chicago', 'Lagos', 'Nairobi'])
      expect(entity(city, place).type).toBe('place');
  });
});

describe('topics are key phrases', () => {
  it('finds the phrases an episode is about, not single generic nouns', () => {
    const topics = clinic.kg.entities.filter((e) => e.type === 'topic').map((e) => e.name);
    for (const phrase of ['podcast trailer', 'show notes', 'social media']) expect(topics).toContain(phrase);
    for (const [file, d] of all)
      for (const e of d.kg.entities.filter((x) => x.type === 'topic')) {
        expect(['couple', 'instance', 'notes', 'host'], file).not.toContain(e.name);
        if (!e.name.includes(' '))
          expect(GENERIC_NOUNS.has(e.name.toLowerCase()), `${file}: ${e.name}`).toBe(false);
      }
    // "trailer" is said almost only inside "podcast trailer": not a topic of its own.
    expect(topics).not.toContain('trailer');
    const city = all.find(([f]) => f === 'city-desk.vtt')![1];
    expect(city.kg.entities.filter((e) => e.type === 'topic').map((e) => e.name)).toEqual(
      expect.arrayContaining(['heat waves', 'urban heat island', 'school yards']),
    );
  });
});

describe('summary and insights', () => {
  it('the abstract says who talks about what, and repeats no key point', () => {
    expect(clinic.summary.abstract).toMatch(
      /^Nadia Brooks talks with Owen Park, Sarah and Gilon about .*(show notes|podcast trailer)/,
    );
    for (const [file, d] of all) {
      const abstract = norm(d.summary.abstract);
      expect(d.summary.keyPoints.length, file).toBeGreaterThanOrEqual(3);
      for (const k of d.summary.keyPoints)
        expect(abstract.includes(norm(k.text)), `${file}: ${k.text}`).toBe(false);
      for (const text of [d.summary.abstract, ...d.summary.keyPoints.map((k) => k.text)])
        expect(text, file).not.toMatch(/(^|[.!?]\s)(Nadia|Owen|Sarah|Gilon|Maya|Raj):/);
    }
  });

  it("an insight's text is not its own quote, and a question is quoted with its answer", () => {
    for (const [file, d] of all) {
      expect(d.gi.insights.length, file).toBeGreaterThanOrEqual(4);
      for (const i of d.gi.insights) {
        expect(i.grounded, `${file}: ${i.text}`).toBe(true);
        for (const q of i.quotes) {
          expect(norm(q.text).includes(norm(i.text)), `${file}: ${i.text}`).toBe(false);
          expect(norm(i.text).includes(norm(q.text)), `${file}: ${i.text}`).toBe(false);
        }
      }
    }
    const t = transcriptText(clinicTranscript.segments);
    const turns = speakerTurns(t);
    const question = clinic.gi.insights.find((i) => i.type === 'question' && /full transcripts/.test(i.text));
    expect(question?.text).toBe(
      'Gilon asks Nadia Brooks: Do you put full transcripts in the show notes as well?',
    );
    expect(question!.quotes[0]!.text).toMatch(/^We publish transcripts on a separate page\./);
    // Every question's quote is what the next speaker said.
    for (const q of clinic.gi.insights.filter((i) => i.type === 'question')) {
      const answer = q.quotes[0]!;
      const before = turns.speakerOf[segmentAt(t, answer.charStart) - 1];
      expect(turns.speakerOf[segmentAt(t, answer.charStart)]).not.toBe(before);
    }
  });
});
