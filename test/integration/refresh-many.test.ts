import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../pipeline/engine/clock.ts';
import { Subscriptions, type FeedProgress } from '../../pipeline/ingest/subscriptions.ts';
import { freshStore, repoRoot, tempDir } from '../helpers/env.ts';
import { startFeedServer, type FeedServer } from '../helpers/feed-server.ts';
import { runCli } from '../helpers/cli.ts';

/** Many feeds at once: a few in flight, each host within its limit, progress, one-line summaries. */
let server: FeedServer;
const quietLab = fs.readFileSync(path.join(repoRoot, 'test/fixtures/feeds/podcast20.xml'));
beforeAll(async () => {
  server = await startFeedServer();
});
afterAll(() => server.close());

describe('refreshing many feeds', () => {
  it('checks them concurrently, never more than two at once on one host, reporting each', async () => {
    for (let i = 0; i < 12; i++) server.route(`/many/${i}.xml`, { body: quietLab, dripMs: 1 });
    const { db } = freshStore();
    const subs = new Subscriptions(db, new ManualClock());
    const doc = `<?xml version="1.0"?><opml version="2.0"><body>${Array.from(
      { length: 12 },
      (_, i) => `<outline type="rss" text="f${i}" xmlUrl="${server.url(`/many/${i}.xml`)}"/>`,
    ).join('')}</body></opml>`;
    server.resetPeak();
    const progress: FeedProgress[] = [];
    const r = await subs.importOpml(doc, 'new', { onProgress: (p) => progress.push(p) });
    expect(r.added).toHaveLength(12);
    // One host (127.0.0.1:port): its limit of two holds even with eight slots.
    expect(server.peakInFlight()).toBe(2);
    expect(progress.map((p) => p.done)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(progress.every((p) => p.total === 12 && p.ok && p.phase === 'import')).toBe(true);

    server.resetPeak();
    const seen: FeedProgress[] = [];
    const again = await subs.refreshMany(
      subs.list().map((f) => f.id),
      { onProgress: (p) => seen.push(p) },
    );
    expect(again.refreshed).toHaveLength(12);
    expect(server.peakInFlight()).toBe(2);
    expect(seen.at(-1)).toMatchObject({ done: 12, total: 12, phase: 'refresh' });
  });

  it('reads a feed served as application/gzip without Content-Encoding', async () => {
    server.route('/packed.xml.gz', {
      body: zlib.gzipSync(quietLab),
      headers: { 'content-type': 'application/gzip' },
    });
    const { db } = freshStore();
    const subs = new Subscriptions(db, new ManualClock());
    const { feed } = await subs.subscribe(server.url('/packed.xml.gz'));
    expect(feed).toMatchObject({ title: 'The Quiet Lab', episodeCount: 3 });
    server.route('/broken.xml.gz', {
      body: zlib.gzipSync(quietLab).subarray(0, 40),
      headers: { 'content-type': 'application/gzip' },
    });
    await expect(subs.subscribe(server.url('/broken.xml.gz'))).rejects.toThrow(
      /^The feed is a gzip file that does not unpack .*; tell the publisher\.$/,
    );
  });

  it('the CLI says it in one line, and fails when no feed could be read', async () => {
    const dir = tempDir();
    const env = { EARSHOT_DATA_DIR: dir };
    const list = (paths: string[]) =>
      `<?xml version="1.0"?><opml version="2.0"><body>${paths
        .map((p, i) => `<outline type="rss" text="f${i}" xmlUrl="${server.url(p)}"/>`)
        .join('')}<outline text="A blog" type="link" url="https://example.org/"/></body></opml>`;
    server.route('/cli-ok.xml', { body: quietLab });
    for (const p of ['/cli-gone-1.xml', '/cli-gone-2.xml', '/cli-gone-3.xml'])
      server.route(p, { status: 410 });
    const file = path.join(dir, 'subs.opml');
    fs.writeFileSync(file, list(['/cli-ok.xml', '/cli-gone-1.xml', '/cli-gone-2.xml']));
    const imp = await runCli(['opml', 'import', file, '--backlog', 'new'], env);
    expect(imp).toMatchObject({
      code: 0,
      stdout:
        'Added 3 podcasts; 2 not readable yet (kept and tried again later; `earshot feeds` says why); 1 entry skipped (it is a web link, not a podcast feed).\n',
    });
    const refresh = await runCli(['refresh'], env);
    expect(refresh).toMatchObject({
      code: 0,
      stdout: 'Checked 3 feeds: 0 new episodes; 2 could not be read (`earshot feeds` says why).\n',
    });

    // The feeds table fits 80 columns, long addresses and reasons cut with "…".
    const table = await runCli(['feeds'], env);
    expect(table.code).toBe(0);
    const rows = table.stdout.trimEnd().split('\n');
    expect(rows).toHaveLength(4);
    for (const row of rows) expect(row.length).toBeLessThanOrEqual(80);
    expect(rows[0]).toMatch(/^ID +TITLE +EPISODES +CHECKED +NEXT +PROBLEM$/);
    expect(rows.filter((r) => /just now +in \d+ (h|min).*The publisher has rem/.test(r))).toHaveLength(2);

    const bad = path.join(dir, 'bad.opml');
    fs.writeFileSync(bad, list(['/cli-gone-3.xml']));
    const other = { EARSHOT_DATA_DIR: tempDir() };
    const failed = await runCli(['opml', 'import', bad], other);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toMatch(/^Added 1 podcast; 1 not readable yet/);
    const none = await runCli(['refresh'], other);
    expect(none).toMatchObject({
      code: 1,
      stdout: 'Checked 1 feed: 0 new episodes; 1 could not be read (`earshot feeds` says why).\n',
    });
  });
});
