import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseTranscript, type Transcript } from '../../pipeline/ingest/transcripts.ts';
import { understandTranscript, type UnderstandDocs } from '../../pipeline/understand/run.ts';
import {
  normalizeForMatch,
  normalizedTranscript,
  segmentAt,
  spanOf,
  transcriptText,
  verifyQuote,
} from '../../pipeline/understand/text.ts';
import { groundInsights } from '../../pipeline/understand/grounding.ts';
import { normalizeName } from '../../pipeline/understand/names.ts';
import { mergeEpisodeEntities } from '../../pipeline/understand/canonical.ts';
import { understandFingerprint } from '../../pipeline/understand/versions.ts';
import { openDatabase, databasePath } from '../../pipeline/store/index.ts';
import type { KgEntity, Quote } from '../../pipeline/understand/types.ts';
import { repoRoot, tempDir } from '../helpers/env.ts';

const fixture = (name: string): Transcript =>
  parseTranscript(
    fs.readFileSync(path.join(repoRoot, 'test/fixtures/transcripts', name), 'utf8'),
    name.endsWith('.vtt') ? 'vtt' : 'srt',
  );

const ep12 = fixture('quiet-lab-12.vtt');
const ep13 = fixture('quiet-lab-13.srt');
const meta = { feedId: 1, host: 'Mara Quinn', showTitle: 'The Quiet Lab' };
const docs12 = understandTranscript(ep12, {
  ...meta,
  episodeId: 1,
  key: 'ql-12',
  episodeTitle: 'Slow problems',
});
const docs13 = understandTranscript(ep13, {
  ...meta,
  episodeId: 2,
  key: 'ql-13',
  episodeTitle: 'Open climate',
});

const norm = (s: string) => normalizeForMatch(s).norm;

function allQuotes(d: UnderstandDocs): Quote[] {
  return [
    ...d.gi.insights.flatMap((i) => i.quotes),
    ...d.summary.keyPoints.flatMap((k) => (k.quote ? [k.quote] : [])),
    ...d.kg.entities.flatMap((e) => e.mentions),
  ];
}

function entity(d: UnderstandDocs, name: string): KgEntity {
  const e = d.kg.entities.find((x) => x.name === name);
  expect(e, `${name} in ${d.kg.entities.map((x) => x.name).join(', ')}`).toBeDefined();
  return e!;
}

describe('grounding quotes in the transcript', () => {
  it('every quote the classic tier keeps is a verbatim span, with times inside its segments', () => {
    for (const [d, tr] of [
      [docs12, ep12],
      [docs13, ep13],
    ] as const) {
      const t = transcriptText(tr.segments, tr.timed);
      const quotes = allQuotes(d);
      expect(quotes.length).toBeGreaterThan(20);
      for (const q of quotes) {
        const slice = t.text.slice(q.charStart, q.charEnd);
        expect(slice).toBe(q.text);
        expect(norm(slice)).toBe(norm(q.text));
        const first = tr.segments[segmentAt(t, q.charStart)]!;
        const last = tr.segments[segmentAt(t, q.charEnd - 1)]!;
        expect(q.startMs).toBeGreaterThanOrEqual(first.startMs);
        expect(q.startMs).toBeLessThanOrEqual(first.endMs);
        expect(q.endMs).toBeGreaterThanOrEqual(last.startMs);
        expect(q.endMs).toBeLessThanOrEqual(last.endMs);
        expect(q.endMs!).toBeGreaterThanOrEqual(q.startMs!);
      }
    }
  });

  it('maps offsets to times by segment, interpolating by character inside one', () => {
    const t = transcriptText([
      { startMs: 1000, endMs: 2000, text: 'abcdefghij' },
      { startMs: 5000, endMs: 9000, text: 'klmn' },
    ]);
    expect(t.text).toBe('abcdefghij klmn');
    expect(spanOf(t, 0, 10)).toMatchObject({ text: 'abcdefghij', startMs: 1000, endMs: 2000 });
    expect(spanOf(t, 5, 10)).toMatchObject({ startMs: 1500 });
    expect(spanOf(t, 11, 13)).toMatchObject({ text: 'kl', startMs: 5000, endMs: 7000 });
    expect(spanOf(t, 3, 15)).toMatchObject({ startMs: 1300, endMs: 9000 });
    const untimed = transcriptText([{ startMs: 0, endMs: 0, text: 'no times here' }], false);
    expect(spanOf(untimed, 0, 2)).toMatchObject({ startMs: null, endMs: null });
  });

  it('verifies quotes despite case, punctuation and whitespace, and refuses paraphrases', () => {
    const t = transcriptText(ep12.segments);
    const n = normalizedTranscript(t);
    const q = verifyQuote(
      t,
      n,
      'a  failed experiment — that nobody publishes — gets repeated by TEN other labs',
    )!;
    expect(q).not.toBeNull();
    expect(t.text.slice(q.charStart, q.charEnd)).toBe(
      'a failed experiment that nobody publishes gets repeated by ten other labs.',
    );
    expect(q.startMs).toBeGreaterThanOrEqual(30_100);
    expect(verifyQuote(t, n, 'unpublished failures get repeated by many labs')).toBeNull();
    // Whole words only, and more than one word.
    expect(verifyQuote(t, n, 'ailed experiment that nobody')).toBeNull();
    expect(verifyQuote(t, n, 'Stanford')).toBeNull();
  });

  it('marks an insight with no verifiable quote as ungrounded, and keeps only the quotes found', () => {
    const t = transcriptText(ep12.segments);
    const [made, partly] = groundInsights(t, [
      {
        type: 'claim',
        text: 'Batteries will be cheap next year.',
        quotes: [{ text: 'batteries will be cheap next year' }],
      },
      {
        type: 'recommendation',
        text: 'Keep a notebook of failures.',
        quotes: [
          { text: 'you should keep a lab notebook of everything that did not work' },
          { text: 'write every failure on a wall' },
        ],
      },
    ]);
    expect(made).toMatchObject({ grounded: false, quotes: [] });
    expect(partly!.grounded).toBe(true);
    expect(partly!.quotes).toHaveLength(1);
    expect(partly!.quotes[0]!.text).toBe('You should keep a lab notebook of everything that did not work');
  });
});

