import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, tempDir } from '../helpers/env.ts';
import { makeAudio } from '../helpers/audio.ts';
import { pipelineLibraries } from '../helpers/engine.ts';
import { startFeedServer, type FeedServer } from '../helpers/feed-server.ts';
import { runCli } from '../helpers/cli.ts';

/**
 * Optional parts stay optional, and what fails is told by cause, by show, in plain words: real
 * feeds on 127.0.0.1 whose chapters address answers 500 or nothing at all, and whose audio
 * answers 404.
 */
let server: FeedServer;
/** A port nobody listens on: connections to it are refused. */
let closedPort: number;
beforeAll(async () => {
  server = await startFeedServer();
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  closedPort = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
});
afterAll(() => server.close());

const audio = fs.readFileSync(makeAudio(tempDir('earshot-audio-'), 'tone.mp3', 5));
const vtt = fs.readFileSync(path.join(repoRoot, 'test/fixtures/transcripts/ep3.vtt'));

function item(guid: string, title: string, enclosure: string, extra = ''): string {
  return `<item><guid>${guid}</guid><title>${title}</title><pubDate>Mon, 02 Mar 2026 10:00:00 GMT</pubDate>
    <enclosure url="${enclosure}" type="audio/mpeg" length="${audio.length}"/>${extra}</item>`;
}
function feed(title: string, items: string[]): string {
  return `<?xml version="1.0"?><rss version="2.0" xmlns:podcast="https://podcastindex.org/namespace/1.0">
    <channel><title>${title}</title>${items.join('')}</channel></rss>`;
}

const { open, runUntilIdle } = pipelineLibraries();

