/**
 * The UI as a person sees it: `earshot serve` started the way a user starts it, the built
 * renderer opened in Debian's Chromium (headless, through playwright-core), talking to the typed
 * API over HTTP.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { cliPath, repoRoot, tempDir } from '../helpers/env.ts';
import { startFeedServer, type FeedServer } from '../helpers/feed-server.ts';

const CHROMIUM = process.env.EARSHOT_CHROMIUM ?? '/usr/bin/chromium';
const haveChromium = fs.existsSync(CHROMIUM);
if (!haveChromium)
  console.warn(
    `SKIPPED: UI tests need Chromium at ${CHROMIUM} (apt-get install chromium, or set EARSHOT_CHROMIUM).`,
  );

let serve: ChildProcess | null = null;
let feeds: FeedServer;
let browser: Browser | null = null;
let url = '';
const dataDir = tempDir();

beforeAll(async () => {
  if (!haveChromium) return;
  feeds = await startFeedServer();
  execFileSync(
    process.execPath,
    [path.join(repoRoot, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'],
    {
      cwd: repoRoot,
      stdio: 'ignore',
    },
  );
  execFileSync(process.execPath, [cliPath, '--data-dir', dataDir, 'pause', 'gpu']);
  serve = spawn(process.execPath, [cliPath, '--data-dir', dataDir, 'serve', '--port', '0', '--no-engine'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  url = await new Promise<string>((resolve, reject) => {
    let out = '';
    serve!.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /Earshot is at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      if (m) resolve(m[1]!);
    });
    serve!.on('exit', (code) => reject(new Error(`earshot serve exited with ${code}`)));
  });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  serve?.kill('SIGTERM');
  await feeds?.close();
});

describe.skipIf(!haveChromium)('UI in Chromium through the web transport', () => {
  it('shows the lanes from the API, with the paused lane marked', async () => {
    const page = await browser!.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${url}#/status`);
    const rows = page.locator('table tbody tr');
    await rows.first().waitFor();
    const cells = await rows.evaluateAll((trs) =>
      trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent?.trim())),
    );
    expect(cells.map((c) => [c[0], c[1]])).toEqual([
      ['gpu', 'Paused'],
      ['cpu', 'Active'],
      ['io', 'Active'],
    ]);
    await expect(page.getByText('Nothing has failed for good.').isVisible()).resolves.toBe(true);
    fs.mkdirSync(path.join(repoRoot, 'test/.tmp'), { recursive: true });
    await page.screenshot({ path: path.join(repoRoot, 'test/.tmp/status.png') });
    expect(errors).toEqual([]);
  });

  it('subscribes to a podcast from the form and lists its episodes; a bad address gets a clear message', async () => {
    feeds.route('/quiet.xml', {
      body: fs.readFileSync(path.join(repoRoot, 'test/fixtures/feeds/podcast20.xml')),
    });
    const page = await browser!.newPage({ viewport: { width: 1100, height: 600 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    await page.getByText('You follow no podcasts yet').waitFor();

    await page.fill('input[name=url]', feeds.url('/nothing-here.xml'));
    await page.click('button[type=submit]');
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('alert').textContent()).toMatch(
      /says this feed does not exist \(404\)\. Check the address\./,
    );

    await page.fill('input[name=url]', feeds.url('/quiet.xml'));
    await page.selectOption('select[name=backlog]', 'new');
    await page.click('button[type=submit]');
    await page.getByText('The Quiet Lab').waitFor();
    await page.locator('tr[data-episode]').nth(2).waitFor();
    const rows = await page
      .locator('tr[data-episode]')
      .evaluateAll((trs) =>
        trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent?.trim())),
      );
    expect(rows).toEqual([
      ['2026-03-03', 'Episode 3: Failure & Luck', '62 min', 'Process'],
      ['2026-02-24', 'Episode 2: Notebooks', '49 min', 'Process'],
      ['2026-02-17', 'Episode 1: Beginnings', '45 min', 'Process'],
    ]);
    await page.screenshot({ path: path.join(repoRoot, 'test/.tmp/podcasts.png') });
    expect(errors).toEqual([]);
  });

  it('refuses API calls that are not JSON (what a form on another site would send)', async () => {
    const res = await fetch(new URL('/api/status', url), {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: '[]',
    });
    expect(res.status).toBe(415);
  });
});
