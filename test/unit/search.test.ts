import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Searcher, ftsQuery, makeSnippet, searchDate } from '../../pipeline/search/search.ts';
import { VectorIndex, indexPaths } from '../../pipeline/search/vector-index.ts';
import { EpisodeVectorCache, type EpisodeScope } from '../../pipeline/search/vector-cache.ts';
import { blobToVector } from '../../pipeline/search/embed.ts';
import {
  addFeed,
  addIndexedEpisode,
  indexEpisode,
  newLibrary,
  type Library,
} from '../helpers/search-library.ts';

const libs: Library[] = [];
afterEach(() => {
  for (const l of libs.splice(0)) l.db.close();
});

const DAY = 86_400_000;
const JAN = Date.UTC(2026, 0, 15);
const MAR = Date.UTC(2026, 2, 10);

/** Two shows, three episodes: a finance show (two) and a gardening show (one). */
async function library(embedding: boolean) {
  const lib = await newLibrary({ embedding });
  libs.push(lib);
  const money = addFeed(lib, 'Money Talk');
  const garden = addFeed(lib, 'The Garden Hour');
  const ep1 = await addIndexedEpisode(lib, {
    feedId: money,
    key: 'money-1',
    title: 'A rough week on Wall Street',
    description: '<p>Maya and Raj on the sell-off, inflation and <b>emergency funds</b>.</p>',
    publishedAt: JAN,
    transcript: 'money-talk.srt',
  });
  const ep2 = await addIndexedEpisode(lib, {
    feedId: garden,
    key: 'garden-1',
    title: 'Spring compost and powdery mildew',
    publishedAt: MAR,
    transcript: 'garden-hour.vtt',
  });
  const ep3 = await addIndexedEpisode(lib, {
    feedId: money,
    key: 'money-2',
    title: 'Listener questions',
    publishedAt: MAR + DAY,
    transcript: [
      { startMs: 0, endMs: 6000, text: 'Welcome to the mailbag episode of Money Talk.' },
      {
        startMs: 6000,
        endMs: 15_000,
        text: 'Sam asks whether he should pay off his student loans or invest in an index fund.',
      },
      {
        startMs: 15_000,
        endMs: 24_000,
        text: 'Our answer: compare the loan interest rate with what the market has returned.',
      },
    ],
  });
  return { lib, money, garden, ep1, ep2, ep3, searcher: new Searcher({ db: lib.db, dataDir: lib.dataDir }) };
}