describe('classic tier', () => {
  it('writes a short abstract, key points and typed insights with a question and a recommendation', () => {
    const s = docs12.summary;
    expect(s).toMatchObject({ schemaVersion: 1, tier: 'classic', modelId: null, promptVersion: 'classic-4' });
    expect(s.abstract.length).toBeGreaterThan(80);
    expect(s.abstract.length).toBeLessThan(600);
    expect(s.keyPoints.length).toBeGreaterThanOrEqual(3);
    expect(s.stats).toMatchObject({ segments: ep12.segments.length, durationMs: 178_000 });
    const gi = docs12.gi;
    expect(gi.insights.length).toBeGreaterThanOrEqual(6);
    expect(gi.insights.every((i) => i.grounded && i.quotes.length > 0)).toBe(true);
    const types = new Set(gi.insights.map((i) => i.type));
    expect(types).toContain('question');
    expect(types).toContain('recommendation');
    expect(types).toContain('claim');
    const rec = gi.insights.filter((i) => i.type === 'recommendation');
    expect(rec.some((r) => r.quotes[0]!.text.startsWith('You should keep a lab notebook'))).toBe(true);
    for (const q of gi.insights.filter((i) => i.type === 'question')) expect(q.text.endsWith('?')).toBe(true);
    expect(new Set(gi.insights.map((i) => i.id)).size).toBe(gi.insights.length);
  });

  it('finds people, organizations and places with roles and aliases', () => {
    expect(entity(docs12, 'Mara Quinn')).toMatchObject({ type: 'person', role: 'host' });
    expect(entity(docs12, 'Sarah Chen')).toMatchObject({ type: 'person', role: 'guest' });
    expect(entity(docs12, 'Sarah Chen').aliases).toContain('Dr. Sarah Chen');
    expect(entity(docs12, 'Daniel Kahneman')).toMatchObject({ type: 'person', role: 'mentioned' });
    expect(entity(docs12, 'Daniel Kahneman').aliases).toContain('Kahneman');
    expect(entity(docs12, 'Lex Fridman')).toMatchObject({
      type: 'person',
      role: 'mentioned',
      mentionCount: 2,
    });
    expect(entity(docs12, 'Lex Fridman').aliases).toContain('Lex');
    expect(entity(docs12, 'Google')).toMatchObject({ type: 'organization' });
    expect(entity(docs12, 'Stanford University')).toMatchObject({ type: 'organization' });
    expect(entity(docs12, 'Northwind Robotics')).toMatchObject({ type: 'organization' });
    expect(entity(docs12, 'Zurich')).toMatchObject({ type: 'place' });
    expect(entity(docs12, 'Berlin')).toMatchObject({ type: 'place' });
    expect(docs12.kg.entities.some((e) => e.type === 'topic')).toBe(true);
    // The show is the graph's show node, not an entity.
    expect(docs12.kg.entities.some((e) => /quiet lab/i.test(e.name))).toBe(false);
    // A transcript with no speaker labels: the host from the feed and "I'm …", the guest from "joining me is".
    expect(entity(docs13, 'Mara Quinn')).toMatchObject({ role: 'host' });
    expect(entity(docs13, 'Tomás Rivera')).toMatchObject({ type: 'person', role: 'guest' });
    expect(entity(docs13, 'Lisbon')).toMatchObject({ type: 'place' });
    expect(entity(docs13, 'OpenAI')).toMatchObject({ type: 'organization' });
    expect(entity(docs13, 'Lex Fridman').aliases).toContain('Lex');
  });

  it('a speaker labelled by first name is the person the conversation names in full', () => {
    // garden-hour.vtt: <v Lena> "I'm Lena Ortiz, and with me ... is ... Tom Becker", then <v Tom>.
    const d = understandTranscript(fixture('garden-hour.vtt'), {
      feedId: 2,
      showTitle: 'The Garden Hour',
      episodeId: 3,
      key: 'gh-1',
      episodeTitle: 'Compost and mildew',
    });
    const people = d.kg.entities.filter((e) => e.type === 'person');
    expect(people.map((e) => e.name).sort()).toEqual(['Lena Ortiz', 'Priya', 'Tom Becker']);
    expect(entity(d, 'Lena Ortiz')).toMatchObject({ role: 'host' });
    expect(entity(d, 'Lena Ortiz').aliases).toContain('Lena');
    expect(entity(d, 'Tom Becker')).toMatchObject({ role: 'guest' });
    expect(entity(d, 'Tom Becker').aliases).toContain('Tom');
    // "Our next question is from Priya in Ohio": a listener, and her place.
    expect(entity(d, 'Priya')).toMatchObject({ type: 'person', role: 'mentioned' });
    expect(entity(d, 'Ohio')).toMatchObject({ type: 'place' });
  });

  it("a planet is a place, a mission's name is not a person, a rover's name said twice is a topic", () => {
    // test/fixtures/digest: "…a discovery on Mars. NASA says the Perseverance rover found rocks…",
    // "…the Mars Sample Return mission is in trouble…", "Perseverance has sealed … sample tubes".
    for (const [file, showTitle, host] of [
      ['brief-mars.srt', 'Morning Brief', 'Dev Shah'],
      ['starlight-jezero.vtt', 'Starlight', 'Lena Ortiz'],
    ] as const) {
      const d = understandTranscript(
        parseTranscript(
          fs.readFileSync(path.join(repoRoot, 'test/fixtures/digest', file), 'utf8'),
          file.endsWith('.vtt') ? 'vtt' : 'srt',
        ),
        { feedId: 1, showTitle, host, episodeId: 1, key: file, episodeTitle: null },
      );
      expect(entity(d, 'Mars'), file).toMatchObject({ type: 'place', mentionCount: 3 });
      expect(entity(d, 'Earth'), file).toMatchObject({ type: 'place' });
      // Not a person, and "Mars" is not one of its names.
      expect(entity(d, 'Mars Sample Return'), file).toMatchObject({ type: 'topic', aliases: [] });
      expect(entity(d, 'NASA'), file).toMatchObject({ type: 'organization' });
      expect(entity(d, 'Perseverance').type, file).toBe('topic');
      expect(d.kg.entities.filter((e) => e.type === 'person').map((e) => e.name)).not.toContain(
        'Mars Sample Return',
      );
      // No insight says it is about the mission where the speaker only named the planet.
      for (const i of d.gi.insights)
        if (i.text.includes('Mars Sample Return'))
          expect(i.quotes.some((q) => q.text.includes('Mars Sample Return'))).toBe(true);
    }
  });

  it('relates entities by co-occurrence and to the episode and show, within caps', () => {
    const kg = docs12.kg;
    const ids = new Set(kg.entities.map((e) => e.id));
    const co = kg.relations.filter((r) => r.type === 'co-occurs');
    expect(co.length).toBeGreaterThan(0);
    expect(co.length).toBeLessThanOrEqual(60);
    for (const r of co) expect(ids.has(r.source) && ids.has(r.target)).toBe(true);
    const host = entity(docs12, 'Mara Quinn');
    expect(kg.relations).toContainEqual(
      expect.objectContaining({ source: host.id, type: 'host-of', target: 'show:1' }),
    );
    expect(kg.relations).toContainEqual({
      source: 'episode:ql-12',
      target: 'show:1',
      type: 'episode-of',
      count: 1,
    });
    const guest = entity(docs12, 'Sarah Chen');
    expect(kg.relations).toContainEqual(expect.objectContaining({ source: guest.id, type: 'guest-on' }));
    expect(kg.entities.length).toBeLessThanOrEqual(40);
  });

  it('handles an empty transcript', () => {
    const d = understandTranscript({ segments: [], timed: true }, { episodeId: 9, key: 'empty' });
    expect(d.summary.abstract).toBe('');
    expect(d.gi.insights).toEqual([]);
    expect(d.kg.entities).toEqual([]);
  });

  it('fingerprints the tier, the language model and the version', () => {
    expect(understandFingerprint(null)).toBe('classic:classic-4');
    expect(understandFingerprint('qwen-instruct')).toMatch(/^llm:qwen-instruct:/);
    expect(understandFingerprint('a')).not.toBe(understandFingerprint('b'));
  });

  it('fingerprints the embedding model that merges entities, and is unchanged without one', () => {
    expect(understandFingerprint(null, null)).toBe('classic:classic-4');
    expect(understandFingerprint(null, 'glove')).toMatch(/^classic:classic-4\+entities:glove:/);
    expect(understandFingerprint(null, 'glove')).not.toBe(understandFingerprint(null, 'minilm'));
    expect(understandFingerprint('qwen', 'glove')).not.toBe(understandFingerprint('qwen', null));
  });
});

