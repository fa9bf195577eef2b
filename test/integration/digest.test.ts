import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { App, AppContext } from '../../pipeline/api/app.ts';
import type { DigestReadyEvent, DigestView } from '../../pipeline/api/contract.ts';
import { startEngineHost } from '../../pipeline/api/engine-host.ts';
import { digestJsonSchema, digestSchema } from '../../pipeline/digest/schema.ts';
import { msAt, normalizeForMatch, segmentAt, transcriptText } from '../../pipeline/understand/text.ts';
import { cliPath, repoRoot } from '../helpers/env.ts';
import { pipelineLibraries } from '../helpers/engine.ts';
import { startFeedServer, type FeedServer } from '../helpers/feed-server.ts';
import { gloveModelDir } from '../helpers/search-library.ts';
import { DAY, FIXTURE_EPISODES, routeDigestShows } from '../helpers/digest-library.ts';

/**
 * The weekly digest over a library built through the real engine: four shows whose episodes
 * carry the publisher's transcripts (test/helpers/digest-library.ts), understood and indexed on
 * the cpu lane, with and without an embedding model.
 */
const NOW = Date.now();
let server: FeedServer;
let urls: Record<string, string>;

beforeAll(async () => {
  server = await startFeedServer();
  urls = routeDigestShows(server, NOW);
});
afterAll(() => server.close());

const { open, runUntilIdle } = pipelineLibraries();

async function library(
  embedding: boolean,
): Promise<{ ctx: AppContext; app: App; ids: Record<string, number> }> {
  const { ctx, app } = await open();
  if (embedding) {
    const id = (await app.importModel(gloveModelDir())).model.id;
    await app.useModel(id);
  }
  for (const url of Object.values(urls)) await app.subscribe(url, 'all');
  await app.process();
  await runUntilIdle(ctx);
  const eps = await app.episodes();
  return { ctx, app, ids: Object.fromEntries(eps.map((e) => [e.title!, e.id])) };
}

const byStory = (story: string) =>
  FIXTURE_EPISODES.filter((e) => e.story === story)
    .map((e) => e.title)
    .sort();

/** The stories as sets of episode titles, in any order. */
const partition = (d: DigestView) =>
  d.stories.map((s) => s.episodes.map((e) => e.title!).sort()).sort((a, b) => a[0]!.localeCompare(b[0]!));

const fixtureText = Object.fromEntries(
  FIXTURE_EPISODES.map((e) => [
    e.title,
    normalizeForMatch(fs.readFileSync(path.join(repoRoot, 'test/fixtures', e.file), 'utf8')).norm,
  ]),
);

/** Every quote is the transcript's own text at its offsets, said at the time it gives. */
async function expectQuotesVerbatim(app: App, d: DigestView): Promise<number> {
  let checked = 0;
  for (const s of d.stories) {
    const mine = new Set(s.episodes.map((e) => e.episodeId));
    for (const i of s.insights) {
      expect(mine.has(i.episodeId)).toBe(true);
      const tr = await app.transcript(i.episodeId);
      const t = transcriptText(tr.segments);
      expect(t.text.slice(i.quote.charStart, i.quote.charEnd)).toBe(i.quote.text);
      expect(i.quote.startMs).toBe(msAt(t, i.quote.charStart, 'start'));
      expect(i.quote.endMs).toBe(msAt(t, i.quote.charEnd, 'end'));
      const seg = tr.segments[segmentAt(t, i.quote.charStart)]!;
      expect(i.quote.startMs).toBeGreaterThanOrEqual(seg.startMs);
      expect(i.quote.startMs).toBeLessThanOrEqual(seg.endMs);
      // And, independently of Earshot's own text code: the words are in the published file.
      const title = s.episodes.find((e) => e.episodeId === i.episodeId)!.title!;
      expect(fixtureText[title]).toContain(normalizeForMatch(i.quote.text).norm);
      checked++;
    }
  }
  return checked;
}

function expectValid(d: DigestView): void {
  expect(digestSchema.safeParse(d).success).toBe(true);
  const validate = new Ajv2020({ strict: false }).compile(digestJsonSchema());
  const ok = validate(JSON.parse(JSON.stringify(d)));
  expect(validate.errors ?? []).toEqual([]);
  expect(ok).toBe(true);
}

