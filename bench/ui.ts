/**
 * UI benchmark (`npm run bench:ui`): the built renderer in Debian's Chromium against `earshot
 * serve`, on a library with a 10,000-episode show and a 100,000-episode show (rows written
 * straight into Earshot's real schema).
 *
 * - tti10kMs: from navigation to an interactive Podcasts view on the 10,000-episode show (its
 *   first rows drawn and the main thread quiet: the end of the last long task before a second
 *   with none), the app opened again; tti10kFirstOpenMs: the same in a new browser profile
 *   (nothing cached, no show remembered). Target < 1000.
 * - scrollP95FrameMs: p95 of frame times (requestAnimationFrame deltas) while the 100,000-row
 *   list is scrolled fast and dragged to far places, rows read from the service as it goes.
 *   Target < 50.
 * - bundleKb: the renderer's JavaScript and CSS as built (and gzipped, for reference).
 *
 * Baseline, same run, same browser: the list as it was (every row in the page, one table row
 * each, no paging), for the 10,000 episodes: time to build and lay it out, and its scroll p95.
 * BENCH_RUNS (default 3): TTI is the median of that many fresh page loads. The last line is one
 * JSON object of the figures.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { databasePath, openDatabase, writeTx } from '../pipeline/store/index.ts';
import { at, buildRenderer, CHROMIUM, haveChromium, launchChromium, startServe } from '../test/helpers/ui.ts';

// The functions handed to page.evaluate run in the page: its globals, declared for this module only.
/* eslint-disable @typescript-eslint/no-explicit-any */
declare const document: any;
declare const window: any;
declare const MutationObserver: any;
declare const PerformanceObserver: any;
declare function requestAnimationFrame(callback: (time: number) => void): number;
/* eslint-enable @typescript-eslint/no-explicit-any */

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const root = fileURLToPath(new URL('..', import.meta.url));
const scratch = path.join(root, 'bench/.tmp/ui');

if (!haveChromium) {
  console.log(
    `SKIPPED: bench:ui needs Chromium at ${CHROMIUM} (apt-get install chromium, or set EARSHOT_CHROMIUM).`,
  );
  console.log(JSON.stringify({ skipped: true }));
  process.exit(0);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}
function p95(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * 0.95))]!;
}
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

/** A library with shows of these sizes; the first show (by title) is the 10,000-episode one. */
function makeLibrary(dataDir: string): { small: number; large: number } {
  fs.rmSync(dataDir, { recursive: true, force: true });
  const db = openDatabase(databasePath(dataDir));
  const now = Date.now();
  const ids = writeTx(db, 'bench library', () => {
    const feed = db.prepare(
      'INSERT INTO feeds (url, title, author, created_at, subscribed_at) VALUES (?, ?, ?, ?, ?)',
    );
    const episode = db.prepare(
      `INSERT INTO episodes (feed_id, key, key_source, guid, title, published_at, duration_ms, enclosure_url, status, created_at)
       VALUES (?, ?, 'guid', ?, ?, ?, ?, ?, 'listed', ?)`,
    );
    const fill = (title: string, n: number) => {
      const id = Number(
        feed.run(`https://bench.example/${n}.xml`, title, 'Bench Radio', now, now).lastInsertRowid,
      );
      for (let i = 0; i < n; i++) {
        episode.run(
          id,
          `${id}-${i}`,
          `${id}-${i}`,
          `Episode ${n - i}: a title about as long as a real one`,
          now - i * 3_600_000,
          (20 + (i % 70)) * 60_000,
          `https://bench.example/audio/${id}-${i}.mp3`,
          now,
        );
      }
      return id;
    };
    return {
      small: fill('A show with 10,000 episodes', 10_000),
      large: fill('B show with 100,000 episodes', 100_000),
    };
  });
  db.close();
  return ids;
}

/** Set up, before any page script: long tasks and the moment the first episode row is drawn. */
const OBSERVE = () => {
  const w = window as { __bench: { longTasks: [number, number][]; firstRow: number | null } };
  w.__bench = { longTasks: [], firstRow: null };
  try {
    new PerformanceObserver((list: { getEntries(): { startTime: number; duration: number }[] }) => {
      for (const e of list.getEntries()) w.__bench.longTasks.push([e.startTime, e.duration]);
    }).observe({ type: 'longtask', buffered: true });
  } catch {
    // No long-task timing: TTI is then the first row.
  }
  new MutationObserver((_: unknown, observer: { disconnect(): void }) => {
    if (document.querySelector('.row[data-episode]')) {
      w.__bench.firstRow = performance.now();
      observer.disconnect();
    }
  }).observe(document, { childList: true, subtree: true });
};

