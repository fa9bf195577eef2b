/**
 * The Graph view as a person sees it: a library built through the engine from fixture
 * transcripts, `earshot serve` started as a user starts it, the built UI in Debian's Chromium
 * (headless, through playwright-core). Nodes are drawn on a canvas by cytoscape: the test reads
 * where a node is drawn from the cytoscape instance on the page and clicks there with the mouse.
 * A second library of 2,000 entities (written straight into the store) checks that a graph that
 * size is laid out and can be narrowed by its filters.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { cliPath, repoRoot, tempDir } from '../helpers/env.ts';
import { startFeedServer, type FeedServer } from '../helpers/feed-server.ts';
import { makeAudio } from '../helpers/audio.ts';
import { startServe, type ServeProcess } from '../helpers/serve.ts';
import { haveChromium, launchChromium, warnIfNoChromium } from '../helpers/ui.ts';
import { databasePath, openDatabase } from '../../pipeline/store/index.ts';

warnIfNoChromium();

const run = promisify(execFile);
const shots = path.join(repoRoot, 'test/.tmp');
const shot = (page: Page, name: string) => page.screenshot({ path: path.join(shots, name) });
const servers: ServeProcess[] = [];
let feeds: FeedServer;
let browser: Browser | null = null;
let url = '';
let bigUrl = '';
const dataDir = tempDir('earshot-knowledge-');
const env: NodeJS.ProcessEnv = { ...process.env, EARSHOT_MODELS_DIR: '' };
delete env.EARSHOT_WORKFLOWS_MODULE;
/** A page-side condition: the graph's last layout drew this many nodes (a JS expression). */

async function serve(dir: string): Promise<string> {
  const served = await startServe({ dataDir: dir, env });
  servers.push(served);
  // The exact address it printed (with its token).
  return served.url;
}

/** The page's address for a route (the hash), keeping what `serve` printed (its token, if any). */
const at = (base: string, hash: string) => `${base.split('#')[0]}#${hash}`;

/** Shows with the publisher's transcripts (no Whisper model needed), processed by `earshot run`. */
async function buildLibrary(): Promise<void> {
  feeds = await startFeedServer();
  const audio = fs.readFileSync(makeAudio(tempDir('earshot-knowledge-audio-'), 'tone.mp3', 3));
  feeds.route('/media/a.mp3', { body: audio, headers: { 'content-type': 'audio/mpeg' } });
  const shows: [string, string, string, [string, string, string][]][] = [
    [
      'ql',
      'The Quiet Lab',
      'Mara Quinn',
      [
        ['ql-12', 'Slow problems', 'quiet-lab-12.vtt'],
        ['ql-13', 'Open climate', 'quiet-lab-13.srt'],
      ],
    ],
    ['pc', 'The Podcast Clinic', 'Nadia Brooks', [['pc-1', 'Trailers and show notes', 'podcast-clinic.srt']]],
    ['cd', 'City Desk', 'Amara Okafor', [['cd-1', 'Cities in the heat', 'city-desk.vtt']]],
  ];
  for (const [slug, title, author, items] of shows) {
    const body = items
      .map(
        ([guid, t, file], i) => `<item><guid>${guid}</guid><title>${t}</title>
          <pubDate>Mon, 0${i + 2} Mar 2026 10:00:00 GMT</pubDate>
          <enclosure url="/media/a.mp3" type="audio/mpeg" length="${audio.length}"/>
          <podcast:transcript url="/tx/${file}" type="${file.endsWith('.vtt') ? 'text/vtt' : 'application/srt'}"/></item>`,
      )
      .join('');
    feeds.route(`/${slug}.xml`, {
      body: `<?xml version="1.0"?><rss version="2.0" xmlns:podcast="https://podcastindex.org/namespace/1.0"
        xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel><title>${title}</title>
        <itunes:author>${author}</itunes:author>${body}</channel></rss>`,
    });
    for (const [, , file] of items)
      feeds.route(`/tx/${file}`, {
        body: fs.readFileSync(path.join(repoRoot, 'test/fixtures/transcripts', file)),
      });
    await run(
      process.execPath,
      [cliPath, '--data-dir', dataDir, 'subscribe', feeds.url(`/${slug}.xml`), '--backlog', 'all'],
      { env },
    );
  }
  await run(process.execPath, [cliPath, '--data-dir', dataDir, 'run', '--until-idle'], {
    env,
    timeout: 120_000,
  });
}

