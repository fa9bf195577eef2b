import fs from 'node:fs';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../pipeline/engine/clock.ts';
import { Subscriptions } from '../../pipeline/ingest/subscriptions.ts';
import { childEnv, cliPath, freshStore, repoRoot, tempDir } from '../helpers/env.ts';
import { startFeedServer, type FeedServer } from '../helpers/feed-server.ts';

let server: FeedServer;
beforeAll(async () => {
  server = await startFeedServer();
});
afterAll(() => server.close());

const quietLab = fs.readFileSync(path.join(repoRoot, 'test/fixtures/feeds/podcast20.xml'), 'utf8');

function item(o: { guid?: string | string[]; title?: string; date?: string; enclosure?: string }): string {
  const guids = (Array.isArray(o.guid) ? o.guid : o.guid ? [o.guid] : [])
    .map((g) => `<guid>${g}</guid>`)
    .join('');
  return `<item>${guids}${o.title ? `<title>${o.title}</title>` : ''}${o.date ? `<pubDate>${o.date}</pubDate>` : ''}${
    o.enclosure ? `<enclosure url="${o.enclosure}" type="audio/mpeg" length="1"/>` : ''
  }</item>`;
}
const feedOf = (...items: string[]) =>
  `<?xml version="1.0"?><rss version="2.0"><channel><title>Ids</title>${items.join('')}</channel></rss>`;

function setup(random = () => 0.5) {
  const { db } = freshStore();
  const clock = new ManualClock(Date.UTC(2026, 2, 10));
  return { db, clock, subs: new Subscriptions(db, clock, { random, fetchOptions: { timeoutMs: 2000 } }) };
}

