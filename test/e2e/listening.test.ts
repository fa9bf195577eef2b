/**
 * Listening, as a person does it in Chromium against `earshot serve`, on a library the real
 * engine filled (test/helpers/listening-library.ts): the inbox, the shows and every episode of a
 * large one, an episode's page, the player and the synced transcript, quotes and search hits
 * that play from their moment, hostile show notes, and a downloaded episode with the publisher gone.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import {
  at,
  audioState,
  earshot,
  haveChromium,
  launchChromium,
  openPage,
  shot,
  startServe,
  warnIfNoChromium,
  type Serve,
} from '../helpers/ui.ts';
import {
  CUE_MS,
  TALK_LINES,
  TALK_SHOW,
  seedListeningLibrary,
  type ListeningLibrary,
} from '../helpers/listening-library.ts';

// The functions handed to page.evaluate run in the page: its globals, declared for this module only.
/* eslint-disable @typescript-eslint/no-explicit-any */
declare const document: any;
declare const window: any;
declare const navigator: any;
/* eslint-enable @typescript-eslint/no-explicit-any */

warnIfNoChromium();

let lib: ListeningLibrary;
let serve: Serve;
let browser: Browser;

beforeAll(async () => {
  if (!haveChromium) return;
  lib = await seedListeningLibrary();
  serve = await startServe(lib.dataDir, { env: lib.env });
  browser = await launchChromium();
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await serve?.close();
  await lib?.close();
});

const go = (page: Page, route: string) => page.goto(at(serve.url, route));

/** Wait until the player is at `seconds` (±0.5 s), as read from the <audio> element. */
async function playerAt(page: Page, seconds: number): Promise<number> {
  let seen = NaN;
  await vi.waitFor(
    async () => {
      seen = (await audioState(page)).currentTime;
      expect(Math.abs(seen - seconds)).toBeLessThanOrEqual(0.5);
    },
    { timeout: 10_000, interval: 20 },
  );
  return seen;
}

async function inboxJson(): Promise<{ items: { id: number; title: string }[]; total: number }> {
  return JSON.parse(await earshot(lib.dataDir, ['--json', 'inbox'], lib.env));
}