/** 2,000 entities over 400 episodes of 10 shows, with co-occurrences, written as the understand step's commit writes them. */
function bigLibrary(): string {
  const dir = tempDir('earshot-knowledge-big-');
  const db = openDatabase(databasePath(dir));
  const first = 'Ada Ben Cleo Dev Eli Fay Gus Hana Ivo Jun Kai Lea Max Nia Oto Pia Quin Rui Sol Tam'.split(
    ' ',
  );
  const last =
    'Abe Bose Cruz Diaz Eng Fox Gray Holt Ito Jung Kerr Lund Moss Nagy Ortiz Park Quade Ruiz Sato Tran'.split(
      ' ',
    );
  const words =
    'solar grid battery soil water climate market rate housing transit health sleep memory music film code data privacy school farm'.split(
      ' ',
    );
  const types = ['person', 'organization', 'place', 'topic'] as const;
  // mulberry32: a small seeded generator, so the library is the same every run.
  let seed = 42;
  const rand = (n: number) => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4_294_967_296) * n);
  };
  db.transaction(() => {
    for (let f = 1; f <= 10; f++)
      db.prepare('INSERT INTO feeds (id, url, title, created_at) VALUES (?, ?, ?, 0)').run(
        f,
        `http://x/${f}.xml`,
        `Show ${f}`,
      );
    for (let e = 1; e <= 400; e++)
      db.prepare(
        `INSERT INTO episodes (id, feed_id, key, title, created_at, status) VALUES (?, ?, ?, ?, 0, 'understood')`,
      ).run(e, 1 + (e % 10), `ep-${e}`, `Episode ${e}`);
    const mention = db.prepare(
      `INSERT OR IGNORE INTO entity_mentions (episode_id, entity_id, local_id, name, role, mentions, first_ms) VALUES (?, ?, ?, ?, 'mentioned', ?, 0)`,
    );
    const rel = db.prepare(
      `INSERT OR IGNORE INTO kg_relations (episode_id, kind, source, target, weight, quotes) VALUES (?, ?, ?, ?, ?, '[]')`,
    );
    for (let id = 1; id <= 2000; id++) {
      const type = types[id % 4]!;
      const name =
        type === 'person'
          ? `${first[id % 20]} ${last[Math.floor(id / 20) % 20]} ${id}`
          : type === 'topic'
            ? `${words[id % 20]} ${words[Math.floor(id / 20) % 20]} ${id}`
            : `${type === 'place' ? 'Port' : 'Group'} ${id}`;
      db.prepare(
        `INSERT INTO entities (id, type, name, norm, aliases, created_at, updated_at) VALUES (?, ?, ?, ?, '[]', 0, 0)`,
      ).run(id, type, name, name.toLowerCase());
      // A few entities are in many episodes, most in one or two.
      const n = id <= 40 ? 20 + rand(30) : 1 + rand(3);
      for (let k = 0; k < n; k++) mention.run(1 + rand(400), id, `e${id}`, name, 1 + rand(5));
    }
    db.prepare(
      `UPDATE entities SET episode_count = (SELECT count(*) FROM entity_mentions m WHERE m.entity_id = entities.id),
         mention_count = (SELECT sum(mentions) FROM entity_mentions m WHERE m.entity_id = entities.id)`,
    ).run();
    // Names are said together mostly within one show's circle (id mod 10), as in a real library.
    for (let k = 0; k < 3000; k++) {
      const a = 1 + (rand(10) < 3 ? rand(40) : rand(2000));
      const b = rand(10) < 8 ? 1 + ((a - 1 + 10 * (1 + rand(199))) % 2000) : 1 + rand(2000);
      if (a === b) continue;
      rel.run(
        1 + rand(400),
        'co-occurs',
        `entity:${Math.min(a, b)}`,
        `entity:${Math.max(a, b)}`,
        1 + rand(3),
      );
    }
  })();
  db.close();
  return dir;
}

