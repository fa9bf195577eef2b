import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GraphView } from '../../pipeline/api/contract.ts';
import { cliPath, repoRoot, tempDir } from '../helpers/env.ts';
import { makeAudio } from '../helpers/audio.ts';
import { pipelineLibraries } from '../helpers/engine.ts';
import { startFeedServer, type FeedServer } from '../helpers/feed-server.ts';

/**
 * The knowledge graph stored and queried: two shows whose episodes carry the publisher's
 * transcripts (test/fixtures/transcripts), understood through the real engine, then `earshot
 * graph` over the library, around one entity and in one episode, each edge checked against the
 * relations the understand step's commit stored.
 */
let server: FeedServer;
const audio = fs.readFileSync(makeAudio(tempDir('earshot-graph-audio-'), 'tone.mp3', 5));
const read = (f: string) => fs.readFileSync(path.join(repoRoot, 'test/fixtures/transcripts', f));

beforeAll(async () => {
  server = await startFeedServer();
  const item = (guid: string, title: string, day: number, tx: string, type: string) =>
    `<item><guid>${guid}</guid><title>${title}</title><pubDate>Mon, 0${day} Mar 2026 10:00:00 GMT</pubDate>
      <enclosure url="/media/a.mp3" type="audio/mpeg" length="${audio.length}"/>
      <podcast:transcript url="/tx/${tx}" type="${type}"/></item>`;
  const feed = (title: string, author: string, items: string) =>
    `<?xml version="1.0"?><rss version="2.0" xmlns:podcast="https://podcastindex.org/namespace/1.0"
      xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel><title>${title}</title>
      <itunes:author>${author}</itunes:author>${items}</channel></rss>`;
  server.route('/ql.xml', {
    body: feed(
      'The Quiet Lab',
      'Mara Quinn',
      item('ql-12', 'Slow problems', 2, 'quiet-lab-12.vtt', 'text/vtt') +
        item('ql-13', 'Open climate', 9, 'quiet-lab-13.srt', 'application/srt'),
    ),
  });
  server.route('/clinic.xml', {
    body: feed(
      'The Podcast Clinic',
      'Nadia Brooks',
      item('pc-1', 'Trailers and show notes', 5, 'podcast-clinic.srt', 'application/srt'),
    ),
  });
  server.route('/media/a.mp3', { body: audio, headers: { 'content-type': 'audio/mpeg' } });
  for (const f of ['quiet-lab-12.vtt', 'quiet-lab-13.srt', 'podcast-clinic.srt'])
    server.route(`/tx/${f}`, {
      body: read(f),
      headers: { 'content-type': f.endsWith('.vtt') ? 'text/vtt' : 'application/srt' },
    });
});
afterAll(() => server.close());

const { open, runUntilIdle } = pipelineLibraries();

interface Row {
  episode_id: number;
  kind: string;
  source: string;
  target: string;
  weight: number;
  quotes: string;
}

