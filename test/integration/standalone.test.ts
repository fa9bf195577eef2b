import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, execFile } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, tempDir } from '../helpers/env.ts';

/**
 * The repository stands alone: a clone in an empty folder — nothing beside it — has everything
 * its tests, scripts and docs reach for. The clone (committed files only) is scanned for paths
 * that resolve outside it, README links are resolved inside it, and a few test files that read
 * fixtures run in it.
 */
const haveGit = (() => {
  try {
    execFileSync('git', ['-C', repoRoot, 'rev-parse', '--git-dir'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
if (!haveGit) console.warn('SKIPPED: the stand-alone checks need git and a git checkout of Earshot.');

/** System places a checkout may name (tools, devices, the temporary folder), never the repository's neighbours. */
const SYSTEM = [
  '/usr/',
  '/bin/',
  '/sbin/',
  '/etc/',
  '/dev/',
  '/proc/',
  '/sys/',
  '/lib/',
  '/lib64/',
  '/tmp/',
  '/var/',
  '/run/',
  '/media/',
];

let clone = '';
let files: string[] = [];

function isText(file: string): boolean {
  const st = fs.statSync(file);
  if (!st.isFile() || st.size > 2 * 1024 * 1024) return false;
  const head = fs.readFileSync(file).subarray(0, 8192);
  return !head.includes(0);
}

beforeAll(() => {
  if (!haveGit) return;
  // An empty folder with the clone in it, and nothing else.
  const parent = tempDir('earshot-standalone-');
  clone = path.join(parent, 'earshot');
  execFileSync('git', ['clone', '--quiet', '--no-hardlinks', repoRoot, clone], { stdio: 'ignore' });
  expect(fs.readdirSync(parent)).toEqual(['earshot']);
  files = execFileSync('git', ['-C', clone, 'ls-files', '-z'], { encoding: 'utf8' })
    .split('\0')
    .filter(Boolean)
    .filter((f) => f !== 'package-lock.json' && isText(path.join(clone, f)));
}, 120_000);

describe.skipIf(!haveGit)('the repository stands alone', () => {
  it('no file names a relative path that leads out of the clone', () => {
    const escapes: string[] = [];
    // '../x', "../../x", `../x/${y}`, (../x) — as code and Markdown write them.
    const relative = /(?<=['"`(])((?:\.\.\/)+[^'"`)\s$]*)/g;
    for (const f of files) {
      const text = fs.readFileSync(path.join(clone, f), 'utf8');
      for (const m of text.matchAll(relative)) {
        const target = path.resolve(path.dirname(path.join(clone, f)), m[1]!);
        if (path.relative(clone, target).startsWith('..')) escapes.push(`${f}: ${m[1]}`);
      }
    }
    expect(escapes).toEqual([]);
  });

  it("no file names an absolute path of this machine outside the clone (or the checkout's own path)", () => {
    const found: string[] = [];
    const absolute = /(?<=['"`(\s=])(\/[A-Za-z0-9._-]+(?:\/[A-Za-z0-9._-]+)+)/g;
    for (const f of files) {
      const text = fs.readFileSync(path.join(clone, f), 'utf8');
      if (text.includes(repoRoot.replace(/\/$/, ''))) found.push(`${f}: names the checkout's own path`);
      for (const m of text.matchAll(absolute)) {
        const p = m[1]!;
        if (SYSTEM.some((s) => p.startsWith(s)) || p.startsWith(os.tmpdir())) continue;
        // A path that does not exist here reaches nothing (an example, a URL path).
        if (fs.existsSync(p) && path.relative(clone, p).startsWith('..')) found.push(`${f}: ${p}`);
      }
    }
    expect(found).toEqual([]);
  });

  it('every link in the Markdown files resolves inside the clone', () => {
    const broken: string[] = [];
    for (const f of files.filter((x) => x.endsWith('.md'))) {
      const text = fs.readFileSync(path.join(clone, f), 'utf8');
      for (const m of text.matchAll(/\[[^\]]*\]\(([^)\s]+)\)/g)) {
        const link = m[1]!;
        if (/^(https?:|mailto:|#)/.test(link)) continue;
        const target = path.resolve(path.dirname(path.join(clone, f)), link.split('#')[0]!);
        if (path.relative(clone, target).startsWith('..') || !fs.existsSync(target))
          broken.push(`${f}: ${link}`);
      }
    }
    expect(broken).toEqual([]);
    // The README points to the architecture in the repository, not to a folder beside it.
    const readme = fs.readFileSync(path.join(clone, 'README.md'), 'utf8');
    expect(readme).toContain('](docs/ARCHITECTURE.md)');
    expect(readme).not.toMatch(/\.\.\/shared/);
  });

  it('test files that read the fixtures (the tiny GGUF model, transcripts) pass in the clone', async () => {
    // The clone gets the installed packages (linked, not copied); everything else is its own.
    fs.symlinkSync(path.join(repoRoot, 'node_modules'), path.join(clone, 'node_modules'), 'dir');
    const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
      execFile(
        process.execPath,
        [
          path.join(clone, 'node_modules/vitest/vitest.mjs'),
          'run',
          '--config',
          'test/vitest.config.ts',
          '--project',
          'unit',
          // The tiny GGUF (its loading tests; the generation ones take minutes on a busy box),
          // the feed and transcript fixtures.
          'test/unit/llm-runtime.test.ts',
          'test/unit/feed-parse.test.ts',
          'test/unit/transcripts.test.ts',
          '--reporter',
          'verbose',
          '-t',
          '^(?!llmUnderstand|warm reuse|generation|grammar|map-reduce|cancellation)',
        ],
        {
          cwd: clone,
          encoding: 'utf8',
          timeout: 240_000,
          env: { ...process.env, CI: '1', NO_COLOR: '1' },
        },
        (err, stdout, stderr) =>
          resolve({
            code: err ? ((err as { code?: number }).code ?? null) : 0,
            // eslint-disable-next-line no-control-regex
            out: (stdout + stderr).replace(/\x1b\[[0-9;]*m/g, ''),
          }),
      );
    });
    expect(r.code, r.out.slice(-3000)).toBe(0);
    expect(r.out).toMatch(/Test Files +3 passed/);
    expect(r.out).toMatch(/loads on the CPU when told to/);
  }, 300_000);
});
