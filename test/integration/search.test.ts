import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppContext } from '../../pipeline/api/app.ts';
import { cliPath, repoRoot, tempDir } from '../helpers/env.ts';
import { makeAudio } from '../helpers/audio.ts';
import { pipelineLibraries } from '../helpers/engine.ts';
import { startFeedServer, type FeedServer } from '../helpers/feed-server.ts';
import { gloveModelDir } from '../helpers/search-library.ts';
import { makeGloveModel } from '../helpers/glove-model.ts';

/**
 * Search through the real engine and worker processes: two shows whose episodes carry the
 * publisher's transcripts (SRT and WebVTT), indexed on the cpu lane with the GloVe embedding
 * model, then searched through the API and the command line.
 */
let server: FeedServer;
const audio = fs.readFileSync(makeAudio(tempDir('earshot-search-audio-'), 'tone.mp3', 5));
const read = (f: string) => fs.readFileSync(path.join(repoRoot, 'test/fixtures/transcripts', f));

function feed(title: string, guid: string, episode: string, date: string, tx: string, type: string): string {
  return `<?xml version="1.0"?><rss version="2.0" xmlns:podcast="https://podcastindex.org/namespace/1.0"><channel>
    <title>${title}</title>
    <item><guid>${guid}</guid><title>${episode}</title><pubDate>${date}</pubDate>
      <description>&lt;p&gt;Show notes for ${episode}.&lt;/p&gt;</description>
      <enclosure url="/media/${guid}.mp3" type="audio/mpeg" length="${audio.length}"/>
      <podcast:transcript url="/tx/${tx}" type="${type}" language="en"/></item>
  </channel></rss>`;
}

beforeAll(async () => {
  server = await startFeedServer();
  server.route('/money.xml', {
    body: feed(
      'Money Talk',
      'mt-1',
      'A rough week on Wall Street',
      'Thu, 15 Jan 2026 10:00:00 GMT',
      'money-talk.srt',
      'application/srt',
    ),
  });
  server.route('/garden.xml', {
    body: feed(
      'The Garden Hour',
      'gh-1',
      'Compost and mildew',
      'Tue, 10 Mar 2026 10:00:00 GMT',
      'garden-hour.vtt',
      'text/vtt',
    ),
  });
  for (const g of ['mt-1', 'gh-1'])
    server.route(`/media/${g}.mp3`, { body: audio, headers: { 'content-type': 'audio/mpeg' } });
  server.route('/tx/money-talk.srt', {
    body: read('money-talk.srt'),
    headers: { 'content-type': 'application/srt' },
  });
  server.route('/tx/garden-hour.vtt', {
    body: read('garden-hour.vtt'),
    headers: { 'content-type': 'text/vtt' },
  });
});
afterAll(() => server.close());

const { open, runUntilIdle } = pipelineLibraries();

async function library(embedding: boolean) {
  const { ctx, app } = await open();
  let modelId: string | null = null;
  if (embedding) {
    modelId = (await app.importModel(gloveModelDir())).model.id;
    await app.useModel(modelId);
  }
  const money = await app.subscribe(server.url('/money.xml'), 'all');
  const garden = await app.subscribe(server.url('/garden.xml'), 'all');
  await app.process();
  await runUntilIdle(ctx);
  const eps = await app.episodes();
  const ids = Object.fromEntries(eps.map((e) => [e.title!, e.id]));
  return { ctx, app, modelId, money: money.id, garden: garden.id, ids };
}

function indexRuns(ctx: AppContext, episodeId: number) {
  return ctx.db
    .prepare(
      `SELECT s.workflow_id, s.output, s.reused_from FROM steps s JOIN workflows w ON w.seq = s.wf_seq
       WHERE w.subject = (SELECT key FROM episodes WHERE id = ?) AND s.name = 'index' AND s.status = 'completed'
       ORDER BY w.seq`,
    )
    .all(episodeId) as { workflow_id: string; output: string; reused_from: string | null }[];
}

