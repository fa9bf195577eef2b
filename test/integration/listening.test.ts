/**
 * The listener's side of the library through the typed API, over real feeds on 127.0.0.1: shows
 * with unplayed counts, episode pages with filters and totals, play state, the inbox, "Your
 * files", and the media and artwork routes (HTTP Range on a file and through to the publisher).
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../pipeline/engine/clock.ts';
import { App, openApp, defaultWorkflowsModule } from '../../pipeline/api/app.ts';
import { validated } from '../../pipeline/api/dispatch.ts';
import { Assets, sniffImage } from '../../pipeline/listen/assets.ts';
import { nearEnd } from '../../pipeline/listen/library.ts';
import { serveApi, type RunningServer } from '../../pipeline/api/http-server.ts';
import { cliPath, tempDir } from '../helpers/env.ts';
import { startFeedServer, type FeedServer } from '../helpers/feed-server.ts';
import { makeAudio } from '../helpers/audio.ts';

let feeds: FeedServer;
let audio: Buffer;
const png = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  Buffer.from('IHDR and the rest of a small picture'),
]);
beforeAll(async () => {
  feeds = await startFeedServer();
  audio = fs.readFileSync(makeAudio(tempDir('earshot-audio-'), 'talk.mp3', 4));
});
afterAll(() => feeds.close());

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 2, 10);

function rss(
  title: string,
  items: { guid: string; title: string; day: number; notes?: string }[],
  image?: string,
) {
  return `<?xml version="1.0"?><rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"
    xmlns:psc="http://podlove.org/simple-chapters"><channel><title>${title}</title>
    <itunes:author>Mara Quinn</itunes:author>
    ${image ? `<itunes:image href="${image}"/>` : ''}
    ${items
      .map(
        (i) => `<item><guid>${i.guid}</guid><title>${i.title}</title>
        <pubDate>${new Date(T0 - i.day * DAY).toUTCString()}</pubDate>
        <itunes:duration>00:20:00</itunes:duration>
        <description><![CDATA[${i.notes ?? `<p>Notes for ${i.title}</p>`}]]></description>
        <psc:chapters><psc:chapter start="00:00:00" title="Hello"/><psc:chapter start="00:05:30.5" title="The middle"/></psc:chapters>
        <enclosure url="/media/${i.guid}.mp3" type="audio/mpeg" length="${audio.length}"/></item>`,
      )
      .join('')}</channel></rss>`;
}

async function library() {
  const clock = new ManualClock(T0);
  const ctx = await openApp(tempDir('earshot-listen-'), { clock, registryModule: defaultWorkflowsModule });
  // Through the dispatcher, as every shell calls it: arguments are checked by the API's schemas.
  return { app: validated(new App(ctx)), clock, ctx };
}

describe('shows, pages, play state and the inbox', () => {
  it('lists shows with artwork and unplayed counts; pages newest first with totals and filters', async () => {
    const { app, ctx } = await library();
    const items = Array.from({ length: 30 }, (_, i) => ({
      guid: `g${i}`,
      title: `Episode ${30 - i}`,
      day: i,
    }));
    feeds.route('/thirty.xml', { body: rss('Thirty', items, feeds.url('/art/thirty.png')) });
    const feed = await app.subscribe(feeds.url('/thirty.xml'), 'new');
    const shows = await app.shows();
    expect(shows).toEqual([
      {
        feedId: feed.id,
        title: 'Thirty',
        author: 'Mara Quinn',
        url: feeds.url('/thirty.xml'),
        artwork: `/artwork/feed/${feed.id}`,
        episodeCount: 30,
        unplayedCount: 30,
        lastError: null,
        failingSince: null,
      },
    ]);

    const first = await app.episodePage({ feedId: feed.id, limit: 10 });
    expect(first.total).toBe(30);
    expect(first.items.map((e) => e.title)).toEqual(
      Array.from({ length: 10 }, (_, i) => `Episode ${30 - i}`),
    );
    expect(first.items[0]).toMatchObject({
      showTitle: 'Thirty',
      durationMs: 20 * 60_000,
      state: 'new',
      positionMs: 0,
      status: 'listed',
      processed: false,
      artwork: `/artwork/feed/${feed.id}`,
    });
    const last = await app.episodePage({ feedId: feed.id, offset: 25, limit: 10 });
    expect(last).toMatchObject({ total: 30, offset: 25 });
    expect(last.items.map((e) => e.title)).toEqual([
      'Episode 5',
      'Episode 4',
      'Episode 3',
      'Episode 2',
      'Episode 1',
    ]);

    // Played ones leave the unplayed filter and the count; the filters combine.
    await app.markPlayed([first.items[0]!.id, first.items[1]!.id]);
    expect((await app.shows())[0]!.unplayedCount).toBe(28);
    const unplayed = await app.episodePage({ feedId: feed.id, unplayed: true, limit: 3 });
    expect(unplayed.total).toBe(28);
    expect(unplayed.items.map((e) => e.title)).toEqual(['Episode 28', 'Episode 27', 'Episode 26']);
    const withTranscript = first.items[2]!.id;
    ctx.db
      .prepare(
        `INSERT INTO artifacts (episode_id, kind, path, fingerprint, schema_version, created_at) VALUES (?, 'transcript', '/x', 'f', 1, 0)`,
      )
      .run(withTranscript);
    expect((await app.episodePage({ feedId: feed.id, hasTranscript: true })).items.map((e) => e.id)).toEqual([
      withTranscript,
    ]);
    expect((await app.episodePage({ feedId: feed.id, processed: true })).total).toBe(0);
    expect((await app.episodePage({ feedId: feed.id, hasTranscript: true, unplayed: true })).total).toBe(1);

    await expect(app.episodePage({ feedId: 999 })).rejects.toThrow(/There is no feed 999/);
    await expect(app.episodePage({ limit: 501 })).rejects.toThrow(/at most 500/);
    await expect(app.episodePage({ offset: -1 })).rejects.toThrow(/0 or more/);
  });

  it("an episode's page: show notes, chapters, what plays, and the state the player saves", async () => {
    const { app, clock } = await library();
    feeds.route('/one.xml', {
      body: rss('One', [
        { guid: 'solo', title: 'Solo', day: 1, notes: '<p>Read <a href="/blog">the post</a></p>' },
      ]),
    });
    const feed = await app.subscribe(feeds.url('/one.xml'), 'new');
    const [item] = (await app.episodePage({ feedId: feed.id })).items;
    const ep = await app.episode(item!.id);
    expect(ep).toMatchObject({
      title: 'Solo',
      showTitle: 'One',
      showAuthor: 'Mara Quinn',
      notesHtml: '<p>Read <a href="/blog">the post</a></p>',
      notesBase: feeds.url('/one.xml'),
      chapters: [
        { startMs: 0, title: 'Hello', url: null },
        { startMs: 330_500, title: 'The middle', url: null },
      ],
      media: { url: `/media/${item!.id}`, downloaded: false },
      artwork: null,
      state: 'new',
      workflowId: null,
    });

    // In progress, then near the end: played (and from the start next time).
    clock.advance(1000);
    expect(await app.savePosition(ep.id, 61_000, 240_000)).toEqual({
      episodeId: ep.id,
      state: 'in-progress',
      positionMs: 61_000,
      playedAt: null,
    });
    expect((await app.episode(ep.id)).positionMs).toBe(61_000);
    // Without the player's length, the feed's (20 minutes) decides what "near the end" is.
    expect((await app.savePosition(ep.id, 18 * 60_000)).state).toBe('in-progress');
    expect(await app.savePosition(ep.id, 230_000, 240_000)).toEqual({
      episodeId: ep.id,
      state: 'played',
      positionMs: 0,
      playedAt: T0 + 1000,
    });
    // Listening again does not un-play it; marking it unplayed does.
    expect((await app.savePosition(ep.id, 10_000, 240_000)).state).toBe('played');
    expect((await app.markPlayed([ep.id], false))[0]).toMatchObject({ state: 'new', positionMs: 0 });

    expect(nearEnd(228_000, 240_000)).toBe(true);
    expect(nearEnd(227_999, 240_000)).toBe(false);
    expect(nearEnd(60 * 60_000 - 61_000, 60 * 60_000)).toBe(false);
    expect(nearEnd(60 * 60_000 - 60_000, 60 * 60_000)).toBe(true);

    await expect(app.episode(4242)).rejects.toThrow(/There is no episode 4242/);
    await expect(app.savePosition(ep.id, -5)).rejects.toThrow(/0 or more/);
    await expect(app.markPlayed([])).rejects.toThrow(/at least one episode/);
    await expect(app.markPlayed([ep.id, 4242])).rejects.toThrow(/There is no episode 4242/);
    expect((await app.episode(ep.id)).state).toBe('new');
  });

  it('the inbox: a new show brings its newest episode, refreshes bring the rest, newest first; played or removed ones leave', async () => {
    const { app, clock } = await library();
    const items = [
      { guid: 'b', title: 'Second', day: 2 },
      { guid: 'a', title: 'First', day: 3 },
    ];
    feeds.route('/inbox.xml', { body: rss('Inbox Show', items) });
    const feed = await app.subscribe(feeds.url('/inbox.xml'), 'new');
    let inbox = await app.inbox();
    expect(inbox).toMatchObject({ lastVisitAt: null, newCount: 1, total: 1 });
    expect(inbox.items.map((e) => [e.title, e.isNew, e.arrivedAt])).toEqual([['Second', true, T0]]);

    clock.advance(60_000);
    const visit = await app.visitInbox();
    expect(visit).toEqual({ lastVisitAt: T0 + 60_000 });

    clock.advance(60_000);
    feeds.route('/inbox.xml', {
      body: rss('Inbox Show', [
        { guid: 'd', title: 'Fourth', day: 0 },
        { guid: 'c', title: 'Third', day: 1 },
        ...items,
      ]),
    });
    await app.refresh(feed.id);
    inbox = await app.inbox();
    expect(inbox).toMatchObject({ lastVisitAt: T0 + 60_000, newCount: 2, total: 3 });
    expect(inbox.items.map((e) => [e.title, e.isNew])).toEqual([
      ['Fourth', true],
      ['Third', true],
      ['Second', false],
    ]);

    const [fourth, third] = inbox.items;
    await app.markPlayed([fourth!.id]);
    await app.dismissFromInbox([third!.id]);
    expect((await app.dismissFromInbox([third!.id])).removed).toBe(0);
    inbox = await app.inbox();
    expect(inbox.items.map((e) => e.title)).toEqual(['Second']);
    expect(inbox).toMatchObject({ newCount: 0, total: 1 });
    // Unplayed again, it is back where it was.
    await app.markPlayed([fourth!.id], false);
    expect((await app.inbox({ limit: 1 })).items.map((e) => e.title)).toEqual(['Fourth']);
  });

  it('imported files are their own show, "Your files", with the same pages and a file to play', async () => {
    const { app, ctx } = await library();
    const dir = tempDir('earshot-files-');
    makeAudio(dir, 'memo.mp3', 2, { title: 'Voice memo' });
    await app.importFiles([dir]);
    const shows = await app.shows();
    expect(shows.at(-1)).toEqual({
      feedId: null,
      title: 'Your files',
      author: null,
      url: null,
      artwork: null,
      episodeCount: 1,
      unplayedCount: 1,
      lastError: null,
      failingSince: null,
    });
    const page = await app.episodePage({ feedId: null });
    expect(page.total).toBe(1);
    expect(page.items[0]).toMatchObject({ title: 'Voice memo', showTitle: 'Your files', feedId: null });
    const ep = await app.episode(page.items[0]!.id);
    expect(ep.media).toEqual({ url: `/media/${ep.id}`, downloaded: true });
    // It plays from where it was found until the pipeline has copied it into the library.
    const assets = new Assets({ db: ctx.db, dataDir: ctx.dataDir });
    const res = await assets.respond(
      new Request(`http://x/media/${ep.id}`, { headers: { range: 'bytes=0-9' } }),
    );
    expect(res.status).toBe(206);
    expect(Buffer.from(await res.arrayBuffer())).toEqual(
      fs.readFileSync(path.join(dir, 'memo.mp3')).subarray(0, 10),
    );
    await app.markPlayed([ep.id]);
    expect((await app.shows()).at(-1)!.unplayedCount).toBe(0);
    expect((await app.episodePage({ feedId: null, unplayed: true })).total).toBe(0);
  });

  it('reaches the 1,000th episode of a 1,200-episode feed by offset', async () => {
    const { app } = await library();
    const items = Array.from({ length: 1200 }, (_, i) => ({
      guid: `n${i}`,
      title: `Number ${1200 - i}`,
      day: i,
    }));
    feeds.route('/big.xml', { body: rss('Big', items) });
    const feed = await app.subscribe(feeds.url('/big.xml'), 'new');
    const page = await app.episodePage({ feedId: feed.id, offset: 999, limit: 2 });
    expect(page.total).toBe(1200);
    expect(page.items.map((e) => e.title)).toEqual(['Number 201', 'Number 200']);
  });
});

describe('media and artwork from Earshot’s own origin', () => {
  async function withEpisode(image?: string) {
    const { app, ctx } = await library();
    const name = `/media-${Math.random().toString(36).slice(2)}.xml`;
    feeds.route(name, { body: rss('Media', [{ guid: 'm1', title: 'Tone', day: 1 }], image) });
    feeds.route('/media/m1.mp3', { body: audio, headers: { 'content-type': 'audio/mpeg' }, ranges: true });
    const feed = await app.subscribe(feeds.url(name), 'new');
    const [item] = (await app.episodePage({ feedId: feed.id })).items;
    return { app, ctx, feed, id: item!.id, assets: new Assets({ db: ctx.db, dataDir: ctx.dataDir }) };
  }

  it('serves the downloaded file with HTTP Range (206, 416), and streams the enclosure with the Range passed on when it is not downloaded', async () => {
    const { ctx, id, assets } = await withEpisode();
    const get = (p: string, headers: Record<string, string> = {}) =>
      assets.respond(new Request(`http://127.0.0.1${p}`, { headers }));

    // Not downloaded: the publisher's file, streamed, the player's Range passed on.
    const before = feeds.hits('/media/m1.mp3').length;
    let res = await get(`/media/${id}`, { range: 'bytes=100-' });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe(`bytes 100-${audio.length - 1}/${audio.length}`);
    expect(Buffer.from(await res.arrayBuffer())).toEqual(audio.subarray(100));
    expect(
      feeds
        .hits('/media/m1.mp3')
        .slice(before)
        .map((h) => h.range),
    ).toEqual(['bytes=100-']);

    // Downloaded: the file, with ranges, and nothing asked of the publisher.
    const file = path.join(ctx.dataDir, 'media', 'm1.mp3');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, audio);
    ctx.db
      .prepare(
        `INSERT INTO artifacts (episode_id, kind, path, fingerprint, schema_version, created_at) VALUES (?, 'audio', ?, 'f', 1, 0)`,
      )
      .run(id, file);
    const hits = feeds.hits('/media/m1.mp3').length;
    res = await get(`/media/${id}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('audio/mpeg');
    expect(res.headers.get('accept-ranges')).toBe('bytes');
    expect(Buffer.from(await res.arrayBuffer())).toEqual(audio);
    res = await get(`/media/${id}`, { range: 'bytes=10-19' });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-length')).toBe('10');
    expect(res.headers.get('content-range')).toBe(`bytes 10-19/${audio.length}`);
    expect(Buffer.from(await res.arrayBuffer())).toEqual(audio.subarray(10, 20));
    res = await get(`/media/${id}`, { range: 'bytes=-5' });
    expect(Buffer.from(await res.arrayBuffer())).toEqual(audio.subarray(audio.length - 5));
    res = await get(`/media/${id}`, { range: `bytes=${audio.length + 10}-` });
    expect(res.status).toBe(416);
    expect(res.headers.get('content-range')).toBe(`bytes */${audio.length}`);
    expect(feeds.hits('/media/m1.mp3').length).toBe(hits);

    expect((await get('/media/99999')).status).toBe(404);
    expect(
      (await assets.respond(new Request(`http://x/media/${id}`, { method: 'POST', body: 'x' }))).status,
    ).toBe(405);
  });

  it("says so when the publisher's server fails or sends a web page instead of audio", async () => {
    const { id, assets } = await withEpisode();
    feeds.route('/media/m1.mp3', { status: 404, body: 'gone' });
    let res = await assets.respond(new Request(`http://x/media/${id}`));
    expect(res.status).toBe(502);
    expect(await res.text()).toMatch(/answered 404 for this episode's audio/);
    feeds.route('/media/m1.mp3', { body: '<html>login</html>', headers: { 'content-type': 'text/html' } });
    res = await assets.respond(new Request(`http://x/media/${id}`));
    expect(res.status).toBe(502);
    expect(await res.text()).toMatch(/sent text\/html instead of audio/);
  });

  it('fetches artwork once, keeps it in the data folder, and refuses what is not a picture', async () => {
    const art = `/art/${Math.random().toString(36).slice(2)}.png`;
    feeds.route(art, { body: png, headers: { 'content-type': 'image/png' } });
    const { ctx, feed, id, assets } = await withEpisode(feeds.url(art));
    const [a, b] = await Promise.all([
      assets.respond(new Request(`http://x/artwork/feed/${feed.id}`)),
      assets.respond(new Request(`http://x/artwork/episode/${id}`)),
    ]);
    expect(a.status).toBe(200);
    expect(a.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await a.arrayBuffer())).toEqual(png);
    expect(Buffer.from(await b.arrayBuffer())).toEqual(png);
    expect(feeds.hits(art)).toHaveLength(1);
    expect(fs.readdirSync(path.join(ctx.dataDir, 'artwork'))).toHaveLength(1);
    // A new process (the cache is the folder): still no second fetch; a matching ETag is a 304.
    const again = new Assets({ db: ctx.db, dataDir: ctx.dataDir });
    const c = await again.respond(new Request(`http://x/artwork/feed/${feed.id}`));
    expect(c.status).toBe(200);
    const d = await again.respond(
      new Request(`http://x/artwork/feed/${feed.id}`, {
        headers: { 'if-none-match': c.headers.get('etag')! },
      }),
    );
    expect(d.status).toBe(304);
    expect(feeds.hits(art)).toHaveLength(1);

    const svg = `/art/${Math.random().toString(36).slice(2)}.svg`;
    feeds.route(svg, { body: '<svg onload="alert(1)"/>', headers: { 'content-type': 'image/svg+xml' } });
    const evil = await withEpisode(feeds.url(svg));
    expect((await evil.assets.respond(new Request(`http://x/artwork/feed/${evil.feed.id}`))).status).toBe(
      404,
    );
    // A failed picture is not asked for again at once.
    expect((await evil.assets.respond(new Request(`http://x/artwork/feed/${evil.feed.id}`))).status).toBe(
      404,
    );
    expect(feeds.hits(svg)).toHaveLength(1);
    expect(sniffImage(Buffer.from('<svg/>'))).toBeNull();
    expect(sniffImage(Buffer.from([0xff, 0xd8, 0xff, 0xe0]))).toBe('jpg');
    const none = await withEpisode();
    expect((await none.assets.respond(new Request(`http://x/artwork/feed/${none.feed.id}`))).status).toBe(
      404,
    );
  });

  it("answers on serve's own origin, after its host check, with ranges over real HTTP", async () => {
    const { app, ctx, id } = await withEpisode();
    const file = path.join(ctx.dataDir, 'media', 'm1.mp3');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, audio);
    ctx.db
      .prepare(
        `INSERT INTO artifacts (episode_id, kind, path, fingerprint, schema_version, created_at) VALUES (?, 'audio', ?, 'f', 1, 0)`,
      )
      .run(id, file);
    let server: RunningServer | null = null;
    try {
      server = await serveApi({ api: app, assets: new Assets({ db: ctx.db, dataDir: ctx.dataDir }) });
      const auth = { authorization: `Bearer ${server.token}` };
      // Like every route, the media route needs serve's token.
      expect((await fetch(`${server.url}/media/${id}`)).status).toBe(401);
      const res = await fetch(`${server.url}/media/${id}`, { headers: { range: 'bytes=4-7', ...auth } });
      expect(res.status).toBe(206);
      expect(Buffer.from(await res.arrayBuffer())).toEqual(audio.subarray(4, 8));
      const other = await new Promise<number>((resolve, reject) =>
        http
          .get(`${server!.url}/media/${id}`, { headers: { host: 'evil.example', ...auth } }, (r) => {
            r.resume();
            resolve(r.statusCode ?? 0);
          })
          .on('error', reject),
      );
      expect(other).toBe(421);
    } finally {
      await server?.close();
    }
  });
});

