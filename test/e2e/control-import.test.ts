/**
 * Control from the app, as a person does it in Chromium against `earshot serve` (with its engine):
 * drop an audio file on the window and see it processed under "Your files" (and a second drop
 * say it is already there), unsubscribe a show (it asks and says what stays), and move
 * subscriptions in and out as OPML through the file input and a download.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import {
  at,
  earshot,
  haveChromium,
  launchChromium,
  openPage,
  shot,
  startServe,
  warnIfNoChromium,
  type Serve,
} from '../helpers/ui.ts';
import { tempDir } from '../helpers/env.ts';
import { makeAudio } from '../helpers/audio.ts';
import { startFeedServer, type FeedServer } from '../helpers/feed-server.ts';
import { emptyWhisperFile } from '../helpers/whisper-install.ts';

// The functions handed to page.evaluate run in the page: its globals, declared for this module only.
/* eslint-disable @typescript-eslint/no-explicit-any */
declare const window: any;
declare const DataTransfer: any;
declare const DragEvent: any;
declare const File: any;
declare const atob: any;
/* eslint-enable @typescript-eslint/no-explicit-any */

warnIfNoChromium();

const env: NodeJS.ProcessEnv = { EARSHOT_MODELS_DIR: '' };
let dataDir: string;
let work: string;
let feeds: FeedServer;
let serve: Serve;
let browser: Browser;

function feed(title: string, guid: string): string {
  return `<?xml version="1.0"?><rss version="2.0"><channel><title>${title}</title>
    <item><guid>${guid}</guid><title>${title} episode one</title>
    <pubDate>${new Date(Date.now() - 86_400_000).toUTCString()}</pubDate>
    <enclosure url="/audio/${guid}.mp3" type="audio/mpeg" length="1000"/></item></channel></rss>`;
}

beforeAll(async () => {
  if (!haveChromium) return;
  dataDir = tempDir('earshot-control-ui-');
  work = tempDir('earshot-control-files-');
  feeds = await startFeedServer();
  feeds.route('/garden.xml', { body: feed('Garden Hour', 'garden-1') });
  feeds.route('/chess.xml', { body: feed('Chess Corner', 'chess-1') });
  feeds.route('/birds.xml', { body: feed('Bird Notes', 'birds-1') });
  // A Whisper model with no weights: a dropped file is transcribed (to silence), quickly.
  const model = JSON.parse(
    await earshot(dataDir, ['--json', 'models', 'import', emptyWhisperFile()], env),
  ) as {
    model: { id: string };
  };
  await earshot(dataDir, ['models', 'use', model.model.id], env);
  await earshot(dataDir, ['subscribe', feeds.url('/garden.xml'), '--backlog', 'new'], env);
  await earshot(dataDir, ['subscribe', feeds.url('/chess.xml'), '--backlog', 'new'], env);
  serve = await startServe(dataDir, { env, engine: true });
  browser = await launchChromium();
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await serve?.close();
  await feeds?.close();
});

const go = (page: Page, route: string) => page.goto(at(serve.url, route));

/** Drop files on the window the way a browser does: a DataTransfer carrying File objects. */
async function dropFile(page: Page, name: string, bytes: Buffer): Promise<void> {
  await page.evaluate(
    ({ name, b64 }) => {
      const raw = atob(b64) as string;
      const data = new Uint8Array(raw.length);
      for (let i = 0; i < raw.length; i++) data[i] = raw.charCodeAt(i);
      const dt = new DataTransfer();
      dt.items.add(new File([data], name, { type: 'audio/mpeg' }));
      for (const type of ['dragenter', 'dragover', 'drop'])
        window.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
    },
    { name, b64: bytes.toString('base64') },
  );
}

interface EpisodeJson {
  id: number;
  feedId: number | null;
  title: string | null;
  status: string;
  hasTranscript: boolean;
}
async function episodes(): Promise<EpisodeJson[]> {
  return JSON.parse(await earshot(dataDir, ['--json', 'episodes', '--limit', '1000'], env)) as EpisodeJson[];
}
async function feedsJson(): Promise<{ id: number; url: string; title: string | null }[]> {
  return JSON.parse(await earshot(dataDir, ['--json', 'feeds'], env)) as {
    id: number;
    url: string;
    title: string | null;
  }[];
}

