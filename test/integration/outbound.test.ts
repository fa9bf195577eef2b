/**
 * What Earshot fetches on its own, against fault servers on the loopback addresses only: a feed
 * that points into the user's network, endless and silent enclosures, non-web addresses, gzip
 * bombs. Every server here listens on 127.0.0.0/8.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Engine } from '../../pipeline/engine/engine.ts';
import { openDatabase, databasePath, type Db } from '../../pipeline/store/index.ts';
import { Subscriptions } from '../../pipeline/ingest/subscriptions.ts';
import { startEpisodes } from '../../pipeline/ingest/episodes.ts';
import { systemClock } from '../../pipeline/engine/clock.ts';
import { fetchDocument } from '../../pipeline/ingest/http.ts';
import { guardedFetch, isPrivateAddress } from '../../pipeline/ingest/net-policy.ts';
import { sizeCap } from '../../pipeline/steps/download.ts';
import { tempDir } from '../helpers/env.ts';
import { pipelineEngine } from '../helpers/engine.ts';
import { startFeedServer, type FeedServer } from '../helpers/feed-server.ts';

let local: FeedServer; // 127.0.0.1: "the user's machine"
let other: FeedServer; // 127.0.0.2: where the user subscribed
let faults: http.Server; // 127.0.0.2: endless and silent answers
let faultUrl = (p: string) => p;
const open = new Set<http.ServerResponse>();

beforeAll(async () => {
  local = await startFeedServer('127.0.0.1');
  other = await startFeedServer('127.0.0.2');
  faults = http.createServer((req, res) => {
    const p = new URL(req.url ?? '/', 'http://x').pathname;
    if (p === '/endless.mp3') {
      // Audio that never ends, as fast as the socket takes it.
      res.writeHead(200, { 'content-type': 'audio/mpeg' });
      const chunk = Buffer.alloc(256 * 1024, 0xaa);
      const pump = () => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
      return;
    }
    if (p === '/silent.mp3') {
      // Accepts the request and never answers.
      open.add(res);
      return;
    }
    if (p === '/stalls.mp3') {
      // Headers and a few bytes, then nothing.
      res.writeHead(200, { 'content-type': 'audio/mpeg' });
      res.write(Buffer.alloc(1000, 1));
      open.add(res);
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => faults.listen(0, '127.0.0.2', resolve));
  const { port } = faults.address() as AddressInfo;
  faultUrl = (p) => `http://127.0.0.2:${port}${p}`;
});

afterAll(async () => {
  for (const res of open) res.destroy();
  faults.closeAllConnections();
  await new Promise<void>((resolve) => faults.close(() => resolve()));
  await local.close();
  await other.close();
});

const engines: Engine[] = [];
const savedEnv = { ...process.env };
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.stop(100)));
  process.env = { ...savedEnv };
});

function feed(name: string, enclosure: string, extra = '', length = 240_000): string {
  return `<?xml version="1.0"?><rss version="2.0" xmlns:podcast="https://podcastindex.org/namespace/1.0"><channel><title>${name}</title>
    <item><guid>${name}-1</guid><title>One</title><pubDate>Mon, 02 Mar 2026 10:00:00 GMT</pubDate>
    <enclosure url="${enclosure}" type="audio/mpeg" length="${length}"/>${extra}</item></channel></rss>`;
}

/** Subscribe by hand to a feed on `server`, run its episode until the engine is idle. */
async function run(server: FeedServer, name: string) {
  const dataDir = tempDir();
  const db: Db = openDatabase(databasePath(dataDir));
  const subs = new Subscriptions(db, systemClock);
  const { feed: f } = await subs.subscribe(server.url(`/${name}.xml`), 'all');
  const engine = pipelineEngine(db, dataDir);
  engines.push(engine);
  const ids = startEpisodes(db, engine.queue);
  const started = Date.now();
  engine.start();
  await engine.untilIdle();
  const tookMs = Date.now() - started;
  const wf = db.prepare('SELECT status, dead_reason FROM workflows WHERE id = ?').get(ids[0]) as {
    status: string;
    dead_reason: string | null;
  };
  const job = db.prepare(`SELECT attempts, last_error FROM jobs WHERE step = 'download'`).get() as {
    attempts: number;
    last_error: string | null;
  };
  const media = fs.existsSync(path.join(dataDir, 'media')) ? fs.readdirSync(path.join(dataDir, 'media')) : [];
  return { dataDir, db, wf, job, media, tookMs, feedId: f.id, subs };
}

