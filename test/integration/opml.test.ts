import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../pipeline/engine/clock.ts';
import { Subscriptions } from '../../pipeline/ingest/subscriptions.ts';
import { parseOpml } from '../../pipeline/ingest/opml.ts';
import { freshStore, repoRoot } from '../helpers/env.ts';
import { startFeedServer, type FeedServer } from '../helpers/feed-server.ts';

let server: FeedServer;
beforeAll(async () => {
  server = await startFeedServer();
  server.route('/opml/quiet.xml', {
    body: fs.readFileSync(path.join(repoRoot, 'test/fixtures/feeds/podcast20.xml')),
  });
  server.route('/opml/atom.xml', {
    body: `<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom Cast</title><entry><id>1</id><title>One</title><link rel="enclosure" href="/1.mp3"/></entry></feed>`,
  });
  server.route('/opml/gone.xml', { status: 410 });
});
afterAll(() => server.close());

const opml = () =>
  fs
    .readFileSync(path.join(repoRoot, 'test/fixtures/feeds/subscriptions.opml'), 'utf8')
    .replaceAll('{{BASE}}', server.url(''));

describe('OPML', () => {
  it('imports nested folders, reports duplicates and non-podcast entries, keeps unreadable feeds with a reason', async () => {
    const { db } = freshStore();
    const subs = new Subscriptions(db, new ManualClock());
    const r = await subs.importOpml(opml());
    expect(r.added.map((f) => f.title).sort()).toEqual(['Atom Cast', 'The Quiet Lab']);
    expect(r.failed).toEqual([
      {
        feedId: expect.any(Number),
        url: server.url('/opml/gone.xml'),
        error: 'The publisher has removed this feed (410 Gone).',
      },
    ]);
    expect(r.skipped).toEqual([
      { text: 'The Quiet Lab again', reason: 'it is listed more than once' },
      { text: 'A blog', reason: 'it is a web link, not a podcast feed' },
      { text: 'An empty heading', reason: 'it has no feed address' },
      {
        text: 'Mail feed',
        reason: 'its address "mailto:someone@example.org" is not an http(s) feed address',
      },
    ]);
    expect(subs.list().find((f) => f.url.endsWith('gone.xml'))!.lastError).toMatch(/410/);
    const again = await subs.importOpml(opml());
    expect(again.added).toEqual([]);
    expect(again.existing).toHaveLength(3);
  });

  it('exports what it imported, folders included, and reads back the same', async () => {
    const { db } = freshStore();
    const subs = new Subscriptions(db, new ManualClock());
    await subs.importOpml(opml());
    const out = subs.exportOpml();
    const back = parseOpml(out);
    expect(back.skipped).toEqual([]);
    expect(back.entries.map((e) => [e.url, e.folder ?? null]).sort()).toEqual(
      [
        [server.url('/opml/quiet.xml'), 'Science / Lab'],
        [server.url('/opml/atom.xml'), 'Science'],
        [server.url('/opml/gone.xml'), null],
      ].sort(),
    );
    const { db: db2 } = freshStore();
    const subs2 = new Subscriptions(db2, new ManualClock());
    await subs2.importOpml(out);
    expect(subs2.exportOpml()).toBe(out);
  });

  it('refuses a file that is not OPML', () => {
    expect(() => parseOpml('<rss><channel/></rss>')).toThrow(/not an OPML subscription list/);
    expect(() => parseOpml('hello')).toThrow(/not an OPML subscription list|not a readable OPML/);
  });
});