describe('keyword search (no embedding model)', () => {
  it('finds transcript passages by their words, with highlights and the time to jump to', async () => {
    const { searcher, ep2 } = await library(false);
    const r = await searcher.search('powdery mildew');
    expect(r.mode).toBe('keyword');
    expect(r.note).toMatch(/words only.*no embedding model is installed.*earshot models import/);
    const hit = r.hits.find((h) => h.kind === 'transcript')!;
    expect(hit).toMatchObject({ episodeId: ep2, feedTitle: 'The Garden Hour', matchedBy: ['keyword'] });
    expect(hit.startMs).toBeTypeOf('number');
    expect(hit.endMs!).toBeGreaterThan(hit.startMs!);
    const marked = hit.highlights.map(([a, b]) => hit.snippet.slice(a, b).toLowerCase());
    expect(marked).toEqual(expect.arrayContaining(['powdery', 'mildew']));
    // The title matches too, and is a hit of its own (no time).
    expect(r.hits.some((h) => h.kind === 'title' && h.episodeId === ep2 && h.startMs === null)).toBe(true);
  });

  it('searches show notes and stems words (funds → fund)', async () => {
    const { searcher, ep1, ep3 } = await library(false);
    const r = await searcher.search('emergency fund');
    expect(r.hits[0]).toMatchObject({ episodeId: ep1 });
    expect(r.hits.some((h) => h.kind === 'notes')).toBe(true);
    const any = await searcher.search('index fund');
    expect(any.hits[0]!.episodeId).toBe(ep3);
  });

  it('falls back to any word when no passage has them all, and finds nothing for nonsense', async () => {
    const { searcher } = await library(false);
    const r = await searcher.search('lavender mortgage zebra');
    expect(r.hits.length).toBeGreaterThan(1);
    expect((await searcher.search('qzxv')).hits).toEqual([]);
    // Query syntax is never interpreted: quotes, operators and SQL are just words.
    await searcher.search('"; DROP TABLE chunks; -- NEAR(a b) OR *');
    expect((await searcher.search('chunks')).hits).toEqual([]);
  });

  it('filters by show and by date range', async () => {
    const { searcher, money, garden, ep1, ep3 } = await library(false);
    const all = await searcher.search('market');
    expect(new Set(all.hits.map((h) => h.episodeId))).toEqual(new Set([ep1, ep3]));
    const byShow = await searcher.search('spring', { feedId: garden });
    expect(byShow.hits.length).toBeGreaterThan(0);
    expect(byShow.hits.every((h) => h.feedId === garden)).toBe(true);
    expect((await searcher.search('spring', { feedId: money })).hits).toEqual([]);
    const march = await searcher.search('market', { from: searchDate('2026-03-01', 'from') });
    expect(march.hits.map((h) => h.episodeId)).toEqual([ep3]);
    const jan = await searcher.search('market', { to: searchDate('2026-01-15', 'to') });
    expect(new Set(jan.hits.map((h) => h.episodeId))).toEqual(new Set([ep1]));
  });

  it('filters by an entity of the knowledge graph (by name, alias or id)', async () => {
    const { lib, searcher, ep1, ep3 } = await library(false);
    const now = Date.now();
    const entity = Number(
      lib.db
        .prepare(
          `INSERT INTO entities (type, name, norm, aliases, created_at, updated_at) VALUES ('person', 'Raj Patel', 'raj patel', '[]', ?, ?)`,
        )
        .run(now, now).lastInsertRowid,
    );
    lib.db
      .prepare(`INSERT INTO entity_aliases (type, norm, entity_id) VALUES ('person', 'raj', ?)`)
      .run(entity);
    lib.db
      .prepare(
        `INSERT INTO entity_mentions (episode_id, entity_id, local_id, name, role, mentions) VALUES (?, ?, 'p1', 'Raj Patel', 'host', 3)`,
      )
      .run(ep1, entity);
    for (const name of ['Raj Patel', 'raj patel', 'Dr. Raj Patel', 'Raj', String(entity)]) {
      const r = await searcher.search('market', { entity: name });
      expect(r.hits.length, name).toBeGreaterThan(0);
      expect(new Set(r.hits.map((h) => h.episodeId)), name).toEqual(new Set([ep1]));
    }
    expect((await searcher.search('market')).hits.some((h) => h.episodeId === ep3)).toBe(true);
    const nobody = await searcher.search('market', { entity: 'Nobody Known' });
    expect(nobody.hits).toEqual([]);
    // Said plainly, not an empty list that reads as "no such words".
    expect(nobody.note).toMatch(/^No episode mentions "Nobody Known": `earshot entities` lists/);
    expect((await searcher.search('market', { entity: 'Raj' })).note).not.toMatch(/No episode mentions/);
  });
});

