import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppContext } from '../../pipeline/api/app.ts';
import { startEpisodes } from '../../pipeline/ingest/episodes.ts';
import { repoRoot, tempDir } from '../helpers/env.ts';
import { makeAudio } from '../helpers/audio.ts';
import { pipelineLibraries } from '../helpers/engine.ts';
import { startFeedServer, type FeedServer } from '../helpers/feed-server.ts';
import { gloveModelDir } from '../helpers/search-library.ts';

/**
 * A publisher edits an indexed episode's title and show notes: the next refresh marks it, the
 * next round that starts episodes runs its index step again (nothing before it), unchanged text
 * keeps its vectors, and search finds the new words, not the old ones.
 */
let server: FeedServer;
const audio = fs.readFileSync(makeAudio(tempDir('earshot-reindex-audio-'), 'tone.mp3', 5));
const srt = fs.readFileSync(path.join(repoRoot, 'test/fixtures/transcripts/garden-hour.vtt'));

function feed(title: string, notes: string): string {
  return `<?xml version="1.0"?><rss version="2.0" xmlns:podcast="https://podcastindex.org/namespace/1.0"><channel>
    <title>The Garden Hour</title>
    <item><guid>gh-1</guid><title>${title}</title><pubDate>Tue, 10 Mar 2026 10:00:00 GMT</pubDate>
      <description>${notes}</description>
      <enclosure url="/media/gh-1.mp3" type="audio/mpeg" length="${audio.length}"/>
      <podcast:transcript url="/tx/gh-1.vtt" type="text/vtt" language="en"/></item>
  </channel></rss>`;
}

beforeAll(async () => {
  server = await startFeedServer();
  server.route('/media/gh-1.mp3', { body: audio, headers: { 'content-type': 'audio/mpeg' } });
  server.route('/tx/gh-1.vtt', { body: srt, headers: { 'content-type': 'text/vtt' } });
});
afterAll(() => server.close());

const { open, runUntilIdle } = pipelineLibraries();

const steps = (ctx: AppContext) =>
  ctx.db
    .prepare(
      `SELECT s.name, s.finished_at, s.output FROM steps s
        WHERE s.wf_seq = (SELECT max(seq) FROM workflows WHERE kind = 'episode') ORDER BY s.position`,
    )
    .all() as { name: string; finished_at: number; output: string }[];

describe('re-indexing an episode whose title or show notes changed', () => {
  it('runs only the index step again, reuses vectors of unchanged text, and search follows the new words', async () => {
    server.route('/garden.xml', { body: feed('Compost and mildew', 'Notes about the compost heap.') });
    const { ctx, app } = await open();
    const modelId = (await app.importModel(gloveModelDir())).model.id;
    await app.useModel(modelId);
    const sub = await app.subscribe(server.url('/garden.xml'), 'all');
    await app.process();
    await runUntilIdle(ctx);
    const before = steps(ctx);
    const firstIndex = JSON.parse(before.find((s) => s.name === 'index')!.output);
    expect(firstIndex).toMatchObject({ modelId, reusedVectors: 0 });
    const byWords = (hits: { kind: string; matchedBy: string[] }[], kind: string) =>
      hits.some((h) => h.kind === kind && h.matchedBy.includes('keyword'));
    expect(byWords((await app.search('tomatoes')).hits, 'title')).toBe(false);
    expect(byWords((await app.search('greenhouse')).hits, 'notes')).toBe(false);

    // A refresh with nothing changed marks nothing and starts nothing.
    await app.refresh(sub.id);
    expect(startEpisodes(ctx.db, ctx.queue)).toEqual([]);

    server.route('/garden.xml', {
      body: feed('Tomatoes under glass', 'Notes about the compost heap, and a greenhouse tour.'),
    });
    await app.refresh(sub.id);
    expect(ctx.db.prepare('SELECT count(*) FROM episodes WHERE reindex_at IS NOT NULL').pluck().get()).toBe(
      1,
    );
    // What the background round does after each refresh.
    expect(startEpisodes(ctx.db, ctx.queue)).toHaveLength(1);
    expect(ctx.db.prepare('SELECT count(*) FROM episodes WHERE reindex_at IS NOT NULL').pluck().get()).toBe(
      0,
    );
    await runUntilIdle(ctx);

    const after = steps(ctx);
    // Every step before index kept its first run; index ran again.
    for (const s of before.filter((x) => x.name !== 'index'))
      expect(after.find((x) => x.name === s.name)!.finished_at).toBe(s.finished_at);
    const index = after.find((s) => s.name === 'index')!;
    expect(index.finished_at).toBeGreaterThan(before.find((s) => s.name === 'index')!.finished_at);
    const second = JSON.parse(index.output);
    // Only the title and the show notes were embedded again.
    expect(second.chunks).toBe(firstIndex.chunks);
    expect(second.reusedVectors).toBe(second.chunks - 2);

    const title = ctx.db.prepare(`SELECT text FROM chunks WHERE kind = 'title'`).pluck().all();
    expect(title).toEqual(['Tomatoes under glass']);
    expect(byWords((await app.search('tomatoes')).hits, 'title')).toBe(true);
    expect(byWords((await app.search('greenhouse')).hits, 'notes')).toBe(true);
    expect(
      ctx.db
        .prepare(
          `SELECT count(*) FROM chunks_fts f JOIN chunks c ON c.id = f.rowid
            WHERE chunks_fts MATCH '"compost and mildew"' AND c.kind = 'title'`,
        )
        .pluck()
        .get(),
    ).toBe(0);
  });
});