describe.skipIf(!haveChromium)('listening in Chromium through earshot serve', () => {
  it('the inbox: new episodes across shows, newest first; marked played with one key, they leave it', async () => {
    const { page, errors } = await openPage(browser);
    await go(page, '/');
    // Before the first visit everything in it is new, and the section says how many.
    await page.locator('nav .inbox-link .badge', { hasText: '4' }).waitFor();
    await page.getByRole('link', { name: /^Inbox/ }).click();
    const rows = page.locator('.items li[data-episode]');
    await rows.nth(3).waitFor();
    const titles = async () => (await page.locator('.items .title').allTextContents()).map((t) => t.trim());
    expect(await titles()).toEqual([
      'New Bonus: listener questions',
      'New Daily news 1200',
      'New Why slow habits win',
      'New An episode with dangerous notes',
    ]);
    expect((await page.locator('[data-summary]').textContent())!.replace(/\s+/g, ' ').trim()).toBe(
      '4 new since your last visit · 4 to listen to',
    );
    // Opening the inbox was a visit: the badge is gone.
    expect(await page.locator('nav .inbox-link .badge').count()).toBe(0);
    await shot(page, 'inbox.png');

    // One key: m marks the selected (first) episode played; it leaves the inbox.
    await page.keyboard.press('m');
    await vi.waitFor(async () => expect(await rows.count()).toBe(3));
    expect(await titles()).not.toContain('New Bonus: listener questions');
    expect((await inboxJson()).items.map((i) => i.title)).toEqual([
      'Daily news 1200',
      'Why slow habits win',
      'An episode with dangerous notes',
    ]);
    // q queues the selected one for processing (serve runs no engine here: it stays queued).
    await page.keyboard.press('q');
    await rows.first().locator('.status', { hasText: 'Queued' }).waitFor();
    // x takes one out without marking it played; ↓ moves the selection.
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('x');
    await vi.waitFor(async () => expect(await rows.count()).toBe(2));
    expect(await titles()).toEqual(['New Daily news 1200', 'New Why slow habits win']);

    // The next visit: what was there is no longer new.
    await page.reload();
    await rows.nth(1).waitFor();
    expect(await titles()).toEqual(['Daily news 1200', 'Why slow habits win']);
    expect((await page.locator('[data-summary]').textContent())!.replace(/\s+/g, ' ').trim()).toBe(
      'Nothing new since your last visit · 2 to listen to',
    );
    expect(errors).toEqual([]);
  });

  it('the library: shows with artwork and unplayed counts, Your files, filters, and the 1,000th episode of a large show', async () => {
    const { page, errors } = await openPage(browser);
    await go(page, '/');
    const shows = page.locator('.shows button.show');
    await shows.nth(3).waitFor();
    const listed = await shows.evaluateAll((els) =>
      els.map((el) => [
        el.querySelector('strong')?.textContent?.trim(),
        el.querySelector('.unplayed')?.textContent?.trim() ?? null,
        el.querySelector('img') ? 'artwork' : 'initials',
      ]),
    );
    // The bonus episode was marked played in the inbox.
    expect(listed).toEqual([
      ['Daily News Archive', '1,200', 'artwork'],
      ['Hostile Notes', '1', 'initials'],
      [TALK_SHOW, '3', 'artwork'],
      ['Your files', '1', 'initials'],
    ]);
    // The artwork is served from Earshot's own origin, and really is a picture.
    const art = page.locator('.shows img').first();
    await vi.waitFor(async () =>
      expect(await art.evaluate((img) => (img as { naturalWidth: number }).naturalWidth)).toBe(400),
    );
    expect(new URL((await art.getAttribute('src'))!).origin).toBe(new URL(serve.url).origin);

    // Every episode of the 1,200: the list reads pages as it scrolls and keeps few rows in the page.
    await shows.filter({ hasText: 'Daily News Archive' }).click();
    await page.locator('[data-counts]', { hasText: '1,200 episodes · 1,200 unplayed' }).waitFor();
    const scroller = page.locator('[data-scroller]');
    await page.locator('.row[data-index="0"][data-episode]').waitFor();
    await scroller.evaluate((el) => (el.scrollTop = 999 * 64 - 100));
    const thousandth = page.locator('.row[data-index="999"][data-episode]');
    await thousandth.waitFor();
    expect((await thousandth.locator('.title').textContent())!.trim()).toBe('Daily news 201');
    expect(await page.locator('.row').count()).toBeLessThan(60);
    await scroller.evaluate((el) => (el.scrollTop = el.scrollHeight));
    await page.locator('.row[data-index="1199"][data-episode]', { hasText: 'Daily news 1' }).waitFor();
    await shot(page, 'library-large-show.png', false);

    // Filters: unplayed, has transcript, processed (the talk show was processed by the engine).
    await shows.filter({ hasText: TALK_SHOW }).click();
    const rowTitles = async () =>
      (await page.locator('.row[data-episode] .title').allTextContents()).map((t) => t.trim());
    await vi.waitFor(async () => expect(await rowTitles()).toHaveLength(4));
    await page.locator('[data-filter=unplayed]').click();
    await vi.waitFor(async () =>
      expect(await rowTitles()).toEqual(['Why slow habits win', 'Sleep, explained', 'The attention budget']),
    );
    expect((await page.locator('[data-counts]').textContent())!.trim()).toBe('3 of 4 episodes');
    await page.locator('[data-filter=unplayed]').click();
    await page.locator('[data-filter=hasTranscript]').click();
    await vi.waitFor(async () => expect(await rowTitles()).toHaveLength(4));
    await page.locator('[data-filter=processed]').click();
    await vi.waitFor(async () => expect(await rowTitles()).toHaveLength(4));
    await page.locator('[data-filter=hasTranscript]').click();
    await page.locator('[data-filter=processed]').click();
    await shot(page, 'library.png', false);

    // Imported files are their own show, with the same pages.
    await shows.filter({ hasText: 'Your files' }).click();
    const memo = page.locator('.row[data-episode]', { hasText: 'Kitchen memo' });
    await memo.waitFor();
    await memo.locator('.title').click();
    await page.locator('h1', { hasText: 'Kitchen memo' }).waitFor();
    expect((await page.locator('.show-link').textContent())!.trim()).toBe('Your files');
    expect(errors).toEqual([]);
  });

  it('plays an episode: the audio advances, the mini player stays while browsing, the position is kept', async () => {
    const { page, errors } = await openPage(browser);
    const id = lib.ids['lg-3']!;
    await go(page, `/episodes/${id}`);
    await page.locator('h1', { hasText: 'Why slow habits win' }).waitFor();
    const facts = (await page.locator('.facts > span').allTextContents()).map((t) => t.trim());
    expect(facts).toEqual([expect.stringMatching(/^\w{3} \d{1,2}, \d{4}$/), '3 min', 'New', 'Downloaded']);
    await shot(page, 'episode.png');

    await page.locator('[data-action=play]').click();
    await vi.waitFor(async () => expect((await audioState(page)).currentTime).toBeGreaterThan(1), {
      timeout: 15_000,
    });
    const state = await audioState(page);
    expect(state.paused).toBe(false);
    expect(new URL(state.src).pathname).toBe(`/media/${id}`);
    const player = page.locator('footer.player');
    expect((await player.locator('.title').textContent())!.trim()).toBe('Why slow habits win');
    // Chapters: marks on the seek bar; the one playing is named in the player.
    expect(await player.locator('[data-chapter-mark]').count()).toBe(5);
    expect((await player.locator('.show').textContent())!.trim()).toBe('Welcome');
    // Media keys and the system's now-playing controls see it through MediaSession.
    expect(
      await page.evaluate(() => {
        const m = navigator.mediaSession.metadata;
        return m && [m.title, m.album, m.artwork.length, navigator.mediaSession.playbackState];
      }),
    ).toEqual(['Why slow habits win', TALK_SHOW, 1, 'playing']);

    // Browsing elsewhere: the mini player stays and keeps playing.
    await page.getByRole('link', { name: 'Search' }).click();
    await page.waitForURL(/#\/search$/);
    const before = (await audioState(page)).currentTime;
    await vi.waitFor(async () => expect((await audioState(page)).currentTime).toBeGreaterThan(before + 0.5));
    expect(await player.isVisible()).toBe(true);
    // Speed: 0.8–3×, and ±15/30 s.
    await player.locator('select[name=speed]').selectOption('2');
    expect(await page.evaluate(() => document.querySelector('audio').playbackRate)).toBe(2);
    await player.locator('select[name=speed]').selectOption('1');
    const here = (await audioState(page)).currentTime;
    await player.getByRole('button', { name: 'Ahead 30 seconds' }).click();
    await playerAt(page, here + 30);
    await player.getByRole('button', { name: 'Back 15 seconds' }).click();
    await playerAt(page, here + 15);
    await shot(page, 'search-with-player.png');

    // Pause: the position is saved; a new window resumes there.
    await player.getByRole('button', { name: 'Pause' }).click();
    const paused = (await audioState(page)).currentTime;
    await vi.waitFor(async () => {
      const ep = JSON.parse(await earshot(lib.dataDir, ['--json', 'inbox'], lib.env)) as {
        items: { id: number; state: string; positionMs: number }[];
      };
      const mine = ep.items.find((i) => i.id === id)!;
      expect(mine.state).toBe('in-progress');
      expect(Math.abs(mine.positionMs / 1000 - paused)).toBeLessThan(0.5);
    }, 10_000);
    const second = await openPage(browser);
    await go(second.page, `/episodes/${id}`);
    await second.page.locator('.facts .state[data-state=in-progress]').waitFor();
    expect((await second.page.locator('[data-action=play]').textContent())!.trim()).toMatch(
      /^Resume · \d+ (min|s) left$/,
    );
    await second.page.locator('[data-action=play]').click();
    await playerAt(second.page, paused);
    await second.page.close();
    expect(errors).toEqual([]);
  });

  it('the synced transcript: a click on a line plays from it, the line is lit and followed, scrolling pauses following', async () => {
    const { page, errors } = await openPage(browser, { viewport: { width: 1200, height: 520 } });
    const id = lib.ids['lg-2']!;
    await go(page, `/episodes/${id}/transcript`);
    const cues = page.locator('.cue');
    await cues.nth(TALK_LINES.length - 1).waitFor();
    // Speaker turns are paragraphs under the speaker's name, not a line per cue.
    const speakers = await page.locator('.para .speaker').allTextContents();
    expect(speakers.slice(0, 3)).toEqual(['Lena Ortiz', 'Samir Haddad', 'Lena Ortiz']);
    expect(await page.locator('.para').count()).toBeLessThan(TALK_LINES.length);

    await cues.nth(6).click();
    await playerAt(page, (6 * CUE_MS) / 1000);
    await page.locator('.cue.current[data-index="6"]').waitFor();
    expect((await audioState(page)).paused).toBe(false);
    // As it plays on, the next line is lit.
    await page.locator('.cue.current[data-index="7"]').waitFor({ timeout: 8000 });
    await shot(page, 'transcript-playing.png');

    // Followed: a line far down, once playing reaches it, is scrolled into view.
    await cues.nth(10).click();
    await playerAt(page, 50);
    const inView = (sel: string) =>
      page.locator(sel).evaluate((el) => {
        const r = el.getBoundingClientRect();
        const main = document.querySelector('main').getBoundingClientRect();
        return r.top >= main.top && r.bottom <= main.bottom;
      });
    await vi.waitFor(async () => expect(await inView('.cue[data-index="10"]')).toBe(true));
    // Scrolling by hand stops following and offers a way back.
    await page.mouse.move(500, 300);
    await page.mouse.wheel(0, -2000);
    const follow = page.locator('[data-follow]');
    await follow.waitFor();
    await shot(page, 'transcript-scrolled.png', false);
    await follow.click();
    await vi.waitFor(async () => expect(await inView('.cue.current')).toBe(true));
    expect(await follow.count()).toBe(0);
    await page.locator('footer.player').getByRole('button', { name: 'Pause' }).click();
    expect(errors).toEqual([]);
  });

  it('a quote on Insights, a search hit and a chapter each play from their moment', async () => {
    const { page, errors } = await openPage(browser);
    const id = lib.ids['lg-1']!;
    await go(page, `/episodes/${id}/insights`);
    const quote = page.locator('.insight[data-grounded=true] .quote a.time').first();
    await quote.waitFor();
    const quoteMs = Number(
      new URL((await quote.getAttribute('href'))!.replace('#', ''), 'http://x').searchParams.get('t'),
    );
    await quote.click();
    await playerAt(page, quoteMs / 1000);
    await page.waitForURL(new RegExp(`#/episodes/${id}/transcript\\?t=${quoteMs}$`));
    await page.locator('.cue.current').waitFor();
    await shot(page, 'insights-quote-played.png');

    await page.getByRole('link', { name: 'Search' }).click();
    await page.fill('input[name=q]', 'metronome');
    await page.press('input[name=q]', 'Enter');
    const hit = page.locator('li[data-hit][data-kind=transcript]', { has: page.locator('a.time') }).first();
    await hit.waitFor();
    const hitMs = Number(
      new URL(
        (await hit.locator('a.time').getAttribute('href'))!.replace('#', ''),
        'http://x',
      ).searchParams.get('t'),
    );
    const hitEpisode = Number(await hit.getAttribute('data-hit'));
    await hit.locator('a.time').click();
    await playerAt(page, hitMs / 1000);
    // Late in the episode (its own passage), so the time is the hit's and not the start.
    expect(hitMs).toBeGreaterThan(60_000);
    await page.waitForURL(new RegExp(`#/episodes/${hitEpisode}/transcript\\?t=${hitMs}&q=metronome$`));
    expect(await page.locator('.cue mark').allTextContents()).toEqual(['metronome']);
    expect((await page.locator('footer.player .title').textContent())!.trim()).not.toBe('');

    await page.locator('.tabs').getByRole('link', { name: 'Episode' }).click();
    const chapter = page.locator('button.chapter', { hasText: 'Never miss twice' });
    await chapter.click();
    await playerAt(page, 45);
    // A time written in the show notes plays from there too.
    await page.locator('[data-notes] button.timestamp', { hasText: '00:30' }).click();
    await playerAt(page, 30);
    await page.locator('footer.player').getByRole('button', { name: 'Pause' }).click();
    expect(errors).toEqual([]);
  });

  it('near the end an episode is marked played by itself, and leaves the inbox', async () => {
    const { page, errors } = await openPage(browser);
    const id = lib.ids['lg-3']!;
    expect((await inboxJson()).items.map((i) => i.id)).toContain(id);
    await go(page, `/episodes/${id}`);
    await page.locator('[data-action=play]').click();
    await vi.waitFor(async () => expect((await audioState(page)).paused).toBe(false));
    // To 3 s before the end (the last 5 %: 9 s of 3 minutes) with the seek bar.
    await page.locator('footer.player input[name=seek]').evaluate((el) => {
      (el as { value: string }).value = '177000';
      el.dispatchEvent(new Event('input', { bubbles: true }));
    });
    await page.locator('.facts .state[data-state=played]').waitFor({ timeout: 15_000 });
    expect((await inboxJson()).items.map((i) => i.id)).not.toContain(id);
    expect((await page.locator('[data-action=played]').textContent())!.trim()).toBe('Mark unplayed');
    // And by hand, once it has played to its end: unplayed again, it is back in the inbox, new.
    await vi.waitFor(async () => expect((await audioState(page)).paused).toBe(true), { timeout: 10_000 });
    await page.locator('[data-action=played]').click();
    await page.locator('.facts .state[data-state=new]').waitFor();
    expect((await inboxJson()).items.map((i) => i.id)).toContain(id);
    await page.locator('[data-action=played]').click();
    await page.locator('.facts .state[data-state=played]').waitFor();
    expect(errors).toEqual([]);
  });

  it('show notes with a hostile payload are shown as text and links, and nothing in them runs', async () => {
    const { page, errors } = await openPage(browser);
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await go(page, `/episodes/${lib.ids['hostile-1']!}`);
    const notes = page.locator('[data-notes]');
    await notes.getByText('Payload below.').waitFor();
    await page.waitForTimeout(500);
    expect(await page.evaluate(() => (window as { __pwned?: string }).__pwned)).toBeUndefined();
    expect(
      await notes.evaluate(
        (el) =>
          el.querySelectorAll('script, iframe, img, svg, math, style, form, input, object, embed, meta')
            .length,
      ),
    ).toBe(0);
    expect(
      await notes.evaluate((el) =>
        [...el.querySelectorAll('*')].flatMap((n) =>
          [...n.attributes]
            .map((a) => a.name)
            .filter((a) => a.startsWith('on') || a === 'style' || a === 'id'),
        ),
      ),
    ).toEqual([]);
    const links = await notes
      .locator('a')
      .evaluateAll((as) =>
        as.map((a) => [
          a.textContent,
          a.getAttribute('href'),
          a.getAttribute('target'),
          a.getAttribute('rel'),
        ]),
      );
    expect(links).toEqual([
      ['a javascript link', null, null, null],
      ['a fine link', 'https://example.com/fine', '_blank', 'noopener noreferrer'],
      ['a relative link', lib.feeds.url('/relative/page'), '_blank', 'noopener noreferrer'],
    ]);
    // The page is still Earshot's: nothing hid it, nothing navigated it, no pixel was fetched.
    expect(await page.locator('h1').isVisible()).toBe(true);
    expect(new URL(page.url()).hash).toMatch(/^#\/episodes\/\d+$/);
    expect(requests.filter((u) => !u.startsWith(new URL(serve.url).origin))).toEqual([]);
    expect(dialogs).toEqual([]);
    await shot(page, 'episode-hostile-notes.png');
    expect(errors).toEqual([]);
  });

  it('a downloaded episode plays with the publisher unreachable; one that is not downloaded says why it cannot', async () => {
    const { page, errors } = await openPage(browser);
    // The publisher's server answers nothing for any audio from now on.
    for (const guid of ['lg-1', 'lg-2', 'lg-3', 'lg-4'])
      lib.feeds.route(`/audio/${guid}.mp3`, { status: 503 });
    lib.feeds.route('/audio/hostile.mp3', { status: 503 });
    const hits = lib.feeds.hits('/audio/lg-4.mp3').length;
    await go(page, `/episodes/${lib.ids['lg-4']!}`);
    await page.locator('.facts .downloaded').waitFor();
    await page.locator('[data-action=play]').click();
    await vi.waitFor(async () => expect((await audioState(page)).currentTime).toBeGreaterThan(1), {
      timeout: 15_000,
    });
    expect(lib.feeds.hits('/audio/lg-4.mp3').length).toBe(hits);

    await go(page, `/episodes/${lib.ids['hostile-1']!}`);
    await page.locator('h1', { hasText: 'An episode with dangerous notes' }).waitFor();
    expect(await page.locator('.facts .downloaded').count()).toBe(0);
    await page.locator('[data-action=play]').click();
    const alert = page.locator('footer.player [role=alert]');
    await alert.waitFor({ timeout: 15_000 });
    expect(await alert.textContent()).toMatch(/could not be streamed.*process the episode to download it/);
    expect(errors).toEqual([]);
  });

  it('looks right in the dark and in the smallest window (screenshots to look at)', async () => {
    const { page, errors } = await openPage(browser, {
      viewport: { width: 720, height: 700 },
      colorScheme: 'dark',
    });
    await go(page, '/inbox');
    await page.locator('[data-summary]').waitFor();
    await shot(page, 'inbox-narrow-dark.png');
    await go(page, '/');
    await page.locator('.row[data-episode]').first().waitFor();
    await shot(page, 'library-narrow-dark.png', false);
    await go(page, `/episodes/${lib.ids['lg-2']!}/transcript`);
    await page.locator('.cue').first().waitFor();
    await page.locator('.cue').nth(3).click();
    await playerAt(page, (3 * CUE_MS) / 1000);
    await shot(page, 'transcript-narrow-dark.png', false);
    await page.setViewportSize({ width: 1280, height: 800 });
    await go(page, `/episodes/${lib.ids['lg-2']!}`);
    await page.locator('h1').waitFor();
    await shot(page, 'episode-dark.png');
    expect(errors).toEqual([]);
  });
});