describe('search through the engine', () => {
  it('indexes every episode on the cpu lane and finds passages by words and by meaning', async () => {
    const { ctx, app, modelId, money, garden, ids } = await library(true);
    expect(ctx.db.prepare('SELECT status, count(*) AS n FROM workflows GROUP BY status').all()).toEqual([
      { status: 'completed', n: 2 },
    ]);
    const wf = await app.workflow(indexRuns(ctx, ids['A rough week on Wall Street']!)[0]!.workflow_id);
    const index = wf.steps.find((s) => s.name === 'index')!;
    expect(index.lane).toBe('cpu');
    const out = JSON.parse(indexRuns(ctx, ids['A rough week on Wall Street']!)[0]!.output);
    expect(out).toMatchObject({ modelId, dims: 100, problems: [] });
    expect(out.transcriptChunks).toBeGreaterThan(1);
    const counts = ctx.db
      .prepare(`SELECT kind, count(*) AS n FROM chunks GROUP BY kind ORDER BY kind`)
      .all() as { kind: string; n: number }[];
    expect(counts.map((c) => c.kind)).toEqual(expect.arrayContaining(['notes', 'title', 'transcript']));

    const words = await app.search('powdery mildew');
    expect(words).toMatchObject({ mode: 'hybrid', note: null, modelId });
    expect(words.hits[0]).toMatchObject({ episodeId: ids['Compost and mildew'], feedId: garden });
    const meaning = await app.search('equities plunged, traders dumped holdings', { limit: 5 });
    expect(meaning.hits[0]).toMatchObject({ episodeId: ids['A rough week on Wall Street'], feedId: money });
    expect(meaning.hits[0]!.matchedBy).toEqual(['meaning']);

    expect((await app.search('compost', { feedId: money })).hits.every((h) => h.feedId === money)).toBe(true);
    expect((await app.search('compost', { from: '2026-03-01' })).hits.every((h) => h.feedId === garden)).toBe(
      true,
    );
    expect((await app.search('market', { to: '2026-01-15' })).hits.every((h) => h.feedId === money)).toBe(
      true,
    );
    await expect(app.search('  ')).rejects.toThrow(/Give something to search for/);
    await expect(app.search('x', { from: 'yesterday-ish' })).rejects.toThrow(/YYYY-MM-DD/);
    // The vector index was written beside the library when the first search needed it.
    expect(fs.existsSync(path.join(ctx.dataDir, 'search', `${modelId}.hnsw`))).toBe(true);
  });

  it('switching the embedding model re-runs only understanding (entities merge by meaning) and indexing', async () => {
    const { ctx, app, ids } = await library(true);
    const second = (await app.importModel(makeGloveModel({ vocabSize: 12_000 }))).model.id;
    await app.useModel(second);
    const id = ids['A rough week on Wall Street']!;
    await app.process([id]);
    await runUntilIdle(ctx);
    const runs = indexRuns(ctx, id);
    expect(runs).toHaveLength(2);
    expect(JSON.parse(runs[1]!.output)).toMatchObject({ modelId: second });
    const rerun = ctx.db
      .prepare(`SELECT name FROM steps WHERE workflow_id = ? AND reused_from IS NULL ORDER BY position`)
      .all(runs[1]!.workflow_id) as { name: string }[];
    // Transcription and everything before it are reused; understanding runs again because the
    // embedding model decides which entities are one (pipeline/understand/entity-match.ts).
    expect(rerun.map((r) => r.name)).toEqual(['understand', 'index']);
    const r = await app.search('stock market', { limit: 3 });
    expect(r.modelId).toBe(second);
    expect(r.hits[0]!.episodeId).toBe(id);
  });

  it('without an embedding model: keyword search that says so, from the command line too', async () => {
    const { ctx, ids } = await library(false);
    const env = { ...process.env };
    delete env.EARSHOT_WORKFLOWS_MODULE;
    const earshot = (args: string[]) =>
      spawnSync(process.execPath, [cliPath, '--data-dir', ctx.dataDir, ...args], {
        env,
        encoding: 'utf8',
        timeout: 60_000,
      });
    const json = earshot(['--json', 'search', 'emergency fund', '--limit', '3']);
    expect(json.status, json.stderr).toBe(0);
    const r = JSON.parse(json.stdout);
    expect(r).toMatchObject({ mode: 'keyword', modelId: null });
    expect(r.note).toMatch(/words only/);
    expect(r.hits.length).toBeGreaterThan(0);
    expect(r.hits.length).toBeLessThanOrEqual(3);
    expect(r.hits[0]).toMatchObject({ episodeId: ids['A rough week on Wall Street'], kind: 'transcript' });
    const human = earshot([
      'search',
      'powdery mildew',
      '--feed',
      '2',
      '--from',
      '2026-01-01',
      '--to',
      '2026-12-31',
    ]);
    expect(human.status, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/#\d+ Compost and mildew at \d+:\d\d — The Garden Hour, 2026-03-10/);
    expect(human.stdout).toMatch(/\[powdery\] \[mildew\]/);
    const bad = earshot(['search', 'x', '--from', 'soon']);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/YYYY-MM-DD/);
  });
});