describe('hybrid search (GloVe embedding model)', () => {
  it('finds by words and by meaning; a query sharing no word with the text still finds it', async () => {
    const { searcher, lib, ep1, ep2 } = await library(true);
    const both = await searcher.search('stock market');
    expect(both.mode).toBe('hybrid');
    expect(both.note).toBeNull();
    expect(both.modelId).toBe(lib.modelId);
    expect(both.hits[0]!.episodeId).toBe(ep1);
    expect(both.hits[0]!.matchedBy.sort()).toEqual(['keyword', 'meaning']);

    // No word of this query occurs in any transcript, title or note.
    const query = 'equities plunged, traders dumped holdings';
    const none = lib.db
      .prepare('SELECT count(*) AS n FROM chunks_fts WHERE chunks_fts MATCH ?')
      .get(ftsQuery(query, 'any')) as {
      n: number;
    };
    expect(none.n).toBe(0);
    const meaning = await searcher.search(query, { limit: 3 });
    expect(meaning.hits[0]).toMatchObject({ episodeId: ep1, matchedBy: ['meaning'] });
    // The finance show's passages, all of them, rank above every gardening passage.
    const passages = (await searcher.search(query, { limit: 50 })).hits.filter(
      (h) => h.kind === 'transcript',
    );
    const firstGarden = passages.findIndex((h) => h.episodeId === ep2);
    expect(firstGarden).toBeGreaterThan(0);
    expect(passages.slice(0, firstGarden).every((h) => h.episodeId !== ep2)).toBe(true);
    const selloff = passages.find((h) => h.episodeId === ep1 && h.startMs === 0)!;
    expect(selloff).toMatchObject({ episodeId: ep1, startMs: 0, highlights: [], matchedBy: ['meaning'] });
    expect(passages.indexOf(selloff)).toBeLessThan(firstGarden);

    const plants = await searcher.search('fungus on vegetable leaves', { limit: 3 });
    expect(plants.hits[0]!.episodeId).toBe(ep2);
  });

  it('applies filters to the meaning search too', async () => {
    const { searcher, garden } = await library(true);
    const r = await searcher.search('equities plunged, traders dumped holdings', { feedId: garden });
    expect(r.hits.length).toBeGreaterThan(0);
    expect(r.hits.every((h) => h.feedId === garden)).toBe(true);
  });

  it('persists the vector index beside the library and adds new chunks incrementally', async () => {
    const { searcher, lib, money } = await library(true);
    await searcher.search('stock market');
    const files = indexPaths(lib.dataDir, lib.modelId!);
    expect(fs.existsSync(files.index)).toBe(true);
    const meta = JSON.parse(fs.readFileSync(files.meta, 'utf8'));
    const stored = lib.db.prepare('SELECT count(*) AS n FROM chunk_embeddings').get() as { n: number };
    expect(meta.count).toBe(stored.n);
    expect(fs.readdirSync(path.dirname(files.index)).filter((f) => f.endsWith('.tmp'))).toEqual([]);

    const ep4 = await addIndexedEpisode(lib, {
      feedId: money,
      key: 'money-3',
      title: 'Crypto special',
      transcript: [{ startMs: 5000, endMs: 9000, text: 'Gold and silver prices swung wildly this month.' }],
    });
    // The new chunk is found by its meaning too: its vector was added to the saved index.
    const r = await searcher.search('gold silver', { limit: 3 });
    expect(r.hits[0]).toMatchObject({ episodeId: ep4, startMs: 5000 });
    expect(r.hits[0]!.matchedBy.sort()).toEqual(['keyword', 'meaning']);
    expect(JSON.parse(fs.readFileSync(files.meta, 'utf8')).count).toBe(stored.n + 2);
    const v = new VectorIndex(lib.db, lib.dataDir, lib.modelId!);
    expect(v.sync()).toMatchObject({ added: 0, rebuilt: false });
  });

  it('rebuilds the index from the stored embeddings when its file is deleted or damaged', async () => {
    const { lib, ep1 } = await library(true);
    const files = indexPaths(lib.dataDir, lib.modelId!);
    const first = new VectorIndex(lib.db, lib.dataDir, lib.modelId!);
    expect(first.sync()).toMatchObject({ rebuilt: true, reason: 'no saved index' });
    const count = first.count;
    expect(count).toBeGreaterThan(5);

    fs.rmSync(files.index);
    const afterDelete = new VectorIndex(lib.db, lib.dataDir, lib.modelId!);
    expect(afterDelete.sync()).toMatchObject({
      rebuilt: true,
      reason: 'the saved index file is missing',
      count,
    });

    const bytes = fs.readFileSync(files.index);
    bytes.fill(0xff, 100, 400);
    fs.writeFileSync(files.index, bytes);
    const afterDamage = new VectorIndex(lib.db, lib.dataDir, lib.modelId!);
    expect(afterDamage.sync()).toMatchObject({
      rebuilt: true,
      reason: 'the saved index file is damaged',
      count,
    });

    fs.writeFileSync(files.meta, '{not json');
    const searcher = new Searcher({ db: lib.db, dataDir: lib.dataDir });
    const r = await searcher.search('equities plunged, traders dumped holdings', { limit: 1 });
    expect(r.hits[0]!.episodeId).toBe(ep1);
    expect(JSON.parse(fs.readFileSync(files.meta, 'utf8')).count).toBe(count);
  });

  it('re-indexing an episode replaces its chunks; stale vectors never surface', async () => {
    const { lib, searcher, ep3 } = await library(true);
    await searcher.search('student loans');
    await indexEpisode(lib, ep3, {
      feedId: null,
      key: 'money-2',
      title: 'Listener questions',
      transcript: [{ startMs: 0, endMs: 4000, text: 'Today we only talk about tomatoes.' }],
    });
    const r = await searcher.search('student loans');
    expect(
      r.hits.filter((h) => h.episodeId === ep3 && h.kind === 'transcript').map((h) => h.snippet),
    ).not.toContain(expect.stringMatching(/loans/));
    const fts = lib.db
      .prepare(`SELECT count(*) AS n FROM chunks_fts WHERE chunks_fts MATCH 'loans'`)
      .get() as { n: number };
    expect(fts.n).toBe(0);
    // Deleting an episode removes its chunks, full-text rows and vectors.
    lib.db.prepare('DELETE FROM episodes WHERE id = ?').run(ep3);
    expect(lib.db.prepare('SELECT count(*) AS n FROM chunks WHERE episode_id = ?').get(ep3)).toEqual({
      n: 0,
    });
    expect((await searcher.search('tomatoes')).hits.every((h) => h.episodeId !== ep3)).toBe(true);
  });

  it("a filtered search holds its episodes' vectors and reads an episode again once it changes", async () => {
    const { lib, money, ep1, ep3 } = await library(true);
    const searcher = new Searcher({ db: lib.db, dataDir: lib.dataDir });
    const loads = vi.spyOn(
      EpisodeVectorCache.prototype as unknown as { load(episodes: EpisodeScope[]): unknown },
      'load',
    );
    const loaded = () =>
      loads.mock.calls.splice(0).map(([episodes]) => episodes.map((e) => e.episodeId).sort());
    // Every chunk of the show with a stored vector is a candidate by meaning (the show has fewer
    // than the 100 taken), and only those: a stale vector would add a gone chunk or miss a new one.
    const byMeaning = async () =>
      (await searcher.search('money saved for a rainy day', { feedId: money, limit: 200 })).hits
        .filter((h) => h.matchedBy.includes('meaning'))
        .map((h) => h.chunkId)
        .sort((a, b) => a - b);
    const stored = () =>
      lib.db
        .prepare(
          `SELECT c.id FROM chunks c JOIN episodes e ON e.id = c.episode_id
           JOIN chunk_embeddings x ON x.chunk_id = c.id AND x.model_id = ?
           WHERE e.feed_id = ? ORDER BY c.id`,
        )
        .pluck()
        .all(lib.modelId, money) as number[];

    const before = stored();
    expect(before.length).toBeGreaterThan(3);
    expect(await byMeaning()).toEqual(before);
    expect(loaded()).toEqual([[ep1, ep3].sort()]);
    expect(await byMeaning()).toEqual(before);
    expect(loaded()).toEqual([]);

    // Re-indexed with as many chunks as before: the highest chunk id (and the new vectors) tell.
    const count = () => lib.db.prepare('SELECT count(*) FROM chunks WHERE episode_id = ?').pluck().get(ep3);
    const chunksBefore = count();
    await indexEpisode(lib, ep3, {
      feedId: money,
      key: 'money-2',
      title: 'Listener questions',
      publishedAt: MAR + DAY,
      transcript: [
        { startMs: 0, endMs: 6000, text: 'Welcome back to the mailbag.' },
        { startMs: 6000, endMs: 15_000, text: 'Priya wants to know how large an emergency fund should be.' },
        { startMs: 15_000, endMs: 24_000, text: 'Three to six months of expenses, kept in cash.' },
      ],
    });
    expect(count()).toBe(chunksBefore);
    const after = stored();
    expect(after).not.toEqual(before);
    expect(await byMeaning()).toEqual(after);
    expect(loaded()).toEqual([[ep3]]);

    // A vector stored again for a chunk that stays (a newer chunk_embeddings row).
    const chunk = after.at(-1)!;
    const row = lib.db
      .prepare('SELECT model_id, vector FROM chunk_embeddings WHERE chunk_id = ?')
      .get(chunk) as { model_id: string; vector: Buffer };
    lib.db.prepare('DELETE FROM chunk_embeddings WHERE chunk_id = ?').run(chunk);
    lib.db
      .prepare('INSERT INTO chunk_embeddings (chunk_id, model_id, vector) VALUES (?, ?, ?)')
      .run(chunk, row.model_id, row.vector);
    expect(await byMeaning()).toEqual(after);
    expect(loaded()).toEqual([[ep3]]);

    // Re-indexed without an embedding model: its vectors are gone and no new ones came.
    await indexEpisode({ ...lib, modelId: null }, ep3, {
      feedId: money,
      key: 'money-2',
      title: 'Listener questions',
      publishedAt: MAR + DAY,
      transcript: [{ startMs: 0, endMs: 6000, text: 'Welcome back to the mailbag.' }],
    });
    const wordsOnly = stored();
    expect(wordsOnly.length).toBeLessThan(after.length);
    expect(await byMeaning()).toEqual(wordsOnly);
    expect(loaded()).toEqual([[ep3]]);

    // A deleted episode is no longer searched (its held vectors are never used again).
    lib.db.prepare('DELETE FROM episodes WHERE id = ?').run(ep1);
    expect(stored()).toEqual([]);
    expect(await byMeaning()).toEqual([]);
    expect(loaded()).toEqual([]);
    loads.mockRestore();
  });

  it('holds no more than its memory budget and ranks as an exact comparison does', async () => {
    const { lib } = await library(true);
    const episodes = lib.db
      .prepare(
        `SELECT e.id AS episodeId, count(c.id) AS chunks, max(c.id) AS maxChunkId
         FROM episodes e JOIN chunks c ON c.episode_id = e.id GROUP BY e.id ORDER BY e.id`,
      )
      .all() as EpisodeScope[];
    const rows = lib.db
      .prepare('SELECT chunk_id, vector FROM chunk_embeddings WHERE model_id = ?')
      .raw()
      .all(lib.modelId) as [number, Buffer][];
    const vectors = rows.map(([id, b]) => ({ id, v: blobToVector(b) }));
    const qv = vectors[0]!.v.map((x, i) => x + vectors.at(-1)!.v[i]!);
    const score = new Map(vectors.map(({ id, v }) => [id, v.reduce((acc, x, i) => acc + x * qv[i]!, 0)]));
    const exact = [...score.keys()].sort((a, b) => score.get(b)! - score.get(a)!);
    /** Best first, as the exact order (scores within rounding of each other may swap). */
    const expectRanked = (ids: number[], k: number) => {
      expect(new Set(ids)).toEqual(new Set(exact.slice(0, k)));
      ids.forEach(
        (id, i) => i > 0 && expect(score.get(id)!).toBeLessThanOrEqual(score.get(ids[i - 1]!)! + 1e-6),
      );
    };
    // Room for about one episode's vectors (100-d: 400 bytes each, 8 for the id).
    const budget = 408 * Math.max(...episodes.map((e) => e.chunks));
    const cache = new EpisodeVectorCache(lib.db, lib.modelId!, qv.length, budget);
    for (let round = 0; round < 2; round++) {
      expectRanked(cache.nearest(qv, episodes, 5), 5);
      expectRanked(cache.nearest(qv, episodes, 1000), exact.length);
      expect(cache.size.bytes).toBeLessThanOrEqual(budget);
      expect(cache.size.episodes).toBeGreaterThan(0);
      expect(cache.size.episodes).toBeLessThan(episodes.length);
    }
    expect(cache.nearest(new Float32Array(7), episodes, 5)).toEqual([]);
  });

  it('indexes insights from the understand step when gi.json is there', async () => {
    const lib = await newLibrary({ embedding: true });
    libs.push(lib);
    fs.mkdirSync(path.join(lib.dataDir, 'understand'), { recursive: true });
    fs.writeFileSync(
      path.join(lib.dataDir, 'understand', 'ins-1.gi.json'),
      JSON.stringify({
        insights: [
          {
            text: 'Paying off high-interest credit cards beats investing.',
            type: 'recommendation',
            quotes: [{ text: 'x', startMs: 4200, endMs: 5000 }],
          },
          { text: 42 },
          'junk',
        ],
      }),
    );
    const ep = await addIndexedEpisode(lib, {
      feedId: null,
      key: 'ins-1',
      title: 'Debt',
      transcript: [{ startMs: 0, endMs: 9000, text: 'We talk about debt today.' }],
    });
    const r = await new Searcher({ db: lib.db, dataDir: lib.dataDir }).search('credit cards');
    // The transcript passage around the quote matched by meaning only: the insight stands for the moment.
    expect(r.hits[0]).toMatchObject({
      episodeId: ep,
      kind: 'insight',
      kinds: ['insight', 'transcript'],
      startMs: 4200,
    });
  });
});

