/**
 * A show's own settings from the command line (`earshot feed-settings`), honoured by refresh and
 * processing, and `earshot settings` (the Settings screen's store) refusing what makes no sense.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFeedServer, type FeedServer } from '../helpers/feed-server.ts';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/env.ts';

let server: FeedServer;
beforeAll(async () => {
  server = await startFeedServer();
});
afterAll(async () => {
  await server.close();
});

function feed(guids: string[]): string {
  return `<?xml version="1.0"?><rss version="2.0"><channel><title>Field Notes</title><language>en</language>
    ${guids
      .map(
        (g, i) => `<item><guid>${g}</guid><title>Note ${g}</title>
      <pubDate>${new Date(Date.UTC(2026, 0, 10 + i)).toUTCString()}</pubDate>
      <enclosure url="/a/${g}.mp3" type="audio/mpeg" length="1000"/></item>`,
      )
      .join('')}</channel></rss>`;
}

const run = (dataDir: string, args: string[]) => runCli(['--data-dir', dataDir, ...args]);
const json = async <T>(dataDir: string, args: string[]): Promise<T> => {
  const r = await run(dataDir, ['--json', ...args]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as T;
};

describe('earshot feed-settings and earshot settings', () => {
  it('auto-process off lists new episodes without queueing them; interval, Whisper and language are stored and shown', async () => {
    const dir = tempDir();
    server.route('/field.xml', { body: feed(['n1']) });
    await json(dir, ['subscribe', server.url('/field.xml'), '--backlog', 'new']);
    const shown = await json<{
      autoProcess: boolean;
      refreshMinutes: number | null;
      effectiveRefreshMinutes: number;
      feedLanguage: string | null;
    }>(dir, ['feed-settings', '1']);
    expect(shown).toMatchObject({
      autoProcess: true,
      refreshMinutes: null,
      effectiveRefreshMinutes: 60,
      feedLanguage: 'en',
    });

    const set = await json<Record<string, unknown>>(dir, [
      'feed-settings',
      '1',
      '--auto-process',
      'off',
      '--refresh',
      '30',
      '--whisper',
      'always',
      '--language',
      'de',
    ]);
    expect(set).toMatchObject({ autoProcess: false, refreshMinutes: 30, whisper: 'always', language: 'de' });
    const next = set.nextRefreshAt as number;
    expect(next - Date.now()).toBeLessThanOrEqual(30 * 60_000 + 5000);

    // A new episode arrives: listed, not queued.
    server.route('/field.xml', { body: feed(['n1', 'n2']) });
    await json(dir, ['refresh', '1']);
    const eps = await json<{ title: string; status: string }[]>(dir, ['episodes', '--feed', '1']);
    expect(eps.find((e) => e.title === 'Note n2')?.status).toBe('listed');

    // The app's own interval applies again with "default".
    const back = await json<{ refreshMinutes: number | null }>(dir, [
      'feed-settings',
      '1',
      '--refresh',
      'default',
    ]);
    expect(back.refreshMinutes).toBeNull();

    // Refused in words, nothing changed.
    const bad = await run(dir, ['feed-settings', '1', '--language', 'German']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/A language is a code like en, de or pt-BR/);
    const badInterval = await run(dir, ['feed-settings', '1', '--refresh', '1']);
    expect(badInterval.stderr).toMatch(/shortest refresh interval is 5 minutes/);
    expect((await json<{ language: string }>(dir, ['feed-settings', '1'])).language).toBe('de');
  });

  it('earshot settings shows and changes what the Settings screen does', async () => {
    const dir = tempDir();
    const s = await json<{ dataDir: string; appearance: string }>(dir, ['settings']);
    expect(s.dataDir).toBe(dir);
    const changed = await json<{
      appearance: string;
      refreshMinutes: number;
      processing: { nightOnly: boolean; gpuHoursPerDay: number | null };
    }>(dir, [
      'settings',
      '--appearance',
      'dark',
      '--refresh',
      '90',
      '--night-only',
      'on',
      '--gpu-hours',
      '1.5',
    ]);
    expect(changed).toMatchObject({
      appearance: 'dark',
      refreshMinutes: 90,
      processing: { nightOnly: true, gpuHoursPerDay: 1.5 },
    });
    const bad = await run(dir, ['settings', '--watch-folder', dir]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/inside Earshot's library folder/);
  });
});