describe.skipIf(!haveChromium)('control from the app in Chromium through earshot serve', () => {
  it('a dropped file is uploaded, imported and processed under Your files; dropped again, it says it is there', async () => {
    const { page, errors } = await openPage(browser);
    await go(page, '/');
    await page.locator('[data-show]').first().waitFor();
    const memo = fs.readFileSync(makeAudio(work, 'kitchen-memo.mp3', 4, { title: 'Kitchen memo' }));
    // Files dragged over the window: it says what a drop will do.
    await page.evaluate(() => {
      const dt = new DataTransfer();
      dt.items.add(new File(['x'], 'a.mp3', { type: 'audio/mpeg' }));
      window.dispatchEvent(new DragEvent('dragenter', { dataTransfer: dt, bubbles: true, cancelable: true }));
    });
    await page.locator('[data-drop-overlay]').waitFor();
    await shot(page, 'control-drag-over.png', false);
    await dropFile(page, 'kitchen-memo.mp3', memo);
    await page.locator('[data-drop-overlay]').waitFor({ state: 'detached' });

    const run = page.locator('[data-import="done"]').first();
    await run.waitFor({ timeout: 30_000 });
    await expect(run.textContent()).resolves.toMatch(/1 file added/);
    await expect(run.locator('[data-line="imported"]').textContent()).resolves.toMatch(/Kitchen memo/);
    // Your files opens with the new episode in it, and it is processed by the running engine.
    await page.locator('[data-show="files"][aria-pressed="true"]').waitFor({ timeout: 15_000 });
    const row = page.locator('[data-episode]', { hasText: 'Kitchen memo' });
    await row.waitFor();
    await vi.waitFor(
      async () => {
        const mine = (await episodes()).find((e) => e.feedId === null && e.title === 'Kitchen memo');
        expect(mine?.status).not.toBe('failed');
        expect(mine?.hasTranscript).toBe(true);
      },
      { timeout: 120_000, interval: 1000 },
    );
    await row.locator('a.chip', { hasText: 'Transcript' }).waitFor({ timeout: 30_000 });
    // The upload is not kept once the episode's copy is in the library.
    await vi.waitFor(() => {
      const left = fs.existsSync(path.join(dataDir, 'uploads'))
        ? fs.readdirSync(path.join(dataDir, 'uploads'))
        : [];
      expect(left).toEqual([]);
    });
    await shot(page, 'control-drop-processed.png');

    // The same audio again: nothing new, and the panel says which episode it already is.
    await dropFile(page, 'kitchen-memo-copy.mp3', memo);
    await page.locator('[data-import="done"] [data-line="duplicate"]').first().waitFor({ timeout: 30_000 });
    await expect(
      page.locator('[data-import="done"] [data-line="duplicate"]').first().textContent(),
    ).resolves.toMatch(/already in your library, as “Kitchen memo”/);
    expect((await episodes()).filter((e) => e.feedId === null)).toHaveLength(1);
    expect(errors).toEqual([]);
  });

  it('unsubscribe asks first, says what stays, and removes the show', async () => {
    const { page, errors } = await openPage(browser);
    await go(page, '/');
    await page.locator('[data-show]', { hasText: 'Chess Corner' }).click();
    await page.locator('[data-action="unsubscribe"]').click();
    const confirm = page.locator('[data-confirm]');
    await confirm.waitFor();
    const text = (await confirm.textContent()) ?? '';
    expect(text).toMatch(/Unsubscribe from Chess Corner\?/);
    expect(text).toMatch(/Your other podcasts, Your files and anything you exported stay/);
    await shot(page, 'control-unsubscribe-confirm.png');
    // "Keep it" changes nothing.
    await confirm.getByRole('button', { name: 'Keep it' }).click();
    await confirm.waitFor({ state: 'detached' });
    expect((await feedsJson()).map((f) => f.title)).toContain('Chess Corner');

    await page.locator('[data-action="unsubscribe"]').click();
    await page.locator('[data-action="confirm-unsubscribe"]').click();
    await page.locator('[data-show]', { hasText: 'Chess Corner' }).waitFor({ state: 'detached' });
    expect((await feedsJson()).map((f) => f.title)).not.toContain('Chess Corner');
    expect((await episodes()).some((e) => e.title === 'Chess Corner episode one')).toBe(false);
    // The other show and Your files stay.
    await page.locator('[data-show]', { hasText: 'Garden Hour' }).waitFor();
    await page.locator('[data-show="files"]').waitFor();
    expect(errors).toEqual([]);
  });

  it('imports subscriptions from an OPML file and exports them as one', async () => {
    const { page, errors } = await openPage(browser);
    await go(page, '/');
    await page.locator('[data-show]').first().waitFor();
    const opml = `<?xml version="1.0"?><opml version="2.0"><head><title>From another app</title></head><body>
      <outline type="rss" text="Bird Notes" xmlUrl="${feeds.url('/birds.xml')}"/>
      <outline type="rss" text="Garden Hour" xmlUrl="${feeds.url('/garden.xml')}"/></body></opml>`;
    await page.locator('[data-input="opml"]').setInputFiles({
      name: 'subscriptions.opml',
      mimeType: 'text/x-opml',
      buffer: Buffer.from(opml),
    });
    const notice = page.locator('[data-notice]');
    await notice.waitFor({ timeout: 30_000 });
    await expect(notice.textContent()).resolves.toMatch(
      /From subscriptions\.opml: 1 podcast added, 1 you already follow/,
    );
    await page.locator('[data-show]', { hasText: 'Bird Notes' }).waitFor();
    expect((await feedsJson()).map((f) => f.url)).toContain(feeds.url('/birds.xml'));

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.locator('[data-action="export-opml"]').click(),
    ]);
    expect(download.suggestedFilename()).toBe('earshot-subscriptions.opml');
    const saved = path.join(work, 'exported.opml');
    await download.saveAs(saved);
    const text = fs.readFileSync(saved, 'utf8');
    expect(text).toMatch(/<opml/);
    for (const p of ['/birds.xml', '/garden.xml']) expect(text).toContain(feeds.url(p));
    expect(text).not.toContain(feeds.url('/chess.xml'));
    await shot(page, 'control-opml.png');
    expect(errors).toEqual([]);
  });

  it("a show's own settings are kept; a feed that keeps failing says since when and offers retry, a new address, remove", async () => {
    const { page, errors } = await openPage(browser);
    await go(page, '/');
    await page.locator('[data-show]', { hasText: 'Garden Hour' }).click();
    await page.locator('[data-action="feed-settings"]').click();
    const panel = page.locator('[data-feed-settings]');
    await panel.waitFor();
    await panel.locator('input[name="auto-process"]').uncheck();
    await panel.locator('select[name="refresh"]').selectOption('360');
    await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    const garden = (await feedsJson()).find((f) => f.title === 'Garden Hour')!;
    const stored = JSON.parse(
      await earshot(dataDir, ['--json', 'feed-settings', String(garden.id)], env),
    ) as {
      autoProcess: boolean;
      refreshMinutes: number;
    };
    expect(stored).toMatchObject({ autoProcess: false, refreshMinutes: 360 });
    await shot(page, 'control-feed-settings.png');

    // The feed breaks: checked again, the show says since when, and the new address fixes it.
    feeds.route('/garden.xml', { status: 500, body: 'down' });
    await page.locator('[data-action="refresh-feed"]').click();
    const failing = page.locator('[data-failing]');
    await failing.waitFor({ timeout: 30_000 });
    await expect(failing.textContent()).resolves.toMatch(/Earshot has not been able to read this feed since/);
    // The list says it in a few words (the reason once, on the show's page, not twice).
    const listed = page.locator('[data-feed-error]');
    await listed.waitFor();
    expect((await listed.textContent())!.trim()).toBe('Can’t check for new episodes');
    await shot(page, 'control-feed-failing.png');
    feeds.route('/garden-new.xml', { body: feed('Garden Hour', 'garden-1') });
    await failing.locator('[data-action="edit-url"]').click();
    await page.locator('input[name="feed-url"]').fill(feeds.url('/garden-new.xml'));
    await page.getByRole('button', { name: 'Save and check' }).click();
    await failing.waitFor({ state: 'detached', timeout: 30_000 });
    expect((await feedsJson()).find((f) => f.id === garden.id)?.url).toBe(feeds.url('/garden-new.xml'));
    expect(errors).toEqual([]);
  });

  it('Settings: shows the data folder, keeps a change, and the appearance applies at once', async () => {
    const { page, errors } = await openPage(browser);
    await go(page, '/settings');
    await expect(page.locator('[data-setting="data-dir"]').textContent()).resolves.toBe(dataDir);
    await page.locator('input[name="appearance"][value="dark"]').check({ force: true });
    await vi.waitFor(async () =>
      expect(await page.evaluate(() => window.document.documentElement.dataset.appearance)).toBe('dark'),
    );
    await page.locator('select[name="refresh"]').selectOption('180');
    await page.locator('input[name="watch-folder"]').fill(path.join(dataDir, 'media'));
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await expect(page.locator('[data-settings-error]').textContent()).resolves.toMatch(
      /inside Earshot's library folder/,
    );
    await shot(page, 'control-settings-dark.png');
    const s = JSON.parse(await earshot(dataDir, ['--json', 'settings'], env)) as {
      appearance: string;
      refreshMinutes: number;
      watchFolder: string | null;
    };
    expect(s).toMatchObject({ appearance: 'dark', refreshMinutes: 180, watchFolder: null });
    // Another window opened later starts dark.
    const other = await openPage(browser);
    await other.page.goto(at(serve.url, '/'));
    await vi.waitFor(async () =>
      expect(await other.page.evaluate(() => window.document.documentElement.dataset.appearance)).toBe(
        'dark',
      ),
    );
    expect(errors).toEqual([]);
    expect(other.errors).toEqual([]);
  });
});