describe('the weekly digest', () => {
  it.each([
    ['by meaning, with an embedding model', true, 'embedding'],
    ['by shared names and words, without one', false, 'keywords'],
  ] as const)('groups the week across shows into stories %s', async (_label, embedding, by) => {
    const { app, ids } = await library(embedding);
    const d = await app.digest({ since: '7d' });
    expect(d.grouping.by).toBe(by);
    expect(d.window.to - d.window.from).toBe(7 * DAY);
    expect(d.previousWindow).toEqual({ from: d.window.from - 7 * DAY, to: d.window.from });
    expect(d.counts).toEqual({ episodes: 5, understood: 5, shows: 4 });
    expect(partition(d)).toEqual(
      [byStory('garden'), byStory('rates'), byStory('mars')].sort((a, b) => a[0]!.localeCompare(b[0]!)),
    );
    // The two stories told by two shows come before the garden episode alone.
    expect(d.stories.map((s) => s.shows)).toEqual([2, 2, 1]);
    const mars = d.stories.find((s) => s.episodes.some((e) => e.episodeId === ids['Rocks from Jezero']))!;
    const rates = d.stories.find((s) => s.episodes.some((e) => e.episodeId === ids['The Fed holds steady']))!;
    expect(mars.title).toMatch(/NASA|Mars|Perseverance|Jezero/);
    expect(rates.title).toMatch(/Federal Reserve|Powell/);
    expect(rates.entities.map((e) => e.name)).toEqual(
      expect.arrayContaining(['Federal Reserve', 'Jerome Powell']),
    );
    // Neither a show's host nor its regular co-host is what a story is about.
    for (const s of d.stories)
      expect(s.entities.map((e) => e.name)).not.toEqual(expect.arrayContaining(['Dev Shah']));
    expect(rates.entities.map((e) => e.name)).not.toContain('Kim Alvarez');
    expect(d.stories.every((s) => s.insights.length > 0)).toBe(true);
    expect(await expectQuotesVerbatim(app, d)).toBeGreaterThanOrEqual(5);
    // Rising against the week before: Powell is new, NASA and the Fed were named once then.
    const rising = [...d.rising.people, ...d.rising.topics];
    expect(rising.find((r) => r.name === 'Jerome Powell')).toMatchObject({
      episodes: 2,
      previousEpisodes: 0,
    });
    expect(rising.find((r) => r.name === 'NASA')).toMatchObject({ episodes: 2, previousEpisodes: 1 });
    expect(rising.find((r) => r.name === 'Federal Reserve')).toMatchObject({
      episodes: 2,
      previousEpisodes: 1,
    });
    expect(rising.map((r) => r.name)).not.toEqual(expect.arrayContaining(['Kim Alvarez']));
    expect(rising.map((r) => r.name)).not.toContain('Lena Ortiz');
    expectValid(d);
  });

  it('a window of any dates; the week before has the older episodes only', async () => {
    const { app } = await library(false);
    const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
    const d = await app.digest({ from: day(NOW - 12 * DAY), to: day(NOW - 8 * DAY) });
    expect(d.stories.flatMap((s) => s.episodes.map((e) => e.title)).sort()).toEqual([
      'Housing squeeze',
      "Webb's deepest look",
    ]);
    expectValid(d);
    const empty = await app.digest({ from: '2001-01-01', to: '2001-01-07' });
    expect(empty).toMatchObject({ stories: [], counts: { episodes: 0, understood: 0, shows: 0 } });
    expect(empty.playlist).toEqual({ budgetMs: 30 * 60_000, totalMs: 0, items: [] });
    expectValid(empty);
    await expect(app.digest({ since: '7' })).rejects.toThrow(/with a unit, like 7d/);
    await expect(app.digest({ since: '7d', from: '2026-01-01' })).rejects.toThrow(/not both/);
    await expect(app.digest({ from: '2026-03-09', to: '2026-03-01' })).rejects.toThrow(
      /ends before it starts/,
    );
    await expect(app.digest({ budget: '25h' })).rejects.toThrow(/at most 24h/);
  });

  it('the listening time holds: chapters and segments worth hearing, story by story', async () => {
    const { app, ids } = await library(false);
    const lengths = new Map<number, number>();
    for (const id of Object.values(ids)) lengths.set(id, (await app.transcript(id)).segments.at(-1)!.endMs);
    for (const budget of ['1m', '2m', '5m', '30m']) {
      const d = await app.digest({ since: '7d', budget });
      const budgetMs = Number.parseInt(budget, 10) * 60_000;
      const p = d.playlist;
      expect(p.budgetMs).toBe(budgetMs);
      expect(p.items.length).toBeGreaterThan(0);
      expect(p.totalMs).toBe(p.items.reduce((s, i) => s + i.endMs - i.startMs, 0));
      expect(p.totalMs).toBeLessThanOrEqual(budgetMs);
      for (const item of p.items) {
        expect(item.endMs).toBeGreaterThan(item.startMs);
        expect(item.endMs).toBeLessThanOrEqual(lengths.get(item.episodeId)!);
        const story = d.stories.find((s) => s.id === item.storyId)!;
        // It plays a moment one of its story's insights comes from.
        expect(
          story.insights.some(
            (i) =>
              i.episodeId === item.episodeId &&
              i.quote.startMs! >= item.startMs &&
              i.quote.startMs! < item.endMs,
          ),
        ).toBe(true);
      }
      // Stretches of one episode never overlap.
      for (const a of p.items)
        for (const b of p.items)
          if (a !== b && a.episodeId === b.episodeId)
            expect(a.endMs <= b.startMs || b.endMs <= a.startMs).toBe(true);
      if (budget === '30m') {
        expect(new Set(p.items.map((i) => i.storyId))).toEqual(new Set(d.stories.map((s) => s.id)));
        // The publisher marked chapters in "Rocks from Jezero": its last one (46.667 s to the
        // end, 86.067 s) is played whole; a segment alone would stop well before the end.
        const jezero = p.items.filter((i) => i.episodeId === ids['Rocks from Jezero']);
        expect(jezero.some((i) => i.startMs <= 46_667 && i.endMs === 86_067)).toBe(true);
      }
      expectValid(d);
    }
  });

  it('is made weekly by the engine beside the feed refresh, stored, announced and printed by the CLI', async () => {
    const { ctx, app } = await library(false);
    const ready: DigestReadyEvent[] = [];
    const host = startEngineHost(ctx, { onDigestReady: (e) => ready.push(e) });
    try {
      await host.ingest!.tick();
      await host.engine.untilIdle();
      expect(ready).toHaveLength(1);
      const list = await app.digests();
      expect(list).toHaveLength(1);
      expect(list[0]).toMatchObject({ id: ready[0]!.digestId, stories: 3, episodes: 5, scheduled: true });
      expect(ready[0]!.headline).toBe('3 stories from 5 episodes this week');
      const saved = await app.savedDigest(list[0]!.id);
      expect(saved.id).toBe(list[0]!.id);
      expect(saved.window.to - saved.window.from).toBe(7 * DAY);
      expect(partition(saved)).toHaveLength(3);
      expectValid(saved);
      // The step ran on the cpu lane, in a worker, and its file is beside the library.
      const wf = ctx.db.prepare(`SELECT id FROM workflows WHERE kind = 'digest'`).all() as { id: string }[];
      expect(wf).toHaveLength(1);
      expect((await app.workflow(wf[0]!.id)).steps).toMatchObject([
        { name: 'build', lane: 'cpu', status: 'completed' },
      ]);
      expect(fs.readdirSync(path.join(ctx.dataDir, 'digests'))).toHaveLength(1);
      // Not due again until a week has passed.
      await host.ingest!.tick();
      await host.engine.untilIdle();
      expect(await app.digests()).toHaveLength(1);
      expect(ready).toHaveLength(1);
      const settings = await app.digestSettings();
      expect(settings).toMatchObject({ everyMs: 7 * DAY, budgetMs: 30 * 60_000, lastTo: saved.window.to });
      expect(settings.nextAt).toBe(saved.window.to + 7 * DAY);
      await app.setDigestSettings({ every: 'off' });
      expect(await app.digestSettings()).toMatchObject({ everyMs: null, nextAt: null });
      await app.setDigestSettings({ every: '7d' });
    } finally {
      await host.shutdown(2000);
    }

    const env = { ...process.env };
    delete env.EARSHOT_WORKFLOWS_MODULE;
    const earshot = (args: string[]) =>
      spawnSync(process.execPath, [cliPath, '--data-dir', ctx.dataDir, ...args], {
        env,
        encoding: 'utf8',
        timeout: 60_000,
      });
    const id = String(ready[0]!.digestId);
    const md = earshot(['digest', '--id', id]);
    expect(md.status, md.stderr).toBe(0);
    expect(md.stdout).toMatch(/^# Your digest: /);
    expect(md.stdout).toMatch(/## Listen in 30 min/);
    expect(md.stdout).toMatch(/### 1\. /);
    const html = earshot(['digest', '--id', id, '--format', 'html']);
    expect(html.status, html.stderr).toBe(0);
    expect(html.stdout).toMatch(/^<!doctype html>/);
    expect(html.stdout).toContain('<h3>1. ');
    const json = earshot(['--json', 'digest', '--since', '7d', '--budget', '2m']);
    expect(json.status, json.stderr).toBe(0);
    const live = JSON.parse(json.stdout) as DigestView;
    expect(live.playlist.budgetMs).toBe(120_000);
    expectValid(live);
    const schedule = earshot(['digest-schedule', '--every', '1d', '--budget', '45m']);
    expect(schedule.status, schedule.stderr).toBe(0);
    expect(schedule.stdout).toMatch(/every day, with 45 min to listen to/);
    const bad = earshot(['digest-schedule', '--every', '5m']);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/at most every hour/);
    const schema = earshot(['digest', '--schema']);
    expect(JSON.parse(schema.stdout)).toMatchObject({ title: 'Earshot digest', type: 'object' });
  });
});
