import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/env.ts';
import { makeAudio } from '../helpers/audio.ts';
import { startFeedServer, type FeedServer } from '../helpers/feed-server.ts';
import { startService, type Service } from '../../pipeline/api/service.ts';
import type { JobStartedEvent } from '../../pipeline/api/contract.ts';

/**
 * Work queued through the API begins at once in a running service: a new subscription's backlog
 * (and an OPML import's) gets its pipelines and the engine starts on them, without waiting for
 * the background round (turned off here, so only the nudge can start them). Job events name
 * their episode, and `jobs` says how far a running job is.
 */
let server: FeedServer;
let service: Service | null = null;
const audio = fs.readFileSync(makeAudio(tempDir('earshot-audio-'), 'tone.mp3', 5));

function feed(title: string, prefix: string): string {
  const items = [1, 2].map(
    (n) => `<item><guid>${prefix}-${n}</guid><title>${title} ${n}</title>
      <pubDate>Mon, 0${n} Mar 2026 10:00:00 GMT</pubDate>
      <enclosure url="/${prefix}/${n}.mp3" type="audio/mpeg" length="${audio.length}"/></item>`,
  );
  return `<?xml version="1.0"?><rss version="2.0"><channel><title>${title}</title>${items.join('')}</channel></rss>`;
}

beforeAll(async () => {
  server = await startFeedServer();
  for (const p of ['a', 'b']) {
    for (const n of [1, 2])
      server.route(`/${p}/${n}.mp3`, { body: audio, headers: { 'content-type': 'audio/mpeg' } });
  }
  server.route('/a.xml', { body: feed('Alpha Show', 'a') });
  server.route('/b.xml', { body: feed('Beta Show', 'b') });
});
afterAll(async () => {
  await service?.shutdown(2000);
  await server.close();
});

describe('work queued through the API starts at once', () => {
  it('a subscription, an OPML import, Process and an imported file: handed to the engine before the call returns', async () => {
    // One io worker and nothing else: downloads run; no background round ever runs.
    service = await startService({ dataDir: tempDir(), lanes: { gpu: 0, cpu: 0, io: 1 }, ingest: false });
    const started: JobStartedEvent[] = [];
    service.app.events.on('onJobStarted', (e) => started.push(e));
    const until = async (check: () => boolean, what: string) => {
      const deadline = Date.now() + 20_000;
      while (!check()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };

    const alpha = await service.api.subscribe(server.url('/a.xml'), 'last:1');
    // Its newest episode's pipeline exists as the call returns (queued or already claimed).
    const [newest] = await service.api.episodes({ feedId: alpha.id, limit: 1 });
    expect(newest!.title).toBe('Alpha Show 2');
    const jobs = await service.api.jobs();
    expect(jobs.filter((j) => j.episode?.id === newest!.id).map((j) => j.step)).toContain('download');
    // And the engine starts on it: the download runs, named by its episode.
    await until(() => started.some((e) => e.episodeId === newest!.id), 'the download of Alpha Show 2');
    expect(started.find((e) => e.episodeId === newest!.id)).toMatchObject({ step: 'download', lane: 'io' });
    // The other episode is listed, not processed (the backlog policy said one).
    const older = (await service.api.episodes({ feedId: alpha.id })).find((e) => e.title === 'Alpha Show 1')!;
    expect(older.status).toBe('listed');

    const opml = `<?xml version="1.0"?><opml version="2.0"><body>
      <outline type="rss" text="Beta" xmlUrl="${server.url('/b.xml')}"/></body></opml>`;
    const imported = await service.api.importOpml(opml, 'all');
    expect(imported.added.map((f) => f.title)).toEqual(['Beta Show']);
    const beta = await service.api.episodes({ feedId: imported.added[0]!.id });
    await until(
      () => beta.every((e) => started.some((s) => s.episodeId === e.id)),
      "the downloads of Beta Show's episodes",
    );

    // Process on a listed episode, and a file imported: both start at once too.
    await service.api.process([older.id]);
    await until(() => started.some((e) => e.episodeId === older.id), 'the download of Alpha Show 1');
    const file = makeAudio(tempDir('earshot-import-'), 'memo.mp3', 2, { title: 'A memo' });
    const memo = (await service.api.importFiles([file])).imported;
    expect(memo).toHaveLength(1);
    await until(
      () => started.some((e) => e.episodeId === memo[0]!.episodeId),
      'the first step of the imported file',
    );
  });
});