beforeAll(async () => {
  if (!haveChromium) return;
  fs.mkdirSync(shots, { recursive: true });
  // The renderer is built once for the e2e project (test/e2e/build-renderer.ts).
  await buildLibrary();
  url = await serve(dataDir);
  bigUrl = await serve(bigLibrary());
  browser = await launchChromium();
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await Promise.all(servers.map((s) => s.close()));
  await feeds?.close();
});

/** Wait until the graph's last layout drew a node named `has`, exactly `count` nodes, or fewer than `below`. */
async function waitDrawn(page: Page, want: { has?: string; count?: number; below?: number }): Promise<void> {
  await page.waitForFunction(
    (w) => {
      const el = (
        globalThis as unknown as { document: { querySelector(s: string): unknown } }
      ).document.querySelector('[data-graph]') as {
        getAttribute(a: string): string | null;
        _cyreg?: { cy: { nodes(): { map<T>(f: (n: { data(k: string): string }) => T): T[] } } };
      } | null;
      const drawn = el?.getAttribute('data-drawn');
      if (!el?._cyreg || drawn === null || drawn === undefined) return false;
      const labels = el._cyreg.cy.nodes().map((n) => n.data('label'));
      if (w.has !== undefined && !labels.includes(w.has)) return false;
      if (w.count !== undefined && labels.length !== w.count) return false;
      if (w.below !== undefined && labels.length >= w.below) return false;
      return true;
    },
    want,
    { timeout: 60_000 },
  );
}

interface Drawn {
  id: string;
  label: string;
  x: number;
  y: number;
}

/** The nodes cytoscape drew, with where on the page each one is. */
async function drawnNodes(page: Page): Promise<Drawn[]> {
  await page.locator('[data-graph][data-drawn]').waitFor({ timeout: 60_000 });
  return page.locator('[data-graph]').evaluate((el) => {
    const cy = (el as unknown as { _cyreg: { cy: { nodes(): { map<T>(f: (n: never) => T): T[] } } } })._cyreg
      .cy;
    const box = el.getBoundingClientRect();
    return cy
      .nodes()
      .map((n: { id(): string; data(k: string): string; renderedPosition(): { x: number; y: number } }) => ({
        id: n.id(),
        label: n.data('label'),
        x: box.left + n.renderedPosition().x,
        y: box.top + n.renderedPosition().y,
      }));
  });
}

