/**
 * Watching and fixing work from the app, as a listener does it in Chromium against `earshot
 * serve` with its engine running: Activity's lanes paused and resumed with a live progress bar;
 * an optional part (chapters) that will not load leaves its episode processed, with a note in
 * Problems; an episode that needs a Whisper model waits (not a failure) and goes on by itself
 * once one is installed from Models; a failure group names its episodes by title and retries
 * them. The CLI's `failures --json` and `episodes --json` agree with what the app shows.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { tempDir } from '../helpers/env.ts';
import { makeAudio } from '../helpers/audio.ts';
import { startFeedServer, type FeedServer } from '../helpers/feed-server.ts';
import { emptyWhisperFile } from '../helpers/whisper-install.ts';
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
import type {
  EpisodePageView,
  EpisodeListItem,
  FailureGroupView,
  FeedView,
} from '../../pipeline/api/contract.ts';

warnIfNoChromium();

let serve: Serve | null = null;
let feeds: FeedServer;
let browser: Browser | null = null;
const dataDir = tempDir('earshot-control-');
const work = tempDir('earshot-control-files-');
const env: NodeJS.ProcessEnv = { EARSHOT_MODELS_DIR: '' };

/** An API call as the page makes it (the same service, so work it queues starts at once). */
async function api<T>(name: string, ...args: unknown[]): Promise<T> {
  const res = await fetch(new URL(`/api/${name}`, serve!.origin), {
    method: 'POST',
    headers: serve!.auth({ 'content-type': 'application/json' }),
    body: JSON.stringify(args),
  });
  if (!res.ok) throw new Error(`${name}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** A show's episodes as its list shows them (status as lists say it, and whether processed). */
async function episodesOf(feedId: number): Promise<EpisodeListItem[]> {
  return (await api<EpisodePageView>('episodePage', { feedId })).items;
}

/** A feed of one show: items with audio, and optionally a publisher transcript and a chapters address. */
function feed(
  title: string,
  items: {
    guid: string;
    title: string;
    audio: string;
    length: number;
    transcript?: string;
    chapters?: string;
  }[],
): string {
  const body = items
    .map(
      (e, i) => `<item><guid>${e.guid}</guid><title>${e.title}</title>
      <pubDate>${new Date(Date.UTC(2026, 2, 10 - i, 9)).toUTCString()}</pubDate>
      <enclosure url="${e.audio}" type="audio/mpeg" length="${e.length}"/>
      ${e.transcript ? `<podcast:transcript url="${e.transcript}" type="text/vtt" language="en"/>` : ''}
      ${e.chapters ? `<podcast:chapters url="${e.chapters}" type="application/json+chapters"/>` : ''}</item>`,
    )
    .join('');
  return `<?xml version="1.0"?><rss version="2.0" xmlns:podcast="https://podcastindex.org/namespace/1.0">
    <channel><title>${title}</title><language>en</language>${body}</channel></rss>`;
}

const VTT = `WEBVTT

00:00:00.000 --> 00:00:04.000
<v Mike Neumann>Welcome to the show, where the chapters never load.

00:00:04.000 --> 00:00:08.000
<v Mike Neumann>The transcript, though, is right here.
`;

beforeAll(async () => {
  if (!haveChromium) return;
  feeds = await startFeedServer();
  const audio = fs.readFileSync(makeAudio(work, 'tone.mp3', 8));
  const mp3 = { 'content-type': 'audio/mpeg' };
  // Slow Radio: its audio comes 16 bytes a millisecond (about five seconds), so a download has progress to show.
  feeds.route('/slow/walk.mp3', { body: audio, headers: mp3, dripMs: 1 });
  feeds.route('/slow.xml', {
    body: feed('Slow Radio', [
      { guid: 'slow-1', title: 'A long walk', audio: '/slow/walk.mp3', length: audio.length },
    ]),
  });
  feeds.route('/slow/stop.mp3', { body: audio, headers: mp3, dripMs: 1 });
  feeds.route('/slower.xml', {
    body: feed('Slower Radio', [
      { guid: 'slower-1', title: 'Stop me', audio: '/slow/stop.mp3', length: audio.length },
    ]),
  });
  // The Mike Neumann Show: a publisher transcript, and a chapters address that answers 404.
  feeds.route('/mike/1.mp3', { body: audio, headers: mp3, ranges: true });
  feeds.route('/mike/1.vtt', { body: VTT, headers: { 'content-type': 'text/vtt' } });
  feeds.route('/mike.xml', {
    body: feed('Mike Neumann Show', [
      {
        guid: 'mike-1',
        title: 'Chapters that never load',
        audio: '/mike/1.mp3',
        length: audio.length,
        transcript: '/mike/1.vtt',
        chapters: '/mike/1-chapters.json',
      },
    ]),
  });
  // Quiet Hours: no transcript of its own, so it needs Whisper.
  feeds.route('/quiet/1.mp3', { body: audio, headers: mp3, ranges: true });
  feeds.route('/quiet.xml', {
    body: feed('Quiet Hours', [
      { guid: 'quiet-1', title: 'Silence, mostly', audio: '/quiet/1.mp3', length: audio.length },
    ]),
  });
  // Broken Records: its audio addresses answer 404 until the publisher fixes them.
  feeds.route('/broken.xml', {
    body: feed('Broken Records', [
      { guid: 'br-a', title: 'Side A', audio: '/broken/a.mp3', length: audio.length },
      { guid: 'br-b', title: 'Side B', audio: '/broken/b.mp3', length: audio.length },
    ]),
  });
  // The model catalog offers one Whisper model: empty weights, transcribing silence quickly.
  const whisper = fs.readFileSync(emptyWhisperFile());
  feeds.route('/models/ggml-test.en.bin', {
    body: whisper,
    headers: { 'content-type': 'application/octet-stream' },
  });
  const catalog = path.join(work, 'catalog.json');
  fs.writeFileSync(
    catalog,
    JSON.stringify([
      {
        id: 'whisper-test.en',
        kind: 'whisper',
        file: 'ggml-test.en.bin',
        url: feeds.url('/models/ggml-test.en.bin'),
        bytes: whisper.length,
        sha256: createHash('sha256').update(whisper).digest('hex'),
        licence: 'MIT',
        label: 'Whisper test (English)',
        quality: 'Empty weights: transcribes silence, quickly.',
      },
    ]),
  );
  env.EARSHOT_MODEL_CATALOG = catalog;
  serve = await startServe(dataDir, { engine: true, env });
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await serve?.close();
  await feeds?.close();
});

function lane(page: Page, name: 'io' | 'cpu' | 'gpu') {
  return page.locator(`article[data-lane=${name}]`);
}

describe.skipIf(!haveChromium)('Activity and Problems in Chromium, with the engine running', () => {
  it('pauses and resumes a lane, and a live progress bar moves in Activity and in the show’s list', async () => {
    const { page, errors } = await openPage(browser!);
    await page.goto(at(serve!.url, '/activity'));
    const downloads = lane(page, 'io');
    await downloads.waitFor();
    expect(await downloads.locator('h2').textContent()).toBe('Downloads');

    // The user's pause: said as theirs, with Resume offered.
    await downloads.getByRole('button', { name: 'Pause' }).click();
    await downloads.locator('[data-state-words]', { hasText: 'Paused by you' }).waitFor();
    expect(await downloads.getAttribute('data-state')).toBe('paused');
    expect(await page.getByRole('status').textContent()).toContain('Downloads paused');
    expect(await downloads.getByRole('button', { name: 'Resume' }).getAttribute('aria-pressed')).toBe('true');

    // A new subscription's episode is queued at once (no background round), and waits its turn.
    const slow = await api<FeedView>('subscribe', feeds.url('/slow.xml'), 'all');
    await downloads.locator('[data-queued]', { hasText: /^\s*1 step waiting its turn/ }).waitFor();
    expect(await downloads.locator('[role=progressbar]').count()).toBe(0);
    const [walk] = await episodesOf(slow.id);
    expect(walk!.status).toBe('queued');

    // The show's list, in a second window, shows the row's state live too.
    const { page: list, errors: listErrors } = await openPage(browser!);
    await list.goto(at(serve!.url, '/'));
    await list.locator('.show', { hasText: 'Slow Radio' }).click();
    const row = list.locator('.row[data-episode]', { hasText: 'A long walk' });
    await row.locator('.episode-state[data-status=queued]').waitFor();

    await downloads.getByRole('button', { name: 'Resume' }).click();
    await downloads.locator('[data-state-words]', { hasText: 'Working' }).waitFor({ timeout: 15_000 });
    const bar = downloads.locator('li[data-job] [role=progressbar]');
    await bar.waitFor();
    // Named by its title and what it does, as soon as it starts.
    expect(await downloads.locator('li[data-job] .title').textContent()).toBe('A long walk');
    expect(await downloads.locator('li[data-job] .what .muted').textContent()).toBe('Downloading');
    const value = async () => Number((await bar.getAttribute('aria-valuenow')) ?? 'NaN');
    let first = 0;
    await vi.waitFor(
      async () => {
        first = await value();
        expect(first).toBeGreaterThan(0);
        expect(first).toBeLessThan(90);
      },
      { timeout: 15_000, interval: 25 },
    );
    // It moves as the events come in, without reloading anything.
    await vi.waitFor(async () => expect(await value()).toBeGreaterThan(first), {
      timeout: 15_000,
      interval: 25,
    });
    // Once it has run a moment, the time left at its rate so far.
    await downloads
      .locator('li[data-job] .eta', { hasText: /^(less than a minute|about \d+ min) left$/ })
      .waitFor({ timeout: 10_000 });
    await shot(page, 'activity-downloading.png');
    const rowBar = row.locator('[role=progressbar]');
    await rowBar.waitFor();
    expect(await row.locator('.episode-state').getAttribute('data-status')).toBe('running');
    expect(await row.locator('.step').textContent()).toBe('Downloading');
    await shot(list, 'list-downloading.png');

    // Done downloading, it needs a Whisper model, which this library has not got: it waits.
    await row
      .locator('.episode-state[data-status=waiting]', { hasText: 'Waiting for a Whisper model' })
      .waitFor({ timeout: 30_000 });
    await page.locator('[data-waiting]').waitFor();
    expect(await page.locator('[data-waiting]').textContent()).toMatch(
      /1 episode waiting for a Whisper model\. It goes on by itself once you choose one.*Nothing has failed\./,
    );
    await shot(page, 'activity-waiting.png');
    await page.setViewportSize({ width: 640, height: 760 });
    await shot(page, 'activity-narrow.png');
    await list.close();
    expect(listErrors).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('a chapters address that does not answer leaves the episode processed, with a note in Problems', async () => {
    const mike = await api<FeedView>('subscribe', feeds.url('/mike.xml'), 'all');
    await vi.waitFor(
      async () => {
        const [ep] = await episodesOf(mike.id);
        expect(ep!.hasTranscript).toBe(true);
        expect(ep!.processed).toBe(true);
      },
      { timeout: 90_000, interval: 250 },
    );
    const [ep] = await episodesOf(mike.id);
    expect(ep!.status).not.toBe('failed');

    const { page, errors } = await openPage(browser!);
    await page.goto(at(serve!.url, '/problems'));
    const note = page.locator('[data-note][data-cause=chapters-skipped]');
    await note.waitFor();
    expect(await note.locator('.who').textContent()).toBe('1 episode of Mike Neumann Show');
    expect(await note.locator('.why').textContent()).toMatch(
      /^The chapters address does not answer .*chapters skipped/,
    );
    expect(await note.locator('[data-episode-title]').allTextContents()).toEqual([
      'Chapters that never load',
    ]);
    // Not a failure: no failed group names it.
    expect(await page.locator('[data-group]', { hasText: 'Chapters that never load' }).count()).toBe(0);
    await shot(page, 'problems-note.png');

    // The CLI says the same, in its shape.
    const groups = JSON.parse(await earshot(dataDir, ['failures', '--json'], env)) as FailureGroupView[];
    const chapters = groups.find((g) => g.cause === 'chapters-skipped')!;
    expect(chapters).toMatchObject({
      cause: 'chapters-skipped',
      severity: 'skipped-part',
      show: 'Mike Neumann Show',
      episodes: [{ id: ep!.id, title: 'Chapters that never load', show: 'Mike Neumann Show' }],
    });
    expect(chapters.message).toMatch(/^1 episode of Mike Neumann Show: the chapters address/);
    expect(chapters.actions.map((a) => a.kind)).toEqual(['skip']);

    // The show's own settings, one click away: the show opens with them.
    await note.getByRole('button', { name: 'The show’s settings' }).click();
    await page.locator('[data-feed-settings]').waitFor();
    expect(await page.locator('.show[aria-pressed=true]').textContent()).toContain('Mike Neumann Show');
    await shot(page, 'problems-show-settings.png');

    // The episode's own page says what was left out, and plays as it is.
    await page.goto(at(serve!.url, `/episodes/${ep!.id}`));
    const skipped = page.locator('[data-skipped-part]');
    await skipped.waitFor();
    expect(await skipped.textContent()).toMatch(
      /^\s*Chapters skipped: .*\/mike\/1-chapters\.json\)\. The episode is fine without them\.\s*$/,
    );
    expect(await page.locator('[data-section=chapters]').count()).toBe(0);
    await shot(page, 'episode-skipped-chapters.png');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('an episode with no Whisper model waits (not a failure), then processes once a model is installed', async () => {
    const quiet = await api<FeedView>('subscribe', feeds.url('/quiet.xml'), 'all');
    await vi.waitFor(async () => expect((await episodesOf(quiet.id))[0]!.status).toBe('waiting'), {
      timeout: 60_000,
      interval: 250,
    });
    const [silence] = await episodesOf(quiet.id);

    // The CLI: waiting, and not among the failures.
    const listed = JSON.parse(await earshot(dataDir, ['--json', 'episodes', '--limit', '1000'], env)) as {
      id: number;
      status: string;
    }[];
    expect(listed.find((e) => e.id === silence!.id)?.status).toBe('waiting');
    const failures = JSON.parse(await earshot(dataDir, ['failures', '--json'], env)) as FailureGroupView[];
    expect(failures.flatMap((g) => g.episodes.map((e) => e.id))).not.toContain(silence!.id);

    const { page, errors } = await openPage(browser!);
    await page.goto(at(serve!.url, `/episodes/${silence!.id}`));
    const state = page.locator('[data-status] .episode-state');
    await state.waitFor();
    expect(await state.getAttribute('data-status')).toBe('waiting');
    expect(await state.locator('.status').textContent()).toBe('Waiting for a Whisper model');
    await shot(page, 'episode-waiting.png');

    // Activity says how many wait, for what, and which model suits this computer.
    await page.getByRole('link', { name: 'Activity' }).click();
    const waiting = page.locator('[data-waiting][data-resource="model:whisper"]');
    await waiting.waitFor();
    expect(await waiting.textContent()).toMatch(/2 episodes waiting for a Whisper model\./);
    // By its name in the catalog, installed from here in one click (Models has the others).
    expect(await waiting.locator('[data-recommended]').textContent()).toBe('Whisper test (English)');
    expect(await waiting.getByRole('link', { name: 'Other models' }).getAttribute('href')).toBe('#/models');
    await shot(page, 'activity-waiting-install.png');
    await waiting.getByRole('button', { name: 'Install Whisper test (English)' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: 'Installed whisper-test.en' })
      .waitFor({ timeout: 30_000 });

    // Nothing else to do: the waiting episodes go on by themselves and are transcribed.
    await page.goto(at(serve!.url, `/episodes/${silence!.id}`));
    await vi.waitFor(
      async () => {
        const [ep] = await episodesOf(quiet.id);
        expect(ep!.hasTranscript).toBe(true);
        expect(ep!.processed).toBe(true);
      },
      { timeout: 90_000, interval: 250 },
    );
    await page.reload();
    await page.locator('h1').first().waitFor();
    expect(await page.locator('.episode-state[data-status=waiting]').count()).toBe(0);
    const after = JSON.parse(await earshot(dataDir, ['--json', 'episodes', '--limit', '1000'], env)) as {
      id: number;
      status: string;
    }[];
    expect(after.find((e) => e.id === silence!.id)?.status).not.toBe('waiting');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('a failure group names its episodes by title and show, and Try again retries them', async () => {
    const broken = await api<FeedView>('subscribe', feeds.url('/broken.xml'), 'all');
    await vi.waitFor(
      async () => expect((await episodesOf(broken.id)).map((e) => e.status)).toEqual(['failed', 'failed']),
      { timeout: 60_000, interval: 250 },
    );

    const { page, errors } = await openPage(browser!);
    // In the show's list, a failed episode says so, where to see why, and offers Retry.
    await page.goto(at(serve!.url, '/'));
    await page.locator('.show', { hasText: 'Broken Records' }).click();
    const sideA = page.locator('.row[data-episode]', { hasText: 'Side A' });
    const why = sideA.getByRole('link', { name: 'Failed: why?' });
    await why.waitFor();
    expect(await why.getAttribute('href')).toBe('#/problems');
    expect(await sideA.getByRole('button', { name: 'Retry' }).count()).toBe(1);
    await page.goto(at(serve!.url, '/inbox'));
    // The sidebar counts what failed.
    await page.locator('[data-nav=problems] .badge', { hasText: '2' }).waitFor();
    await page.getByRole('link', { name: /Problems/ }).click();
    const group = page.locator('[data-group][data-cause=audio-missing]');
    await group.waitFor();
    expect(await group.locator('.who').textContent()).toBe('2 episodes of Broken Records');
    expect(await group.locator('.why').textContent()).toMatch(/^The audio address answers 404/);
    expect((await group.locator('[data-episode-title]').allTextContents()).sort()).toEqual([
      'Side A',
      'Side B',
    ]);
    // Titles and shows, never keys or ids.
    expect(await group.textContent()).not.toMatch(/br-a|br-b|guid|@/);
    await shot(page, 'problems-failed.png');
    await page.emulateMedia({ colorScheme: 'dark' });
    await shot(page, 'problems-dark.png');
    await page.emulateMedia({ colorScheme: 'light' });

    const groups = JSON.parse(await earshot(dataDir, ['failures', '--json'], env)) as FailureGroupView[];
    const missing = groups.find((g) => g.cause === 'audio-missing')!;
    expect(missing.episodes.map((e) => [e.title, e.show]).sort()).toEqual([
      ['Side A', 'Broken Records'],
      ['Side B', 'Broken Records'],
    ]);
    expect(missing.actions.map((a) => a.kind)).toEqual(['retry', 'skip']);

    // The publisher fixes the files; Try again.
    const audio = fs.readFileSync(path.join(work, 'tone.mp3'));
    for (const side of ['a', 'b'])
      feeds.route(`/broken/${side}.mp3`, {
        body: audio,
        headers: { 'content-type': 'audio/mpeg' },
        ranges: true,
      });
    await group.getByRole('button', { name: 'Try again' }).click();
    await page.getByRole('status').filter({ hasText: 'Trying 2 episodes of Broken Records again' }).waitFor();
    await vi.waitFor(
      async () => {
        const eps = await episodesOf(broken.id);
        expect(eps.map((e) => e.processed)).toEqual([true, true]);
      },
      { timeout: 120_000, interval: 250 },
    );
    await page.reload();
    await page.locator('[data-empty], [data-note]').first().waitFor();
    expect(await page.locator('[data-group][data-cause=audio-missing]').count()).toBe(0);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('stops an episode that is downloading; it says so, and Process starts it again', async () => {
    const { page, errors } = await openPage(browser!);
    await page.goto(at(serve!.url, '/activity'));
    const downloads = lane(page, 'io');
    await downloads.waitFor();
    const slower = await api<FeedView>('subscribe', feeds.url('/slower.xml'), 'all');
    const job = downloads.locator('li[data-job]', { hasText: 'Stop me' });
    await job.locator('[role=progressbar]').waitFor({ timeout: 15_000 });
    await job.getByRole('button', { name: 'Stop Stop me' }).click();
    await page.getByRole('status').filter({ hasText: 'Stopped Stop me.' }).waitFor();
    await job.waitFor({ state: 'detached' });
    await vi.waitFor(async () => expect((await episodesOf(slower.id))[0]!.status).toBe('cancelled'), {
      timeout: 15_000,
      interval: 100,
    });

    await page.getByRole('link', { name: 'Podcasts' }).click();
    await page.locator('.show', { hasText: 'Slower Radio' }).click();
    const row = page.locator('.row[data-episode]', { hasText: 'Stop me' });
    await row.getByRole('button', { name: 'Process' }).click();
    await vi.waitFor(async () => expect((await episodesOf(slower.id))[0]!.processed).toBe(true), {
      timeout: 90_000,
      interval: 250,
    });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('works from the keyboard: a skip link, visible focus, and the shortcuts in a help overlay', async () => {
    const { page, errors } = await openPage(browser!);
    await page.goto(at(serve!.url, '/activity'));
    await page.locator('article[data-lane=io]').waitFor();
    // Read in the page (a string: this file is type-checked without the DOM's types).
    const focused = () =>
      page.evaluate(`(() => {
        const el = document.activeElement;
        const style = getComputedStyle(el);
        return { text: el.textContent.trim(), id: el.id, outline: style.outlineStyle, width: style.outlineWidth };
      })()`) as Promise<{ text: string; id: string; outline: string; width: string }>;
    // The first stop is the skip link, shown when focused; Enter goes to the screen's content.
    await page.keyboard.press('Tab');
    expect(await focused()).toMatchObject({ text: 'Skip to content', outline: 'solid' });
    const link = page.getByRole('link', { name: 'Skip to content' });
    expect((await link.boundingBox())!.y).toBeGreaterThanOrEqual(0);
    await shot(page, 'keyboard-skip-link.png', false);
    await page.keyboard.press('Enter');
    expect((await focused()).id).toBe('content');
    // The sections' links show where the keyboard is.
    await page.locator('nav a').first().focus();
    await page.keyboard.press('Tab');
    expect(await focused()).toMatchObject({ text: 'Podcasts', outline: 'solid', width: '2px' });

    // ? lists the shortcuts; Escape closes the list.
    await page.locator('body').press('?');
    const help = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
    await help.waitFor();
    expect(await help.textContent()).toMatch(/Go to Problems.*Play or pause.*Mark played/s);
    await shot(page, 'keyboard-help.png', false);
    await page.emulateMedia({ colorScheme: 'dark' });
    await shot(page, 'keyboard-help-dark.png', false);
    await page.emulateMedia({ colorScheme: 'light' });
    await page.keyboard.press('Escape');
    await help.waitFor({ state: 'hidden' });
    // g then r: Problems.
    await page.locator('body').press('g');
    await page.locator('body').press('r');
    await page.waitForURL(/#\/problems$/);
    expect(errors).toEqual([]);
    await page.close();
  });
});