/** TTI: the first row drawn, or later the end of the last long task before a quiet second. */
async function timeToInteractive(page: Page, url: string): Promise<number> {
  await page.goto(url);
  await page.waitForSelector('.row[data-episode]');
  await page.waitForTimeout(1200);
  return page.evaluate(() => {
    const b = (window as { __bench: { longTasks: [number, number][]; firstRow: number } }).__bench;
    let tti = b.firstRow;
    for (const [start, duration] of b.longTasks.sort((x, y) => x[0] - y[0])) {
      if (start - tti > 1000) break;
      tti = Math.max(tti, start + duration);
    }
    return tti;
  });
}

/**
 * Frame times while scrolling `selector`: a fast fling top to bottom in steps, then drags of the
 * scrollbar to far places (each a jump the list must fill from the service).
 */
async function scrollFrames(page: Page, selector: string, seconds: number): Promise<number[]> {
  return page.evaluate(
    async ({ selector, seconds }) => {
      const el = document.querySelector(selector);
      const frames: number[] = [];
      let last = performance.now();
      const end = last + seconds * 1000;
      let step = 0;
      let seed = 7;
      const rand = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
      await new Promise<void>((resolve) => {
        const tick = (t: number) => {
          frames.push(t - last);
          last = t;
          step++;
          const max = el.scrollHeight - el.clientHeight;
          // Two thirds of the frames a fling (about 40 rows a frame), every third a jump.
          el.scrollTop = step % 3 === 0 ? rand() * max : Math.min(max, el.scrollTop + 2600);
          if (el.scrollTop >= max) el.scrollTop = 0;
          if (t < end) requestAnimationFrame(tick);
          else resolve();
        };
        requestAnimationFrame((t) => {
          last = t;
          requestAnimationFrame(tick);
        });
      });
      return frames.slice(2);
    },
    { selector, seconds },
  );
}

/** The baseline: every row of the show in the page (a plain table), as the list was before paging. */
async function baseline(page: Page, feedId: number): Promise<{ buildMs: number; frames: number[] }> {
  const buildMs = await page.evaluate(async (feedId) => {
    const t0 = performance.now();
    const res = await fetch('/api/episodes', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ feedId, limit: 10_000 }]),
    });
    const eps = (await res.json()) as {
      title: string;
      publishedAt: number;
      durationMs: number;
      status: string;
    }[];
    const box = document.createElement('div');
    box.id = 'baseline';
    box.style.cssText = 'position:fixed;inset:0;overflow:auto;background:#fff;z-index:9';
    const table = document.createElement('table');
    const body = document.createElement('tbody');
    for (const e of eps) {
      const tr = document.createElement('tr');
      for (const v of [
        new Date(e.publishedAt).toISOString().slice(0, 10),
        e.title,
        `${Math.round(e.durationMs / 60000)} min`,
        e.status,
      ]) {
        const td = document.createElement('td');
        td.textContent = v;
        tr.append(td);
      }
      const td = document.createElement('td');
      const b = document.createElement('button');
      b.textContent = 'Process';
      td.append(b);
      tr.append(td);
      body.append(tr);
    }
    table.append(body);
    box.append(table);
    document.body.append(box);
    void box.offsetHeight;
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    return performance.now() - t0;
  }, feedId);
  const frames = await scrollFrames(page, '#baseline', 3);
  return { buildMs, frames };
}

/** Every script and style sheet built, and those the first screen loads (what index.html names). */
function bundleSize(): { kb: number; gzipKb: number; files: number; initialKb: number } {
  const dir = path.join(root, 'out/renderer/assets');
  const files = fs.readdirSync(dir).filter((f) => /\.(js|css)$/.test(f));
  const html = fs.readFileSync(path.join(root, 'out/renderer/index.html'), 'utf8');
  let bytes = 0;
  let gz = 0;
  let initial = 0;
  for (const f of files) {
    const body = fs.readFileSync(path.join(dir, f));
    bytes += body.length;
    gz += zlib.gzipSync(body).length;
    if (html.includes(`assets/${f}`)) initial += body.length;
  }
  return {
    kb: round(bytes / 1024),
    gzipKb: round(gz / 1024),
    files: files.length,
    initialKb: round(initial / 1024),
  };
}