async function newPage(): Promise<{ page: Page; errors: string[] }> {
  const page = await browser!.newPage({ viewport: { width: 1280, height: 820 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  return { page, errors };
}

describe.skipIf(!haveChromium)('the Graph view in Chromium', () => {
  it('renders the library’s nodes, and clicking one opens its entity', async () => {
    const { page, errors } = await newPage();
    await page.goto(url);
    await page.getByRole('link', { name: 'Graph', exact: true }).click();
    await page.waitForURL(/#\/graph$/);
    const nodes = await drawnNodes(page);
    expect(nodes.length).toBeGreaterThan(15);
    const labels = nodes.map((n) => n.label);
    for (const name of ['Mara Quinn', 'Lex Fridman', 'podcast trailer', 'The Quiet Lab'])
      expect(labels).toContain(name);
    // Places are off until asked for.
    expect(labels).not.toContain('Lisbon');
    expect(await page.locator('[data-count]').textContent()).toMatch(new RegExp(`${nodes.length}\\s+shown`));
    await shot(page, 'graph-library.png');
    await page.emulateMedia({ colorScheme: 'dark' });
    await shot(page, 'graph-library-dark.png');
    await page.emulateMedia({ colorScheme: 'light' });

    await page.locator('button[data-kind=place]').click();
    await waitDrawn(page, { has: 'Lisbon' });
    expect((await drawnNodes(page)).map((n) => n.label)).toContain('Lisbon');

    // Click Lex Fridman where he is drawn: his page opens.
    const lex = (await drawnNodes(page)).find((n) => n.label === 'Lex Fridman')!;
    await page.mouse.move(lex.x, lex.y);
    await page.locator('[data-hovered]').waitFor();
    expect(await page.locator('[data-hovered]').textContent()).toMatch(/Lex Fridman\s*Person · 2 episodes/);
    await shot(page, 'graph-hover.png');
    await page.mouse.click(lex.x, lex.y);
    await page.waitForURL(/#\/entities\/\d+$/);
    await expect(page.locator('[data-detail] h2').textContent()).resolves.toBe('Lex Fridman');

    // From the entity, its neighbourhood in the graph.
    await page.locator('[data-link=graph]').click();
    await page.waitForURL(/#\/graph\?entity=\d+$/);
    const around = await drawnNodes(page);
    expect(around.map((n) => n.label)).toEqual(
      expect.arrayContaining(['Lex Fridman', 'Slow problems', 'Open climate']),
    );
    expect(await page.locator('.focus-bar').textContent()).toMatch(/Around\s+Lex Fridman/);
    await shot(page, 'graph-entity.png');
    // An episode node opens the episode's insights.
    const episode = around.find((n) => n.label === 'Open climate')!;
    await page.mouse.click(episode.x, episode.y);
    await page.waitForURL(/#\/episodes\/\d+\/insights$/);
    expect(errors).toEqual([]);
  });

  it("draws an episode's insights and quotes; a quote opens its moment", async () => {
    const { page, errors } = await newPage();
    const { stdout } = await run(process.execPath, [cliPath, '--data-dir', dataDir, '--json', 'episodes'], {
      env,
    });
    const episode = (JSON.parse(stdout) as { id: number; title: string }[]).find(
      (e) => e.title === 'Trailers and show notes',
    )!;
    await page.goto(at(url, `/episodes/${episode.id}/insights`));
    await page.locator('.tabs').getByRole('link', { name: 'Graph' }).click();
    await page.waitForURL(/#\/episodes\/\d+\/graph$/);
    const nodes = await drawnNodes(page);
    const ids = nodes.map((n) => n.id);
    expect(ids.filter((id) => id.startsWith('insight:')).length).toBeGreaterThanOrEqual(4);
    expect(ids.filter((id) => id.startsWith('quote:')).length).toBeGreaterThanOrEqual(4);
    expect(nodes.map((n) => n.label)).toEqual(expect.arrayContaining(['podcast trailer', 'Gilon', 'Sarah']));
    await shot(page, 'graph-episode.png');
    const quote = nodes.find((n) => n.id.startsWith('quote:'))!;
    await page.mouse.click(quote.x, quote.y);
    await page.waitForURL(/#\/episodes\/\d+\/transcript\?t=\d+$/);
    expect(errors).toEqual([]);
  });

  it('lays out 2,000 entities and narrows them by connections and kind', { timeout: 300_000 }, async () => {
    const { page, errors } = await newPage();
    await page.goto(at(bigUrl, '/graph'));
    // To start: people, organizations and topics said with something else.
    const first = await drawnNodes(page);
    expect(first.length).toBeGreaterThan(500);
    expect(first.length).toBeLessThan(1500);
    await shot(page, 'graph-2000-start.png');
    // Everything: all four kinds, with no threshold.
    await page.locator('button[data-kind=place]').click();
    await waitDrawn(page, { has: 'Port 2' });
    let started = Date.now();
    await page.locator('input[name=minDegree]').fill('0');
    await waitDrawn(page, { count: 2000 });
    console.log(
      `Graph view: 2,000 nodes read, drawn and laid out in ${Date.now() - started} ms (headless Chromium, software rendering)`,
    );
    expect(await page.locator('[data-count]').textContent()).toMatch(/2,000\s+shown/);
    await shot(page, 'graph-2000.png');
    started = Date.now();
    await page.locator('input[name=minDegree]').fill('3');
    await waitDrawn(page, { below: 2000 });
    console.log(
      `Graph view: at least 3 connections, ${(await drawnNodes(page)).length} nodes in ${Date.now() - started} ms`,
    );
    const dense = await drawnNodes(page);
    expect(dense.length).toBeGreaterThan(20);
    await shot(page, 'graph-2000-degree3.png');
    expect(errors).toEqual([]);
  });
});