describe('canonical entities across episodes', () => {
  it('normalizes names: case, diacritics, punctuation, titles, possessives', () => {
    expect(normalizeName('Dr. Sarah Chen')).toBe('sarah chen');
    expect(normalizeName("Lex Fridman's")).toBe('lex fridman');
    expect(normalizeName('TOMÁS  Rivera')).toBe('tomas rivera');
    expect(normalizeName('The New York Times')).toBe('new york times');
    expect(normalizeName('Acme, Inc.')).toBe('acme');
  });

  it('merges the same person from two episodes into one entity, idempotently, with aliases', () => {
    const db = openDatabase(databasePath(tempDir()));
    db.prepare(
      `INSERT INTO feeds (id, url, title, created_at) VALUES (1, 'http://x/feed', 'The Quiet Lab', 0)`,
    ).run();
    for (const id of [1, 2, 3, 4])
      db.prepare(`INSERT INTO episodes (id, feed_id, key, title, created_at) VALUES (?, ?, ?, 't', 0)`).run(
        id,
        id === 4 ? null : 1,
        `k${id}`,
      );
    const firstMs = (d: UnderstandDocs) =>
      Object.fromEntries(d.kg.entities.map((e) => [e.id, e.mentions[0]?.startMs ?? null]));
    const merge = (episodeId: number, d: UnderstandDocs, feedId: number | null = 1) =>
      db.transaction(() => mergeEpisodeEntities(db, episodeId, feedId, d.kg.entities, firstMs(d), 1000))();
    merge(1, docs12);
    merge(2, docs13);
    merge(2, docs13); // a re-run of the step changes nothing
    const lex = db.prepare(`SELECT * FROM entities WHERE norm = 'lex fridman'`).all() as {
      id: number;
      episode_count: number;
      mention_count: number;
      aliases: string;
    }[];
    expect(lex).toHaveLength(1);
    expect(lex[0]).toMatchObject({ episode_count: 2, mention_count: 4 });
    expect(JSON.parse(lex[0]!.aliases)).toContain('Lex');
    const mara = db.prepare(`SELECT episode_count FROM entities WHERE norm = 'mara quinn'`).get();
    expect(mara).toEqual({ episode_count: 2 });
    expect(db.prepare(`SELECT count(*) AS n FROM entities WHERE norm = 'daniel kahneman'`).get()).toEqual({
      n: 1,
    });

    // A third episode of the same show that only says "Lex": the show's Lex Fridman.
    const lexOnly = understandTranscript(
      {
        timed: true,
        segments: [
          { startMs: 0, endMs: 5000, text: 'Lex told me the same thing last week, and Lex was right.' },
        ],
      },
      { episodeId: 3, key: 'k3', feedId: 1 },
    );
    const lexEntity = lexOnly.kg.entities.find((e) => e.name === 'Lex');
    expect(lexEntity).toBeDefined();
    lexEntity!.type = 'person';
    const mapping = merge(3, lexOnly);
    expect(mapping.get(lexEntity!.id)).toBe(lex[0]!.id);
    expect(db.prepare(`SELECT episode_count FROM entities WHERE id = ?`).get(lex[0]!.id)).toEqual({
      episode_count: 3,
    });

    // "Dr. Sarah Chen" elsewhere is the same Sarah Chen; removing an episode's entities recounts.
    merge(4, docs12, null);
    expect(db.prepare(`SELECT episode_count FROM entities WHERE norm = 'sarah chen'`).get()).toEqual({
      episode_count: 2,
    });
    db.transaction(() => mergeEpisodeEntities(db, 4, null, [], {}, 2000))();
    expect(db.prepare(`SELECT episode_count FROM entities WHERE norm = 'sarah chen'`).get()).toEqual({
      episode_count: 1,
    });
    // An entity no episode mentions any more is removed.
    const onlyIn12 = docs12.kg.entities.find((e) => e.name === 'Northwind Robotics')!;
    db.transaction(() => mergeEpisodeEntities(db, 1, 1, [], {}, 3000))();
    expect(db.prepare(`SELECT count(*) AS n FROM entities WHERE name = ?`).get(onlyIn12.name)).toEqual({
      n: 0,
    });
    db.close();
  });
});