console.log('Building the renderer (electron-vite build)…');
buildRenderer();
const bundle = bundleSize();
const dataDir = path.join(scratch, 'library');
let t = Date.now();
const { small, large } = makeLibrary(dataDir);
console.log(`Library: 10,000 + 100,000 episodes written in ${Date.now() - t} ms.`);

const serve = await startServe(dataDir, { env: { EARSHOT_MODELS_DIR: '' } });
const browser = await launchChromium();
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.addInitScript(OBSERVE);
  const ttis: number[] = [];
  for (let i = 0; i < RUNS + 1; i++) {
    const page = await context.newPage();
    const ms = await timeToInteractive(page, at(serve.url, '/'));
    // The first load warms the server's caches and the browser's: not counted.
    if (i > 0) ttis.push(ms);
    await page.close();
  }
  const tti10kMs = median(ttis);
  console.log(
    `TTI, Podcasts view on the 10,000-episode show, the app opened again (its show remembered, files cached): ${ttis.map((x) => round(x)).join(', ')} ms (median ${round(tti10kMs)})`,
  );
  // The very first open: a new browser profile each time (nothing cached, no show remembered).
  const fresh: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const first = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await first.addInitScript(OBSERVE);
    fresh.push(await timeToInteractive(await first.newPage(), at(serve.url, '/')));
    await first.close();
  }
  const ttiFirstOpenMs = median(fresh);
  console.log(
    `TTI, the same, opened for the first time (new profile): ${fresh.map((x) => round(x)).join(', ')} ms (median ${round(ttiFirstOpenMs)})`,
  );

  const page = await context.newPage();
  await page.goto(at(serve.url, '/'));
  await page.waitForSelector('.row[data-episode]');
  await page.click(`button.show[data-show="${large}"]`);
  await page.waitForSelector('[data-counts]:has-text("100,000 episodes")');
  await page.waitForSelector('.row[data-index="0"][data-episode]');
  t = Date.now();
  const frames = await scrollFrames(page, '[data-scroller]', 5);
  const scrollP95FrameMs = p95(frames);
  // Where it stopped is filled from the service within moments.
  await page.waitForFunction(() => document.querySelectorAll('.row[data-episode]').length > 5);
  const rowsInPage = await page.locator('.row').count();
  console.log(
    `Scrolling the 100,000-row list: ${frames.length} frames, p50 ${round(median(frames))} ms, p95 ${round(scrollP95FrameMs)} ms, max ${round(Math.max(...frames))} ms; ${rowsInPage} rows in the page`,
  );

  const base = await context.newPage();
  await base.goto(at(serve.url, '/activity'));
  await base.waitForSelector('article[data-lane]');
  const b = await baseline(base, small);
  const baselineP95 = p95(b.frames);
  console.log(
    `Baseline (every row in the page, 10,000 rows): built and laid out in ${round(b.buildMs)} ms; scroll p95 ${round(baselineP95)} ms`,
  );
  console.log(
    `Ratios: TTI ${round(tti10kMs / b.buildMs, 2)}× the baseline's build; scroll p95 ${round(scrollP95FrameMs / baselineP95, 2)}× the baseline's (over 10× the rows)`,
  );
  console.log(
    `Bundle: ${bundle.kb} KB in ${bundle.files} files (${bundle.gzipKb} KB gzipped); the first screen loads ${bundle.initialKb} KB of it`,
  );
  console.log(
    `Targets: TTI < 1000 ms ${Math.max(tti10kMs, ttiFirstOpenMs) < 1000 ? 'met' : 'MISSED'}; scroll p95 < 50 ms ${scrollP95FrameMs < 50 ? 'met' : 'MISSED'}`,
  );
  console.log(
    JSON.stringify({
      tti10kMs: round(tti10kMs),
      tti10kFirstOpenMs: round(ttiFirstOpenMs),
      scrollP95FrameMs: round(scrollP95FrameMs),
      bundleKb: bundle.kb,
      bundleGzipKb: bundle.gzipKb,
      bundleInitialKb: bundle.initialKb,
      ttiRuns: ttis.map((x) => round(x)),
      scrollFrames: frames.length,
      rowsInPage,
      baselineBuild10kMs: round(b.buildMs),
      baselineScrollP95FrameMs: round(baselineP95),
    }),
  );
} finally {
  await browser.close();
  await serve.close();
}