describe('outbound requests the user did not ask for', () => {
  it('knows loopback, link-local, private and special addresses, in every spelling', () => {
    for (const a of [
      '127.0.0.1',
      '127.1.2.3',
      '10.0.0.8',
      '172.16.5.4',
      '172.31.255.255',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '224.0.0.1',
      '255.255.255.255',
      '::1',
      '[::1]',
      '::',
      'fe80::1%eth0',
      'fd00::1',
      'fc12::3',
      '::ffff:127.0.0.1',
      '::ffff:7f00:1',
      '::ffff:10.0.0.1',
      '64:ff9b::a9fe:a9fe',
      '2002:c0a8:0101::1',
    ]) {
      expect(isPrivateAddress(a), a).toBe(true);
    }
    for (const a of [
      '8.8.8.8',
      '1.1.1.1',
      '172.32.0.1',
      '192.169.0.1',
      '2606:4700:4700::1111',
      '::ffff:8.8.8.8',
    ]) {
      expect(isPrivateAddress(a), a).toBe(false);
    }
  });

  it("refuses a feed's enclosure on the user's own machine when the feed is on another host", async () => {
    // The user subscribed by hand to 127.0.0.2; the feed names audio on 127.0.0.1.
    local.route('/private.mp3', { body: Buffer.alloc(5000, 1), headers: { 'content-type': 'audio/mpeg' } });
    other.route('/probe.xml', { body: feed('probe', local.url('/private.mp3')) });
    const { wf, job } = await run(other, 'probe');
    expect(wf.status).toBe('dead');
    expect(wf.dead_reason).toMatch(
      /retrying will not help: Earshot did not connect to 127\.0\.0\.1:\d+: it is on this computer or your local network \(127\.0\.0\.1\), and you did not subscribe to a feed there\./,
    );
    expect(job.attempts).toBe(1);
    // Not one request reached the private host.
    expect(local.hits('/private.mp3')).toEqual([]);
  });

  it('checks the address a name resolves to, not the name: localhost is refused, and so is a redirect into the network', async () => {
    local.route('/by-name.mp3', { body: Buffer.alloc(5000, 1), headers: { 'content-type': 'audio/mpeg' } });
    const port = new URL(local.url('/')).port;
    other.route('/hop.mp3', { redirect: [302, local.url('/by-name.mp3')] });
    other.route('/named.xml', { body: feed('named', `http://localhost:${port}/by-name.mp3`) });
    const named = await run(other, 'named');
    expect(named.wf.dead_reason).toMatch(/Earshot did not connect to localhost:\d+: it is on this computer/);
    other.route('/redirected.xml', { body: feed('redirected', other.url('/hop.mp3')) });
    const redirected = await run(other, 'redirected');
    expect(redirected.wf.dead_reason).toMatch(/Earshot did not connect to .*it is on this computer/);
    expect(local.hits('/by-name.mp3')).toEqual([]);
    // The hand-subscribed host itself stays reachable, by its own name too.
    await expect(
      guardedFetch(local.url('/by-name.mp3'), {}, { trustedHost: '127.0.0.1' }),
    ).resolves.toMatchObject({
      status: 200,
    });
    await expect(guardedFetch(`http://localhost:${port}/by-name.mp3`)).rejects.toMatchObject({
      code: 'HTTP_PRIVATE',
    });
  });

  it('refuses transcripts and chapters on the network the same way, as problems the episode survives', async () => {
    local.route('/t.vtt', {
      body: 'WEBVTT\n\n00:00.000 --> 00:01.000\nsecret\n',
      headers: { 'content-type': 'text/vtt' },
    });
    await expect(
      fetchDocument(local.url('/t.vtt'), { what: 'transcript', trustedHost: '127.0.0.2' }),
    ).rejects.toMatchObject({ code: 'HTTP_PRIVATE' });
    expect(local.hits('/t.vtt')).toEqual([]);
  });

  it('only http(s) anywhere: a file: enclosure is refused at once, with one clear line', async () => {
    other.route('/file.xml', { body: feed('file', 'file:///etc/passwd') });
    const { wf, job, tookMs } = await run(other, 'file');
    expect(wf.status).toBe('dead');
    expect(wf.dead_reason).toBe(
      'Step "download" failed and retrying will not help: The episode\'s audio address is not a web address (file: file:///etc/passwd); Earshot downloads only http and https.',
    );
    expect(job.attempts).toBe(1);
    expect(tookMs).toBeLessThan(10_000);
    for (const scheme of ['ftp://example.com/a.mp3', 'javascript:alert(1)', 'gopher://example.com/']) {
      await expect(fetchDocument(scheme)).rejects.toMatchObject({ code: 'HTTP_SCHEME' });
    }
  });

  it('an endless enclosure stops at the cap, with no .part left behind', async () => {
    other.route('/endless.xml', { body: feed('endless', faultUrl('/endless.mp3')) });
    const { wf, job, media } = await run(other, 'endless');
    expect(wf.status).toBe('dead');
    expect(wf.dead_reason).toMatch(
      /larger than Earshot expected \(over 64 MB for a file its feed says is 1 MB\)/,
    );
    expect(job.attempts).toBe(1);
    expect(media).toEqual([]);
    // The cap follows what the feed declares: length, or duration, within a ceiling.
    expect(sizeCap({ length: 240_000 }, null, 8 * 2 ** 30)).toBe(64 * 2 ** 20);
    expect(sizeCap({ length: 200 * 2 ** 20 }, null, 8 * 2 ** 30)).toBe(400 * 2 ** 20);
    expect(sizeCap({}, 3_600_000, 8 * 2 ** 30)).toBe(3600 * 40_000 * 1.5);
    expect(sizeCap({ type: 'video/mp4' }, 3_600_000, 2 * 2 ** 30)).toBe(2 * 2 ** 30);
    expect(sizeCap({}, null, 8 * 2 ** 30)).toBe(8 * 2 ** 30);
  }, 60_000);

  it('a silent enclosure fails by the idle timeout, well within a minute, and leaves no .part', async () => {
    process.env.EARSHOT_DOWNLOAD_IDLE_MS = '1500';
    other.route('/silent.xml', { body: feed('silent', faultUrl('/silent.mp3')) });
    other.route('/stalls.xml', { body: feed('stalls', faultUrl('/stalls.mp3')) });
    const silent = await run(other, 'silent');
    expect(silent.wf.status).toBe('dead');
    expect(silent.wf.dead_reason).toMatch(/127\.0\.0\.2:\d+ sent nothing for 2 s; Earshot stopped waiting/);
    // Six attempts, each given up after the idle time: not six hours.
    expect(silent.job.attempts).toBe(6);
    expect(silent.tookMs).toBeLessThan(60_000);
    const stalls = await run(other, 'stalls');
    expect(stalls.wf.dead_reason).toMatch(/sent nothing for 2 s/);
    // Each attempt wrote a few bytes into media/<key>.part; the dead letter removed it.
    expect(stalls.media).toEqual([]);
  }, 90_000);

  it('a cancelled download leaves no .part behind', async () => {
    other.route('/slow.mp3', {
      body: Buffer.alloc(4 * 1024 * 1024, 7),
      headers: { 'content-type': 'audio/mpeg' },
      dripMs: 5,
    });
    other.route('/slow.xml', { body: feed('slow', other.url('/slow.mp3')) });
    const dataDir = tempDir();
    const db: Db = openDatabase(databasePath(dataDir));
    await new Subscriptions(db, systemClock).subscribe(other.url('/slow.xml'), 'all');
    const engine = pipelineEngine(db, dataDir);
    engines.push(engine);
    const [id] = startEpisodes(db, engine.queue);
    engine.start();
    const media = path.join(dataDir, 'media');
    await vi.waitFor(() => expect(fs.readdirSync(media).some((f) => f.endsWith('.part'))).toBe(true), {
      timeout: 20_000,
      interval: 50,
    });
    engine.cancel(id!);
    await engine.untilIdle();
    await vi.waitFor(() => expect(fs.readdirSync(media)).toEqual([]), { timeout: 10_000, interval: 50 });
    expect(db.prepare('SELECT status FROM workflows WHERE id = ?').get(id)).toEqual({ status: 'cancelled' });
  }, 60_000);

  it('a gzip bomb of a feed meets the same cap as its compressed size would', async () => {
    const bomb = Buffer.alloc(70 * 1024 * 1024, 0x20);
    bomb.write('<?xml version="1.0"?><rss version="2.0"><channel><title>Bomb</title>', 0);
    other.route('/bomb.xml', { body: bomb, gzip: true });
    await expect(fetchDocument(other.url('/bomb.xml'), { trustedHost: '127.0.0.2' })).rejects.toMatchObject({
      code: 'HTTP_TOO_LARGE',
      message: expect.stringMatching(/larger than 64 MiB \(uncompressed\)/),
    });
  });
});