describe('optional parts and the failure inbox', () => {
  it('chapters that answer 500 or nothing are skipped with a note; the episode is processed', async () => {
    server.route('/opt/audio.mp3', { body: audio, headers: { 'content-type': 'audio/mpeg' } });
    server.route('/opt/ep.vtt', { body: vtt, headers: { 'content-type': 'text/vtt' } });
    server.route('/opt/chapters-500.json', { status: 500, body: 'oops' });
    const tx = '<podcast:transcript url="/opt/ep.vtt" type="text/vtt"/>';
    server.route('/opt/feed.xml', {
      body: feed('Mike Neumann Show', [
        item(
          'a',
          'Server error',
          '/opt/audio.mp3',
          `${tx}<podcast:chapters url="/opt/chapters-500.json" type="application/json+chapters"/>`,
        ),
        item(
          'b',
          'No answer',
          '/opt/audio.mp3',
          `${tx}<podcast:chapters url="http://127.0.0.1:${closedPort}/chapters.json" type="application/json+chapters"/>`,
        ),
      ]),
    });
    const { ctx, app } = await open();
    await app.subscribe(server.url('/opt/feed.xml'), 'all');
    await app.process();
    await runUntilIdle(ctx);

    const eps = await app.episodes();
    expect(eps).toHaveLength(2);
    for (const e of eps) {
      expect(e.status).not.toBe('failed');
      expect(e).toMatchObject({ hasTranscript: true, understood: true });
      expect(e.notes).toHaveLength(1);
      expect(e.notes[0]).toMatch(/^Chapters skipped: /);
    }
    expect(eps.find((e) => e.title === 'Server error')!.notes[0]).toMatch(/HTTP 500/);
    expect(eps.find((e) => e.title === 'No answer')!.notes[0]).toMatch(/refused the connection/);
    // One attempt each: an unreachable chapters address is not retried at the episode's expense.
    expect(server.hits('/opt/chapters-500.json')).toHaveLength(1);
    expect((await app.status()).deadLetters).toEqual([]);

    const groups = await app.failures();
    expect(groups).toEqual([
      expect.objectContaining({
        cause: 'chapters-skipped',
        severity: 'skipped-part',
        show: 'Mike Neumann Show',
        message:
          '2 episodes of Mike Neumann Show: the chapters address does not answer or is unreadable — the episode is fine; chapters skipped.',
        actions: [{ kind: 'skip', label: 'Dismiss' }],
      }),
    ]);
    expect(groups[0]!.episodes.map((e) => e.title).sort()).toEqual(['No answer', 'Server error']);

    // Dismissing the note clears it; the episodes are untouched.
    const after = await app.skipEpisodes(groups[0]!.episodes.map((e) => e.id));
    expect(after.map((e) => [e.notes, e.status === 'skipped'])).toEqual([
      [[], false],
      [[], false],
    ]);
    expect(await app.failures()).toEqual([]);
  });

  it('groups failures by cause and show, retries and skips them; the CLI lists the same groups', async () => {
    server.route('/fail/feed.xml', {
      body: feed('Gone Show', [
        item('x1', 'First missing', '/fail/none-1.mp3'),
        item('x2', 'Second missing', '/fail/none-2.mp3'),
      ]),
    });
    const { ctx, app } = await open();
    await app.subscribe(server.url('/fail/feed.xml'), 'all');
    await app.process();
    await runUntilIdle(ctx);
    const [group, ...rest] = await app.failures();
    expect(rest).toEqual([]);
    expect(group).toMatchObject({
      id: expect.stringMatching(/^audio-missing@\d+$/),
      cause: 'audio-missing',
      severity: 'failed',
      show: 'Gone Show',
      message:
        '2 episodes of Gone Show: the audio address answers 404 (the publisher may have moved or removed the file).',
      actions: [
        { kind: 'retry', label: 'Try again' },
        { kind: 'skip', label: 'Skip' },
      ],
    });
    expect(group!.episodes.map((e) => [e.title, e.show, e.step])).toEqual(
      expect.arrayContaining([
        ['First missing', 'Gone Show', 'download'],
        ['Second missing', 'Gone Show', 'download'],
      ]),
    );
    // Dead letters name the episode and its show, not only a key.
    const dead = (await app.status()).deadLetters;
    expect(dead.map((d) => d.episode?.title).sort()).toEqual(['First missing', 'Second missing']);
    expect(dead[0]!.episode?.show).toBe('Gone Show');

    const cli = await runCli(['--json', 'failures'], { EARSHOT_DATA_DIR: ctx.dataDir });
    expect(cli.code).toBe(0);
    expect(JSON.parse(cli.stdout)).toEqual([
      expect.objectContaining({
        cause: 'audio-missing',
        message: group!.message,
        episodes: expect.arrayContaining([
          expect.objectContaining({ title: 'First missing', show: 'Gone Show' }),
        ]),
        actions: group!.actions,
      }),
    ]);
    const human = await runCli(['failures'], { EARSHOT_DATA_DIR: ctx.dataDir });
    expect(human.stdout).toContain(group!.message);
    expect(human.stdout).toContain(`earshot failures retry ${group!.id}`);
    expect(human.stdout).toContain(`earshot failures skip ${group!.id}`);

    // The publisher puts one file back: retrying the group processes it; the other fails again.
    server.route('/fail/none-1.mp3', { body: audio, headers: { 'content-type': 'audio/mpeg' } });
    const retried = await runCli(['failures', 'retry', group!.id], { EARSHOT_DATA_DIR: ctx.dataDir });
    expect(retried).toMatchObject({ code: 0, stdout: 'Trying 2 episodes of Gone Show again.\n' });
    await runUntilIdle(ctx);
    const [again] = await app.failures();
    expect(again!.episodes.map((e) => e.title)).toEqual(['Second missing']);
    expect(again!.message).toMatch(/^1 episode of Gone Show: /);

    const skipped = await runCli(['failures', 'skip', again!.id], { EARSHOT_DATA_DIR: ctx.dataDir });
    expect(skipped).toMatchObject({ code: 0, stdout: 'Skipped 1 episode of Gone Show.\n' });
    expect(await app.failures()).toEqual([]);
    const eps = await app.episodes();
    expect(eps.find((e) => e.title === 'Second missing')!.status).toBe('skipped');
    expect(eps.find((e) => e.title === 'First missing')!.status).not.toBe('failed');

    const unknown = await runCli(['failures', 'retry', 'nope@1'], { EARSHOT_DATA_DIR: ctx.dataDir });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(
      /^earshot: There is no failure group nope@1; `earshot failures` lists them\.\n$/,
    );
  });
});