describe('hits grouped by episode and moment', () => {
  it('one passage appears once: insights quoting it and overlapping chunks join the transcript hit', async () => {
    const lib = await newLibrary();
    libs.push(lib);
    fs.mkdirSync(path.join(lib.dataDir, 'understand'), { recursive: true });
    // Two insights about the same passage (as issue 15 saw: two insights and the transcript).
    fs.writeFileSync(
      path.join(lib.dataDir, 'understand', 'mildew.gi.json'),
      JSON.stringify({
        insights: [
          { text: 'Tom Becker on powdery mildew', type: 'observation', quotes: [{ startMs: 67_950 }] },
          {
            text: "Tom Becker's advice on powdery mildew",
            type: 'recommendation',
            quotes: [{ startMs: 68_500 }],
          },
          { text: 'Powdery mildew, said again later', type: 'claim', quotes: [{ startMs: 170_000 }] },
        ],
      }),
    );
    const ep = await addIndexedEpisode(lib, {
      feedId: null,
      key: 'mildew',
      title: 'Garden',
      transcript: 'garden-hour.vtt',
    });
    // Small chunks, so the episode has several that overlap (40 tokens each side).
    const chunks = lib.db
      .prepare(`SELECT count(*) FROM chunks WHERE episode_id = ? AND kind = 'transcript'`)
      .pluck();
    expect(chunks.get(ep)).toBeGreaterThanOrEqual(2);
    const r = await new Searcher({ db: lib.db, dataDir: lib.dataDir }).search('powdery mildew');
    const at = r.hits.filter((h) => h.startMs !== null && h.startMs <= 70_000 && (h.endMs ?? 0) >= 67_950);
    expect(at).toHaveLength(1);
    expect(at[0]).toMatchObject({ episodeId: ep, kind: 'transcript', kinds: ['transcript', 'insight'] });
    expect(at[0]!.highlights.length).toBeGreaterThan(0);
    // The insight at another moment is a hit of its own; the title stands alone.
    expect(r.hits.filter((h) => h.kind === 'insight').map((h) => h.startMs)).toEqual([170_000]);
    const starts = r.hits.map((h) => `${h.kind}@${h.startMs}`);
    expect(new Set(starts).size).toBe(starts.length);
  });
});

describe('snippets and queries', () => {
  it('cuts a window around the first highlight and reports highlight offsets', () => {
    const words = Array.from({ length: 100 }, (_, i) => `w${i}`);
    words[70] = '\u0001match\u0002';
    const { snippet, highlights } = makeSnippet(words.join(' '), 20);
    expect(snippet.startsWith('… ')).toBe(true);
    expect(snippet.endsWith(' …')).toBe(true);
    expect(highlights.map(([a, b]) => snippet.slice(a, b))).toEqual(['match']);
    expect(ftsQuery('what "is" AND near(x)')).toBe('"what" AND "is" AND "and" AND "near" AND "x"');
    expect(ftsQuery('  ')).toBeNull();
  });
});
