/**
 * Feed benchmark (`npm run bench:feeds`):
 *  1. parse a generated 5,000-item podcast feed with Earshot's parser and with rss-parser, same
 *     text, same process, alternating rounds (target: Earshot not slower);
 *  2. refresh 200 subscribed feeds served on 127.0.0.1 that answer 304 (wall time);
 *  3. import a 100-feed OPML list (every feed fetched, parsed and stored).
 * The last line is one JSON object with the figures.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import Parser from 'rss-parser';
import { generateFeed } from './feed-gen.ts';
import { parseFeed } from '../pipeline/ingest/feed-parse.ts';
import { decodeFeedBytes } from '../pipeline/ingest/decode-text.ts';
import { Subscriptions } from '../pipeline/ingest/subscriptions.ts';
import { openDatabase } from '../pipeline/store/db.ts';
import { systemClock } from '../pipeline/engine/clock.ts';

const ITEMS = Number(process.env.BENCH_ITEMS ?? 5000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const FEEDS = Number(process.env.BENCH_FEEDS ?? 200);
const OPML_FEEDS = Number(process.env.BENCH_OPML_FEEDS ?? 100);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function parseBench() {
  const xml = generateFeed(ITEMS);
  const bytes = Buffer.from(xml);
  const rss = new Parser({ customFields: { item: ['itunes:duration', 'podcast:transcript'] } });
  // warm-up both
  parseFeed(decodeFeedBytes(bytes).text, 'https://example.org/feed.xml');
  await rss.parseString(xml);
  const ours: number[] = [];
  const theirs: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    let t = performance.now();
    const feed = parseFeed(decodeFeedBytes(bytes).text, 'https://example.org/feed.xml');
    ours.push(performance.now() - t);
    if (feed.items.length !== ITEMS) throw new Error(`Earshot parsed ${feed.items.length} items`);
    t = performance.now();
    const other = await rss.parseString(xml);
    theirs.push(performance.now() - t);
    if (other.items.length !== ITEMS) throw new Error(`rss-parser parsed ${other.items.length} items`);
  }
  return { bytes: bytes.length, earshotMs: median(ours), rssParserMs: median(theirs) };
}

async function serve(feeds: number) {
  const bodies = Array.from({ length: feeds }, (_, i) => generateFeed(20, `Show ${i}`));
  let requests = 0;
  let notModified = 0;
  const server = http.createServer((req, res) => {
    requests++;
    const i = Number(/\/feed\/(\d+)\.xml/.exec(req.url ?? '')?.[1]);
    const body = bodies[i];
    if (body === undefined) return void res.writeHead(404).end();
    const etag = `"v1-${i}"`;
    if (req.headers['if-none-match'] === etag) {
      notModified++;
      return void res.writeHead(304, { etag }).end();
    }
    res.writeHead(200, { 'content-type': 'application/rss+xml', etag }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (i: number) => `http://127.0.0.1:${port}/feed/${i}.xml`,
    stats: () => ({ requests, notModified }),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'earshot-bench-feeds-'));
  try {
    const parse = await parseBench();
    console.log(
      `parse ${ITEMS} items (${(parse.bytes / 1048576).toFixed(1)} MiB): Earshot ${parse.earshotMs.toFixed(1)} ms, ` +
        `rss-parser ${parse.rssParserMs.toFixed(1)} ms (Earshot takes ${(parse.earshotMs / parse.rssParserMs).toFixed(2)}× rss-parser's time)`,
    );

    const server = await serve(Math.max(FEEDS, OPML_FEEDS));
    const db = openDatabase(path.join(tmp, 'refresh.db'));
    const subs = new Subscriptions(db, systemClock, { fetchOptions: { perHost: 16 } });
    // Subscribing happens once, through OPML (the same path as section 3).
    const opml = (n: number) =>
      `<opml version="2.0"><body>${Array.from({ length: n }, (_, i) => `<outline type="rss" text="Show ${i}" xmlUrl="${server.url(i)}"/>`).join('')}</body></opml>`;
    await subs.importOpml(opml(FEEDS));
    const before = server.stats();
    let t = performance.now();
    const refreshed = await subs.refreshMany(subs.list().map((f) => f.id));
    const refreshMs = performance.now() - t;
    const after = server.stats();
    if (refreshed.failed.length) throw new Error(`refresh failed: ${refreshed.failed[0]!.error}`);
    console.log(
      `refresh ${FEEDS} feeds answering 304: ${refreshMs.toFixed(0)} ms wall (${after.notModified - before.notModified} × 304)`,
    );

    const db2 = openDatabase(path.join(tmp, 'opml.db'));
    const subs2 = new Subscriptions(db2, systemClock, { fetchOptions: { perHost: 16 } });
    t = performance.now();
    const imported = await subs2.importOpml(opml(OPML_FEEDS));
    const opmlMs = performance.now() - t;
    const episodes = (db2.prepare('SELECT count(*) AS n FROM episodes').get() as { n: number }).n;
    console.log(
      `import OPML of ${OPML_FEEDS} feeds: ${opmlMs.toFixed(0)} ms (${imported.added.length} feeds, ${episodes} episodes stored)`,
    );
    db.close();
    db2.close();
    await server.close();
    console.log(
      JSON.stringify({
        bench: 'feeds',
        items: ITEMS,
        parseMs: +parse.earshotMs.toFixed(1),
        rssParserMs: +parse.rssParserMs.toFixed(1),
        ratioVsRssParser: +(parse.earshotMs / parse.rssParserMs).toFixed(2),
        refreshFeeds: FEEDS,
        refresh304WallMs: Math.round(refreshMs),
        opmlFeeds: OPML_FEEDS,
        opmlImportMs: Math.round(opmlMs),
      }),
    );
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
