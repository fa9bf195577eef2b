import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from './env.ts';

/**
 * Build the app (out/, which `earshot serve` serves) for the UI tests, once per change: test
 * files run in parallel, and a second build would empty out/renderer under the first file's
 * browser. A lock folder serializes them; a stamp newer than every source the build reads
 * means the build is current and is skipped.
 */
const LOCK = path.join(repoRoot, 'test/.tmp/ui-build.lock');
const STAMP = path.join(repoRoot, 'test/.tmp/ui-build.stamp');
const SOURCES = ['renderer', 'electron', 'pipeline', 'models', 'electron.vite.config.ts', 'package.json'];

function newest(p: string): number {
  const st = fs.statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let t = st.mtimeMs;
  for (const name of fs.readdirSync(p)) t = Math.max(t, newest(path.join(p, name)));
  return t;
}

export function buildUi(): void {
  fs.mkdirSync(path.dirname(LOCK), { recursive: true });
  const waitUntil = Date.now() + 120_000;
  for (;;) {
    try {
      fs.mkdirSync(LOCK);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      // A lock left by a killed run is older than any build takes.
      if (Date.now() - fs.statSync(LOCK).mtimeMs > 120_000) fs.rmSync(LOCK, { recursive: true, force: true });
      if (Date.now() > waitUntil) throw new Error(`Another test has held ${LOCK} for two minutes`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    }
  }
  try {
    const built = fs.existsSync(STAMP) ? fs.statSync(STAMP).mtimeMs : 0;
    const current =
      built > 0 &&
      fs.existsSync(path.join(repoRoot, 'out/renderer/index.html')) &&
      SOURCES.every((s) => newest(path.join(repoRoot, s)) < built);
    if (!current) {
      execFileSync(
        process.execPath,
        [path.join(repoRoot, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'],
        {
          cwd: repoRoot,
          stdio: 'ignore',
        },
      );
      fs.writeFileSync(STAMP, new Date().toISOString());
    }
  } finally {
    fs.rmSync(LOCK, { recursive: true, force: true });
  }
}