describe('the knowledge graph', () => {
  it(
    'earshot graph --json: typed nodes and edges, each backed by stored relations with their episodes and quotes',
    { timeout: 180_000 },
    async () => {
      const { ctx, app } = await open();
      await app.subscribe(server.url('/ql.xml'), 'all');
      await app.subscribe(server.url('/clinic.xml'), 'all');
      await app.process();
      await runUntilIdle(ctx);
      const ids = Object.fromEntries((await app.episodes()).map((e) => [e.title!, e.id]));
      expect(Object.keys(ids)).toHaveLength(3);

      const env = { ...process.env };
      delete env.EARSHOT_WORKFLOWS_MODULE;
      const earshot = (...args: string[]) =>
        spawnSync(process.execPath, [cliPath, '--data-dir', ctx.dataDir, ...args], {
          env,
          encoding: 'utf8',
          timeout: 60_000,
        });
      const json = (...args: string[]): GraphView => {
        const r = earshot(...args, '--json');
        expect(r.status, r.stderr).toBe(0);
        return JSON.parse(r.stdout) as GraphView;
      };
      const rows = ctx.db.prepare('SELECT * FROM kg_relations').all() as Row[];
      expect(rows.length).toBeGreaterThan(50);
      expect(new Set(rows.map((r) => r.kind))).toEqual(
        new Set(['host-of', 'guest-on', 'mentions', 'co-occurs', 'insight-supports', 'about']),
      );

      // The library: people, organizations, places and topics (and the shows their hosts host).
      const lib = json('graph');
      expect(lib.focus).toBeNull();
      const types = new Set(lib.nodes.map((n) => n.type));
      for (const t of ['person', 'organization', 'place', 'topic', 'show']) expect(types).toContain(t);
      for (const n of lib.nodes) {
        expect(Object.keys(n)).toEqual(expect.arrayContaining(['id', 'type', 'label', 'episodes']));
        expect(n.episodes).toBeGreaterThan(0);
      }
      const byLabel = (v: GraphView, label: string) => v.nodes.find((n) => n.label === label);
      expect(byLabel(lib, 'Lex Fridman')).toMatchObject({ type: 'person', episodes: 2 });
      expect(byLabel(lib, 'The Quiet Lab')).toMatchObject({ type: 'show', episodes: 2 });
      expect(lib.edges).toContainEqual(
        expect.objectContaining({
          source: byLabel(lib, 'Sarah')!.id,
          target: byLabel(lib, 'The Podcast Clinic')!.id,
          kind: 'guest-on',
        }),
      );
      const mara = byLabel(lib, 'Mara Quinn')!;
      expect(lib.edges).toContainEqual({
        source: mara.id,
        target: byLabel(lib, 'The Quiet Lab')!.id,
        kind: 'host-of',
        weight: 2,
        episodes: 2,
      });
      // Every edge is the sum of the stored rows that back it, each row with its quotes.
      expect(lib.edges.length).toBeGreaterThan(10);
      const ids2 = new Set(lib.nodes.map((n) => n.id));
      const showOf = new Map((await app.episodes()).map((ep) => [ep.id, `show:${ep.feedId}`]));
      for (const e of lib.edges) {
        expect(ids2.has(e.source) && ids2.has(e.target)).toBe(true);
        // In the library a guest is joined to the show of the episodes they were a guest on.
        const backing = rows.filter(
          (r) =>
            r.kind === e.kind &&
            r.source === e.source &&
            (e.kind === 'guest-on' ? showOf.get(r.episode_id) === e.target : r.target === e.target),
        );
        expect(backing.length).toBe(e.episodes);
        expect(backing.reduce((s, r) => s + r.weight, 0)).toBe(e.weight);
        for (const r of backing) expect((JSON.parse(r.quotes) as unknown[]).length).toBeGreaterThan(0);
      }
      // Quotes are verbatim spans of the episode's transcript.
      for (const r of rows.filter((x) => x.kind === 'co-occurs')) {
        const t = (await app.transcript(r.episode_id)).segments.map((s) => s.text).join(' ');
        for (const q of JSON.parse(r.quotes) as { text: string; charStart: number; charEnd: number }[])
          expect(t.slice(q.charStart, q.charEnd)).toBe(q.text);
      }

      // Filters: one kind, one show, a degree threshold, a limit (through the API: the CLI passes them on).
      const api = (q: Parameters<typeof app.graph>[0]) => app.graph(q);
      expect(new Set((await api({ types: ['organization'] })).nodes.map((n) => n.type))).toEqual(
        new Set(['organization']),
      );
      const clinicFeed = (await app.feeds()).find((f) => f.title === 'The Podcast Clinic')!.id;
      const clinic = await api({ feedId: clinicFeed });
      expect(byLabel(clinic, 'podcast trailer')).toBeDefined();
      expect(byLabel(clinic, 'Lex Fridman')).toBeUndefined();
      const dense = await api({ minDegree: 3 });
      const degree = (v: GraphView, id: string) =>
        v.edges.filter((e) => e.source === id || e.target === id).length;
      expect(dense.nodes.length).toBeLessThan(lib.nodes.length);
      for (const n of dense.nodes) expect(degree(lib, n.id)).toBeGreaterThanOrEqual(3);
      const small = await api({ limit: 5 });
      expect(small.nodes).toHaveLength(5);
      expect(small.matched).toBe(lib.nodes.length);

      // One entity in focus: its neighbours and the episodes that name it.
      const lexId = byLabel(lib, 'Lex Fridman')!.entityId!;
      const lex = json('graph', '--entity', String(lexId));
      expect(lex.focus).toBe(`entity:${lexId}`);
      expect(
        lex.nodes
          .filter((n) => n.type === 'episode')
          .map((n) => n.label)
          .sort(),
      ).toEqual(['Open climate', 'Slow problems']);
      const neighbours = lex.edges.filter(
        (e) => e.kind === 'co-occurs' && (e.source === lex.focus || e.target === lex.focus),
      );
      expect(neighbours.length).toBeGreaterThan(0);
      expect(lex.edges.filter((e) => e.kind === 'mentions' && e.target === lex.focus)).toHaveLength(2);

      // One episode: insights, the quotes that support them, the entities they are about.
      const slow = json('graph', '--episode', String(ids['Slow problems']));
      expect(slow.focus).toBe(`episode:${ids['Slow problems']}`);
      const insights = slow.nodes.filter((n) => n.type === 'insight');
      const quotes = slow.nodes.filter((n) => n.type === 'quote');
      expect(insights.length).toBeGreaterThanOrEqual(4);
      expect(quotes.length).toBeGreaterThanOrEqual(insights.length);
      const show = await app.show(ids['Slow problems']!);
      expect(insights.map((n) => n.label).sort()).toEqual(show.insights.map((i) => i.text).sort());
      const transcript = (await app.transcript(ids['Slow problems']!)).segments.map((s) => s.text).join(' ');
      for (const q of quotes) {
        expect(transcript).toContain(q.label);
        expect(q.startMs).toBeTypeOf('number');
      }
      for (const i of insights)
        expect(slow.edges.some((e) => e.kind === 'insight-supports' && e.target === i.id)).toBe(true);
      const about = slow.edges.filter((e) => e.kind === 'about');
      expect(about.length).toBeGreaterThan(0);
      for (const e of about) expect(slow.nodes.find((n) => n.id === e.target)?.entityId).toBeTypeOf('number');

      // Human output, and errors in words.
      expect(earshot('graph').stdout).toMatch(/^The library's graph: \d+ nodes, \d+ edges/);
      const none = earshot('graph', '--entity', '424242');
      expect(none.status).toBe(1);
      expect(none.stderr).toMatch(/There is no entity 424242/);
      expect(earshot('graph', '--entity', '1', '--episode', '1').status).toBe(2);
    },
  );

  it(
    'an episode understood again has its relations re-written, not added to',
    { timeout: 120_000 },
    async () => {
      const { ctx, app } = await open();
      await app.subscribe(server.url('/ql.xml'), 'all');
      await app.process();
      await runUntilIdle(ctx);
      const id = (await app.episodes()).find((e) => e.title === 'Slow problems')!.id;
      const count = ctx.db.prepare('SELECT count(*) FROM kg_relations WHERE episode_id = ?').pluck();
      const before = count.get(id) as number;
      const t0 = await app.transcript(id);
      await app.editSegment(
        id,
        1,
        `${t0.segments[1]!.text} Ada Lovelace visited Stanford University once, and Ada Lovelace loved it.`,
      );
      await runUntilIdle(ctx);
      const g = await app.graph({ episodeId: id });
      const ada = g.nodes.find((n) => n.label === 'Ada Lovelace');
      const stanford = g.nodes.find((n) => n.label === 'Stanford University');
      expect(ada).toMatchObject({ type: 'person' });
      expect(g.edges).toContainEqual(
        expect.objectContaining({
          kind: 'co-occurs',
          source: [ada!.id, stanford!.id].sort((a, b) => Number(a.slice(7)) - Number(b.slice(7)))[0],
        }),
      );
      const after = count.get(id) as number;
      expect(after).toBeGreaterThan(before - 20);
      expect(after).toBeLessThan(before + 20);
      // No row is left from the first run: every insight node is one of the insights shown now.
      const shown = new Set((await app.show(id)).insights.map((i) => `insight:${id}:${i.id}`));
      const stored = ctx.db
        .prepare(
          `SELECT DISTINCT target FROM kg_relations WHERE episode_id = ? AND kind = 'insight-supports'`,
        )
        .pluck()
        .all(id) as string[];
      expect(new Set(stored)).toEqual(shown);
      // Unsubscribing removes the show's relations with its episodes.
      await app.unsubscribe((await app.feeds())[0]!.id);
      expect(ctx.db.prepare('SELECT count(*) FROM kg_relations').pluck().get()).toBe(0);
    },
  );
});
