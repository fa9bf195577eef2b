import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { runCli } from '../helpers/cli.ts';
import { startFeedServer, type FeedServer } from '../helpers/feed-server.ts';
import { pipelineLibraries } from '../helpers/engine.ts';
import { indexUnindexedListings } from '../../pipeline/search/store.ts';
import { writeTx } from '../../pipeline/store/index.ts';

/**
 * Search finds what you follow, not only what was processed: every listed episode's title and
 * show notes are searchable from the moment it is listed, and a title search puts that title first.
 */
let server: FeedServer;
beforeAll(async () => {
  server = await startFeedServer();
});
afterAll(() => server.close());

function feed(items: { guid: string; title: string; notes: string }[]): string {
  return `<?xml version="1.0"?><rss version="2.0"><channel><title>Ocean Hour</title>${items
    .map(
      (i, n) =>
        `<item><guid>${i.guid}</guid><title>${i.title}</title><description><![CDATA[${i.notes}]]></description>
         <pubDate>Mon, 0${n + 1} Mar 2026 10:00:00 GMT</pubDate><enclosure url="/a/${i.guid}.mp3" type="audio/mpeg"/></item>`,
    )
    .join('')}</channel></rss>`;
}

const decoyNotes = Array.from({ length: 12 }, () => 'Deep sea mining, deep sea mining again.').join(' ');
const items = [
  { guid: 'a', title: 'Deep Sea Mining', notes: '<p>Why the seabed matters.</p>' },
  { guid: 'b', title: 'Mining the deep sea: deep sea mining explained', notes: `<p>${decoyNotes}</p>` },
  { guid: 'c', title: 'Whale songs', notes: '<p>Humpbacks and <b>krill</b> in the Antarctic.</p>' },
];

const { open } = pipelineLibraries();

describe('listed episodes are searchable', () => {
  it('by title and show notes at once; the exact title first, from the command line too', async () => {
    server.route('/ocean.xml', { body: feed(items) });
    const { ctx, app } = await open();
    // Backlog "new": nothing is processed, every episode is only listed.
    await app.subscribe(server.url('/ocean.xml'), 'new');
    expect((await app.episodes()).map((e) => e.status)).toEqual(['listed', 'listed', 'listed']);

    const r = await app.search('Deep Sea Mining');
    expect(r.hits[0]).toMatchObject({
      episodeTitle: 'Deep Sea Mining',
      kind: 'title',
      feedTitle: 'Ocean Hour',
    });
    expect(r.hits.some((h) => h.episodeTitle?.startsWith('Mining the deep sea'))).toBe(true);
    // Punctuation and case aside, it is still the title.
    expect((await app.search('deep-sea mining!')).hits[0]!.episodeTitle).toBe('Deep Sea Mining');
    const notes = await app.search('krill');
    expect(notes.hits[0]).toMatchObject({ episodeTitle: 'Whale songs', kind: 'notes' });
    expect(notes.hits[0]!.snippet).toContain('krill');

    const cli = await runCli(['--json', 'search', 'Deep Sea Mining'], { EARSHOT_DATA_DIR: ctx.dataDir });
    expect(cli.code, cli.stderr).toBe(0);
    expect(JSON.parse(cli.stdout).hits[0]).toMatchObject({ episodeTitle: 'Deep Sea Mining' });

    // A new title in the feed: the listing follows it; the old words find nothing.
    server.route('/ocean.xml', {
      body: feed([{ ...items[0]!, title: 'Seabed futures' }, items[1]!, items[2]!]),
    });
    await app.refresh();
    expect((await app.search('Seabed futures')).hits[0]).toMatchObject({ episodeTitle: 'Seabed futures' });
    expect((await app.search('Deep Sea Mining')).hits[0]!.episodeTitle).not.toBe('Deep Sea Mining');

    // Unsubscribing takes the listings with it.
    await app.unsubscribe((await app.feeds())[0]!.id);
    expect((await app.search('krill')).hits).toEqual([]);
  });

  it('an older library: episodes listed before are indexed by the next background round', async () => {
    server.route('/old.xml', { body: feed(items) });
    const { ctx, app } = await open();
    await app.subscribe(server.url('/old.xml'), 'new');
    ctx.db.prepare('DELETE FROM chunks').run();
    expect((await app.search('krill')).hits).toEqual([]);
    expect(writeTx(ctx.db, 'test', () => indexUnindexedListings(ctx.db))).toBe(3);
    expect((await app.search('krill')).hits[0]!.episodeTitle).toBe('Whale songs');
    expect(writeTx(ctx.db, 'test', () => indexUnindexedListings(ctx.db))).toBe(0);
  });
});