describe('earshot inbox, played, unplayed', () => {
  it('lists the inbox as JSON and marks episodes played and unplayed', async () => {
    const { app, ctx } = await library();
    feeds.route('/cli.xml', { body: rss('Cli Show', [{ guid: 'x', title: 'Latest', day: 1 }]) });
    await app.subscribe(feeds.url('/cli.xml'), 'new');
    ctx.db.close();
    const earshot = (...args: string[]) =>
      spawnSync(process.execPath, [cliPath, '--data-dir', ctx.dataDir, ...args], { encoding: 'utf8' });
    const listed = earshot('--json', 'inbox');
    expect(listed.status).toBe(0);
    const inbox = JSON.parse(listed.stdout);
    expect(inbox).toMatchObject({ total: 1, newCount: 1, lastVisitAt: null });
    expect(inbox.items[0]).toMatchObject({
      title: 'Latest',
      showTitle: 'Cli Show',
      isNew: true,
      state: 'new',
    });
    const id = String(inbox.items[0].id);
    expect(earshot('inbox').stdout).toMatch(/1 in the inbox, 1 new since your last visit\.\n.*Latest/s);
    expect(earshot('played', id).stdout).toBe(`Episode ${id} is played.\n`);
    expect(JSON.parse(earshot('--json', 'inbox').stdout).items).toEqual([]);
    expect(earshot('inbox').stdout).toMatch(/^Your inbox is empty/);
    expect(earshot('unplayed', id).stdout).toBe(`Episode ${id} is unplayed: it starts from the beginning.\n`);
    expect(JSON.parse(earshot('--json', 'inbox').stdout).total).toBe(1);
    const bad = earshot('played', '4242');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toBe('earshot: There is no episode 4242; `earshot episodes` lists them.\n');
    expect(earshot('played', 'abc').stderr).toMatch(/"abc" is not an episode id/);
  });
});
