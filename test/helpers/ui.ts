/**
 * What the UI suites share (test/e2e/*.test.ts, bench/ui.ts): Debian's Chromium through
 * playwright-core, `earshot serve` started the way a user starts it on a library the real
 * engine filled, and screenshots in test/.tmp/ to look at after a run.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { startServe as startServeProcess, type ServeProcess } from './serve.ts';
import { chromium, type Browser, type BrowserContextOptions, type Page } from 'playwright-core';
import { cliPath, repoRoot } from './env.ts';

// Functions handed to page.evaluate run in the page: its globals, declared for this module only.
interface DOMRectLike {
  top: number;
  bottom: number;
}
declare const document: { images: Iterable<{ complete: boolean; getBoundingClientRect(): DOMRectLike }> };
declare const innerHeight: number;

export const CHROMIUM = process.env.EARSHOT_CHROMIUM ?? '/usr/bin/chromium';
export const haveChromium = fs.existsSync(CHROMIUM);

/** Say loudly, once per file, that the UI tests did not run. */
export function warnIfNoChromium(): void {
  if (!haveChromium)
    console.warn(
      `SKIPPED: UI tests need Chromium at ${CHROMIUM} (apt-get install chromium, or set EARSHOT_CHROMIUM).`,
    );
}

/** Where screenshots go (kept out of git by .gitignore). */
export const shotsDir = path.join(repoRoot, 'test/.tmp');

export async function shot(page: Page, name: string, fullPage = true): Promise<Buffer> {
  fs.mkdirSync(shotsDir, { recursive: true });
  // Pictures still on their way would show as empty boxes.
  await page
    .waitForFunction(
      () =>
        [...document.images].every((img: { complete: boolean; getBoundingClientRect(): DOMRectLike }) => {
          const r = img.getBoundingClientRect();
          return img.complete || r.bottom < 0 || r.top > innerHeight;
        }),
      undefined,
      { timeout: 5000 },
    )
    .catch(() => undefined);
  return page.screenshot({ path: path.join(shotsDir, name), fullPage });
}

/** The built UI that `earshot serve` hands out (out/renderer), built by electron-vite. */
export function buildRenderer(): void {
  execFileSync(
    process.execPath,
    [path.join(repoRoot, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'],
    {
      cwd: repoRoot,
      stdio: 'ignore',
    },
  );
}

export type Serve = ServeProcess;

/**
 * Start `earshot serve` on a free port over `dataDir` (test/helpers/serve.ts) and wait for the
 * address it prints. `engine: false` (the default) serves without processing anything.
 */
export function startServe(
  dataDir: string,
  options: { env?: NodeJS.ProcessEnv; engine?: boolean } = {},
): Promise<Serve> {
  return startServeProcess({
    dataDir,
    args: ['--port', '0', ...(options.engine ? [] : ['--no-engine'])],
    env: { ...process.env, ...options.env },
  });
}

/** A page address on the server: `route` is the hash route ('/inbox'), kept apart from the query. */
export function at(serveUrl: string, route: string): string {
  const u = new URL(serveUrl);
  u.hash = route;
  return u.href;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  });
}

/** A page that records uncaught errors (a test ends with `expect(errors).toEqual([])`). */
export async function openPage(
  browser: Browser,
  options: BrowserContextOptions = { viewport: { width: 1200, height: 760 } },
): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage(options);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  return { page, errors };
}

/** `earshot run --until-idle` on the library: the real engine processes what is queued, then exits. */
export async function runUntilIdle(
  dataDir: string,
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 120_000,
): Promise<void> {
  await promisify(execFile)(process.execPath, [cliPath, '--data-dir', dataDir, 'run', '--until-idle'], {
    env: { ...process.env, ...env },
    timeout: timeoutMs,
  });
}

/** Run the CLI on the library and return its stdout. */
export async function earshot(dataDir: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, [cliPath, '--data-dir', dataDir, ...args], {
    env: { ...process.env, ...env },
  });
  return stdout;
}

/** The audio element the player drives, as the page sees it. */
export function audioState(page: Page): Promise<{ currentTime: number; paused: boolean; src: string }> {
  return page.locator('audio').evaluate((el) => {
    const a = el as unknown as { currentTime: number; paused: boolean; currentSrc: string };
    return { currentTime: a.currentTime, paused: a.paused, src: a.currentSrc };
  });
}