describe('subscriptions against a real HTTP server on 127.0.0.1', () => {
  it('subscribes: stores the feed and episodes, and queues only the backlog policy', async () => {
    server.route('/quiet.xml', { body: quietLab });
    const { subs } = setup();
    const { feed, refresh } = await subs.subscribe(server.url('/quiet.xml'), 'last:2');
    expect(feed).toMatchObject({
      title: 'The Quiet Lab',
      episodeCount: 3,
      backlog: 'last:2',
      lastError: null,
    });
    expect(refresh.queued).toHaveLength(2);
    const eps = subs.episodes({ feedId: feed.id });
    expect(eps.map((e) => [e.title, e.status, e.keySource])).toEqual([
      ['Episode 3: Failure & Luck', 'queued', 'guid'],
      ['Episode 2: Notebooks', 'queued', 'guid'],
      ['Episode 1: Beginnings', 'listed', 'guid'],
    ]);
    expect(eps[0]).toMatchObject({
      enclosureUrl: server.url('/media/ep3.mp3'),
      transcriptUrl: server.url('/transcripts/ep3.vtt'),
      durationMs: 3_723_000,
    });
    expect(server.hits('/quiet.xml')[0]!['user-agent']).toMatch(/^Earshot\//);
  });

  it.each([
    ['new', 0],
    ['all', 3],
    ['since:2026-02-20', 2],
  ])('backlog %s queues %i episodes', async (policy, n) => {
    server.route(`/policy-${policy}.xml`, { body: quietLab });
    const { subs } = setup();
    expect((await subs.subscribe(server.url(`/policy-${policy}.xml`), policy)).refresh.queued).toHaveLength(
      n,
    );
  });

  it('refuses bad input with a clear reason and stores nothing', async () => {
    server.route('/page.html', {
      body: '<!doctype html><html><body>My blog</body></html>',
      headers: { 'content-type': 'text/html' },
    });
    server.route('/garbage', { body: Buffer.from([0, 1, 2, 3, 250, 251]) });
    const { subs } = setup();
    await expect(subs.subscribe('ftp://example.org/feed')).rejects.toThrow(/http and https feeds only/);
    await expect(subs.subscribe('not a url')).rejects.toThrow(/is not a web address/);
    await expect(subs.subscribe(server.url('/page.html'))).rejects.toThrow(/web page, not a podcast feed/);
    await expect(subs.subscribe(server.url('/garbage'))).rejects.toThrow(/did not return/);
    await expect(subs.subscribe(server.url('/missing.xml'))).rejects.toThrow(/does not exist \(404\)/);
    await expect(subs.subscribe(server.url('/quiet.xml'), 'lots')).rejects.toThrow(/not a backlog policy/);
    expect(subs.list()).toEqual([]);
  });

  it('uses conditional GET: an unchanged feed answers 304 and nothing is re-read', async () => {
    server.route('/etag.xml', { body: quietLab, etag: '"v1"', gzip: true });
    const { subs } = setup();
    const { feed } = await subs.subscribe(server.url('/etag.xml'));
    const r = await subs.refresh(feed.id);
    expect(r).toMatchObject({ notModified: true, added: 0 });
    expect(server.hits('/etag.xml')[1]!['if-none-match']).toBe('"v1"');
    expect(server.hits('/etag.xml')[0]!['accept-encoding']).toMatch(/gzip/);
  });

  it('reads brotli and deflate bodies, and never has more than the per-host limit in flight', async () => {
    server.route('/br.xml', { body: quietLab, encoding: 'br' });
    server.route('/deflate.xml', { body: quietLab, encoding: 'deflate' });
    const { subs } = setup();
    expect((await subs.subscribe(server.url('/br.xml'))).feed.episodeCount).toBe(3);
    expect((await subs.subscribe(server.url('/deflate.xml'))).feed.episodeCount).toBe(3);

    const { db, clock } = setup();
    const limited = new Subscriptions(db, clock, { fetchOptions: { perHost: 2, timeoutMs: 10_000 } });
    const urls = Array.from({ length: 8 }, (_, i) => {
      server.route(`/slow-${i}.xml`, { body: quietLab, dripMs: 2 });
      return server.url(`/slow-${i}.xml`);
    });
    server.resetPeak();
    await Promise.all(urls.map((u) => limited.subscribe(u)));
    expect(limited.list()).toHaveLength(8);
    expect(server.peakInFlight()).toBe(2);
  });

  it('moves the subscription on a permanent redirect even when the feed answers 304', async () => {
    server.route('/moving.xml', { body: quietLab, etag: '"m1"' });
    const { subs } = setup();
    const { feed } = await subs.subscribe(server.url('/moving.xml'));
    server.route('/moving.xml', { redirect: [301, '/moved.xml'] });
    server.route('/moved.xml', { body: quietLab, etag: '"m1"' });
    expect(await subs.refresh(feed.id)).toMatchObject({
      notModified: true,
      movedTo: server.url('/moved.xml'),
    });
    expect(subs.feed(feed.id).url).toBe(server.url('/moved.xml'));
  });

  it('follows a chain of permanent redirects and moves the subscription to the end of it', async () => {
    server.route('/chain-1.xml', { redirect: [308, '/chain-2.xml'] });
    server.route('/chain-2.xml', { redirect: [301, '/chain-3.xml'] });
    server.route('/chain-3.xml', { body: quietLab });
    const { subs } = setup();
    expect((await subs.subscribe(server.url('/chain-1.xml'))).feed.url).toBe(server.url('/chain-3.xml'));
  });

  it('follows a permanent redirect and moves the subscription; a loop stops with an error on the feed', async () => {
    server.route('/old.xml', { redirect: [301, '/new.xml'] });
    server.route('/new.xml', { body: quietLab });
    const { subs } = setup();
    const { feed } = await subs.subscribe(server.url('/old.xml'));
    expect(feed.url).toBe(server.url('/new.xml'));

    server.route('/temp.xml', { redirect: [302, '/new2.xml'] });
    server.route('/new2.xml', { body: quietLab });
    const temp = await subs.subscribe(server.url('/temp.xml'));
    expect(temp.feed.url).toBe(server.url('/temp.xml'));

    server.route('/temp.xml', { redirect: [302, '/loop-b.xml'] });
    server.route('/loop-b.xml', { redirect: [302, '/temp.xml'] });
    await expect(subs.refresh(temp.feed.id)).rejects.toThrow(/redirects in a loop/);
    expect(subs.feed(temp.feed.id).lastError).toMatch(/redirects in a loop/);
    expect(subs.feed(temp.feed.id).episodeCount).toBe(3);
  });

  it('a failing feed shows why, backs off, is never disabled, and recovers', async () => {
    server.route('/flaky.xml', { body: quietLab });
    const { subs, clock } = setup(() => 0);
    const { feed } = await subs.subscribe(server.url('/flaky.xml'));
    expect(subs.feed(feed.id).nextRefreshAt).toBe(clock.now() + 60 * 60_000);
    server.route('/flaky.xml', { status: 503, body: 'down' });
    await expect(subs.refresh(feed.id)).rejects.toThrow(/server had a problem \(HTTP 503\)/);
    expect(subs.feed(feed.id)).toMatchObject({
      lastError: expect.stringMatching(/HTTP 503/),
      nextRefreshAt: clock.now() + 120 * 60_000,
    });
    await expect(subs.refresh(feed.id)).rejects.toThrow();
    expect(subs.feed(feed.id).nextRefreshAt).toBe(clock.now() + 240 * 60_000);
    clock.advance(241 * 60_000);
    expect((await subs.refreshDue()).failed).toEqual([
      { feedId: feed.id, error: expect.stringMatching(/503/) },
    ]);
    server.route('/flaky.xml', { body: quietLab });
    await subs.refresh(feed.id);
    expect(subs.feed(feed.id)).toMatchObject({ lastError: null, episodeCount: 3 });
  });

  it('times out a body that trickles, refuses one that is too big, survives a reset mid-body', async () => {
    server.route('/slow.xml', { body: quietLab, dripMs: 200 });
    server.route('/reset.xml', { body: quietLab, resetAfter: 100 });
    const { subs } = setup();
    await expect(subs.subscribe(server.url('/slow.xml'))).rejects.toThrow(/took too long to answer/);
    await expect(subs.subscribe(server.url('/reset.xml'))).rejects.toThrow(/broke off|Could not reach/);
    const small = new Subscriptions(setup().db, new ManualClock(), { fetchOptions: { maxBytes: 1000 } });
    server.route('/big.xml', { body: quietLab });
    await expect(small.subscribe(server.url('/big.xml'))).rejects.toThrow(/larger than/);
  });

  it('keeps episode identity stable: shared guids, two guids, changing guids, missing guids', async () => {
    const day = (d: number) => `Mon, ${String(d).padStart(2, '0')} Feb 2026 10:00:00 GMT`;
    server.route('/ids.xml', {
      body: feedOf(
        item({ guid: 'same', title: 'Newer sharing', date: day(9), enclosure: '/a/9.mp3' }),
        item({ guid: 'same', title: 'Older sharing', date: day(8), enclosure: '/a/8.mp3' }),
        item({ guid: ['first', 'second'], title: 'Two guids', date: day(7), enclosure: '/a/7.mp3' }),
        item({ guid: 'v1', title: 'Changing', date: day(6), enclosure: '/a/6.mp3?sig=1' }),
        item({ title: 'No guid', date: day(5), enclosure: '/a/5.mp3' }),
        item({ title: 'Only a title', date: day(4) }),
        item({ guid: 'dupe', title: 'Exact duplicate', date: day(3), enclosure: '/a/3.mp3' }),
        item({ guid: 'dupe', title: 'Exact duplicate', date: day(3), enclosure: '/a/3.mp3' }),
      ),
    });
    const { subs } = setup();
    const { feed } = await subs.subscribe(server.url('/ids.xml'), 'all');
    const before = subs.episodes({ feedId: feed.id });
    expect(before.map((e) => [e.title, e.keySource])).toEqual([
      ['Newer sharing', 'guid'],
      ['Older sharing', 'enclosure'],
      ['Two guids', 'guid'],
      ['Changing', 'guid'],
      ['No guid', 'enclosure'],
      ['Only a title', 'title-date'],
      ['Exact duplicate', 'guid'],
    ]);
    // The publisher changes a guid, swaps the guid order and re-signs an enclosure URL.
    server.route('/ids.xml', {
      body: feedOf(
        item({ guid: 'brand-new', title: 'Fresh', date: day(10), enclosure: '/a/10.mp3' }),
        item({ guid: 'same', title: 'Newer sharing', date: day(9), enclosure: '/a/9.mp3' }),
        item({ guid: 'same', title: 'Older sharing', date: day(8), enclosure: '/a/8.mp3' }),
        item({ guid: ['second', 'first'], title: 'Two guids', date: day(7), enclosure: '/a/7.mp3' }),
        item({ guid: 'v2', title: 'Changing (edited)', date: day(6), enclosure: '/a/6.mp3?sig=2' }),
        item({ title: 'No guid', date: day(5), enclosure: '/a/5.mp3' }),
        item({ title: 'Only a title', date: day(4) }),
        item({ guid: 'dupe', title: 'Exact duplicate', date: day(3), enclosure: '/a/3.mp3' }),
      ),
    });
    const r = await subs.refresh(feed.id);
    expect(r).toMatchObject({ added: 1, updated: 7 });
    const after = subs.episodes({ feedId: feed.id });
    expect(after).toHaveLength(8);
    const keyOf = (list: typeof before, title: string) => list.find((e) => e.title?.startsWith(title))?.key;
    for (const t of [
      'Newer sharing',
      'Older sharing',
      'Two guids',
      'Changing',
      'No guid',
      'Only a title',
      'Exact duplicate',
    ]) {
      expect(keyOf(after, t), t).toBe(keyOf(before, t));
    }
    expect(after.find((e) => e.title === 'Fresh')!.status).toBe('queued');
  });

  it('never merges a new episode into an old one that only looks alike', async () => {
    const day = (d: number) => `Mon, ${String(d).padStart(2, '0')} Mar 2026 10:00:00 GMT`;
    server.route('/alike.xml', {
      body: feedOf(item({ guid: 'g41', title: 'Weekly', date: day(2), enclosure: '/play.mp3?ep=41' })),
    });
    const { subs } = setup();
    const { feed } = await subs.subscribe(server.url('/alike.xml'), 'all');
    // Same audio path (the query is dropped for identity) and, for the third, same title and day.
    server.route('/alike.xml', {
      body: feedOf(
        item({ guid: 'g43', title: 'Weekly', date: day(2), enclosure: '/other.mp3' }),
        item({ guid: 'g42', title: 'Weekly', date: day(9), enclosure: '/play.mp3?ep=42' }),
        item({ guid: 'g41', title: 'Weekly', date: day(2), enclosure: '/play.mp3?ep=41' }),
      ),
    });
    expect(await subs.refresh(feed.id)).toMatchObject({ added: 2, updated: 1 });
    const eps = subs.episodes({ feedId: feed.id });
    expect(eps).toHaveLength(3);
    expect(eps.map((e) => e.enclosureUrl?.replace(/^http:\/\/127\.0\.0\.1:\d+/, '')).sort()).toEqual(
      ['/other.mp3', '/play.mp3?ep=41', '/play.mp3?ep=42'].sort(),
    );
  });

  it('takes a 5,000-item feed', async () => {
    const items = Array.from({ length: 5000 }, (_, i) =>
      item({
        guid: `g${i}`,
        title: `Episode ${i}`,
        date: new Date(Date.UTC(2020, 0, 1) + i * 86_400_000).toUTCString(),
        enclosure: `/e/${i}.mp3`,
      }),
    );
    server.route('/big-5000.xml', { body: feedOf(...items), gzip: true });
    const { subs } = setup();
    const { feed, refresh } = await subs.subscribe(server.url('/big-5000.xml'));
    expect(feed.episodeCount).toBe(5000);
    expect(refresh.queued).toHaveLength(3);
    expect(subs.episodes({ feedId: feed.id, limit: 1 })[0]!.title).toBe('Episode 4999');
  });
});

describe('feed commands', () => {
  // Asynchronous: the feed server lives in this process, so a blocking spawn would starve it.
  const run = (dataDir: string, args: string[]) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [cliPath, '--data-dir', dataDir, ...args],
        { env: childEnv() },
        (err, stdout, stderr) =>
          resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });

  it('subscribe, feeds, episodes, refresh and unsubscribe from the command line', async () => {
    server.route('/cli.xml', { body: quietLab, etag: '"cli"' });
    const dir = tempDir();
    const sub = await run(dir, ['--json', 'subscribe', server.url('/cli.xml'), '--backlog', 'last:1']);
    expect(sub.stderr).toBe('');
    const feed = JSON.parse(sub.stdout);
    expect(feed).toMatchObject({
      id: 1,
      url: server.url('/cli.xml'),
      title: 'The Quiet Lab',
      episodeCount: 3,
    });
    const feeds = JSON.parse((await run(dir, ['--json', 'feeds'])).stdout);
    expect(feeds).toEqual([
      {
        id: 1,
        url: server.url('/cli.xml'),
        title: 'The Quiet Lab',
        backlog: 'last:1',
        episodeCount: 3,
        lastRefreshAt: expect.any(Number),
        lastError: null,
        failingSince: null,
        nextRefreshAt: expect.any(Number),
      },
    ]);
    const eps = JSON.parse((await run(dir, ['--json', 'episodes', '--feed', '1', '--limit', '2'])).stdout);
    expect(eps).toHaveLength(2);
    expect(Object.keys(eps[0]).sort()).toEqual(
      [
        'durationMs',
        'enclosureUrl',
        'feedId',
        'hasTranscript',
        'id',
        'key',
        'keySource',
        'notes',
        'publishedAt',
        'status',
        'title',
        'transcriptUrl',
        'understood',
        'waitingFor',
      ].sort(),
    );
    expect(eps.map((e: { status: string }) => e.status)).toEqual(['queued', 'listed']);
    // Nothing has run yet: no transcript, no summary.
    expect(
      eps.map((e: { hasTranscript: boolean; understood: boolean }) => [e.hasTranscript, e.understood]),
    ).toEqual([
      [false, false],
      [false, false],
    ]);
    expect((await run(dir, ['refresh', '1'])).stdout).toBe('feed 1: unchanged\n');

    const again = await run(dir, ['subscribe', server.url('/cli.xml')]);
    expect(again).toMatchObject({ code: 1, stderr: 'earshot: You already follow this feed (feed 1).\n' });
    const bad = await run(dir, ['subscribe', server.url('/nope.xml')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(
      /^earshot: 127\.0\.0\.1:\d+ says this feed does not exist \(404\)\. Check the address\.\n$/,
    );
    expect((await run(dir, ['episodes', '--feed', 'x'])).code).toBe(1); // a bad value: bad input, not usage
    expect((await run(dir, ['unsubscribe', '9'])).stderr).toBe(
      'earshot: There is no feed 9; `earshot feeds` lists them.\n',
    );
    expect((await run(dir, ['unsubscribe', '1'])).stdout).toBe('Unsubscribed from The Quiet Lab.\n');
    expect(JSON.parse((await run(dir, ['--json', 'feeds'])).stdout)).toEqual([]);
  });
});
