import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';
import { repoRoot } from './env.ts';

/**
 * Build the app (electron-vite: out/main, out/preload, out/renderer, which `earshot serve`
 * serves) once for the UI test files, which vitest may run at the same time: a lock directory
 * makes one build at a time, and a build is skipped when out/renderer is newer than every file
 * it is made from.
 */
const LOCK = path.join(repoRoot, 'test/.tmp/ui-build.lock');
const BUILT = path.join(repoRoot, 'out/renderer/index.html');
const SOURCES = [
  'renderer',
  'pipeline/api/contract.ts',
  'electron',
  'electron.vite.config.ts',
  'package-lock.json',
];

function newest(p: string): number {
  const full = path.join(repoRoot, p);
  const st = fs.statSync(full);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(st.mtimeMs, ...fs.readdirSync(full).map((f) => newest(path.join(p, f))));
}

export async function buildUi(): Promise<void> {
  fs.mkdirSync(path.dirname(LOCK), { recursive: true });
  const until = Date.now() + 300_000;
  for (;;) {
    try {
      fs.mkdirSync(LOCK);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      // A lock left by a run that was killed mid-build is stale after five minutes.
      if (Date.now() - fs.statSync(LOCK).mtimeMs > 300_000) fs.rmSync(LOCK, { recursive: true, force: true });
      if (Date.now() > until) throw new Error(`${LOCK} is still held after five minutes.`);
      await delay(250);
    }
  }
  try {
    const fresh = fs.existsSync(BUILT) && fs.statSync(BUILT).mtimeMs > Math.max(...SOURCES.map(newest));
    if (!fresh)
      execFileSync(
        process.execPath,
        [path.join(repoRoot, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'],
        {
          cwd: repoRoot,
          stdio: 'ignore',
        },
      );
  } finally {
    fs.rmSync(LOCK, { recursive: true, force: true });
  }
}
