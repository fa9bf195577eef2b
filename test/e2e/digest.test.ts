/**
 * The Digest screen as a listener sees it: a library of four shows made by `earshot run
 * --until-idle` (which also makes the week's digest on schedule), `earshot serve` started the way
 * a user starts it, the page opened in Debian's Chromium at the address serve prints.
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { cliPath, repoRoot, tempDir } from '../helpers/env.ts';
import { startFeedServer, type FeedServer } from '../helpers/feed-server.ts';
import { routeDigestShows } from '../helpers/digest-library.ts';
import { haveChromium, launchChromium, startServe, warnIfNoChromium, type Serve } from '../helpers/ui.ts';
import { App, openApp } from '../../pipeline/api/app.ts';

warnIfNoChromium();

let feeds: FeedServer;
let serve: Serve | null = null;
let browser: Browser | null = null;
let url = '';
let runOutput = '';
const dataDir = tempDir('earshot-e2e-digest-');
const shots = path.join(repoRoot, 'test/.tmp');
const env = { ...process.env };
delete env.EARSHOT_WORKFLOWS_MODULE;

beforeAll(async () => {
  if (!haveChromium) return;
  feeds = await startFeedServer();
  const urls = routeDigestShows(feeds, Date.now());
  const ctx = await openApp(dataDir);
  const app = new App(ctx);
  for (const u of Object.values(urls)) await app.subscribe(u, 'all');
  ctx.db.close();
  // Processes every episode, then (its second round) makes the week's digest on schedule. Not
  // spawnSync: the feed server answering it lives in this process.
  const run = await new Promise<{ code: number | null; output: string }>((resolve) => {
    const child = spawn(process.execPath, [cliPath, '--data-dir', dataDir, 'run', '--until-idle'], { env });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
  runOutput = run.output;
  if (run.code !== 0) throw new Error(`earshot run failed: ${runOutput}`);
  fs.mkdirSync(shots, { recursive: true });
  serve = await startServe(dataDir, { env });
  url = serve.url;
  browser = await launchChromium();
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await serve?.close();
  await feeds?.close();
});

/** The page at `hash`, from the address serve printed. */
async function openAt(page: Page, hash: string): Promise<void> {
  await page.goto(`${url}${hash}`);
}

describe.skipIf(!haveChromium)('the Digest screen in Chromium', () => {
  it('shows the week’s stories whose quotes play from their moment', async () => {
    expect(runOutput).toMatch(/Your digest is ready: 3 stories from 5 episodes this week/);
    const page = await browser!.newPage({ viewport: { width: 1100, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await openAt(page, '#/digest');
    // The latest stored digest opens: three stories, two of them told by two shows.
    const stories = page.locator('article.story');
    await stories.first().waitFor();
    expect(await stories.count()).toBe(3);
    expect(await page.locator('[data-digest][aria-pressed="true"]').count()).toBe(1);
    const titles = await stories.locator('h3').allTextContents();
    expect(titles.some((t) => /Federal Reserve|Powell/.test(t))).toBe(true);
    expect(titles.some((t) => /NASA|Mars|Perseverance|Jezero/.test(t))).toBe(true);
    expect(await page.locator('.playlist li').count()).toBeGreaterThan(0);
    await page.screenshot({ path: path.join(shots, 'digest.png'), fullPage: true });

    // A quote of the first story: its time button plays it from there (the transcript at that moment).
    const play = stories.first().locator('button[data-play]').first();
    const [episodeId, ms] = (await play.getAttribute('data-play'))!.split(':').map(Number) as [
      number,
      number,
    ];
    const quote = (await stories.first().locator('.quote-text').first().textContent())!.replace(/^“|”$/g, '');
    await play.click();
    await page.waitForURL(new RegExp(`#/episodes/${episodeId}/transcript\\?t=${ms}$`));
    // The player took the episode (its title in the player bar) and was sent to the moment.
    const title = await page.getByRole('heading', { level: 1 }).first().textContent();
    await page.locator('footer.player .now .title', { hasText: title!.trim() }).waitFor();
    await page.locator('.cue').first().waitFor();
    // The moment is the segment the quote is said in: the last cue starting at or before it.
    const cues: [number, string][] = [];
    for (const cue of await page.locator('.cue').all())
      cues.push([Number(await cue.getAttribute('data-start')), (await cue.textContent()) ?? '']);
    const at = cues.filter(([start]) => start <= ms).pop();
    expect(at).toBeDefined();
    const said = at![1].replace(/\s+/g, ' ').trim();
    const words = (t: string) =>
      t
        .toLowerCase()
        .replace(/[^a-z0-9 ]+/g, '')
        .split(/\s+/)
        .slice(0, 4)
        .join(' ');
    expect(said.toLowerCase().replace(/[^a-z0-9 ]+/g, '')).toContain(words(quote));
    await page.screenshot({ path: path.join(shots, 'digest-quote-played.png') });

    // A playlist item plays from its start too; "This week so far" is made on request.
    await page.goBack();
    await page.locator('.playlist li').first().waitFor();
    await page.locator('.playlist .play').first().click();
    await page.waitForURL(/#\/episodes\/\d+\/transcript\?t=\d+$/);
    await openAt(page, '#/digest/now');
    await page.getByRole('heading', { name: 'This week so far' }).waitFor();
    expect(await page.locator('article.story').count()).toBe(3);
    expect(errors).toEqual([]);
  });

  it('is readable in the dark, and exports the library from the Export screen', async () => {
    const page = await browser!.newPage({ viewport: { width: 1100, height: 900 }, colorScheme: 'dark' });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await openAt(page, '#/digest');
    await page.locator('article.story').first().waitFor();
    // Evaluated in the page (a string: this file is type-checked without the DOM's types).
    const [fg, bg] = (await page.evaluate(
      '(() => { const s = getComputedStyle(document.documentElement); return [s.color, s.backgroundColor]; })()',
    )) as [string, string];
    expect(fg).toBe('rgb(245, 245, 247)');
    expect(bg).toBe('rgb(28, 28, 30)');
    await page.screenshot({ path: path.join(shots, 'digest-dark.png'), fullPage: true });
    await page.getByRole('link', { name: 'Export to Obsidian…' }).click();
    const vault = tempDir('earshot-e2e-vault-');
    await page.fill('input[name=dir]', vault);
    await page.click('button[type=submit]');
    await page.getByRole('status').waitFor();
    expect(await page.getByRole('status').textContent()).toMatch(
      /Exported 7 episodes and \d+ people and topics/,
    );
    expect(fs.readdirSync(path.join(vault, 'Episodes')).sort()).toEqual([
      'Money Talk',
      'Morning Brief',
      'Starlight',
      'The Garden Hour',
    ]);
    await page.fill('input[name=dir]', 'relative/folder');
    await page.click('button[type=submit]');
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('alert').textContent()).toMatch(/full path/);
    expect(errors).toEqual([]);
  });
});
