/**
 * Input that must be refused early, and output that must be made safe, through the command line
 * as a person runs it: feed text that tries to steer the terminal, damaged OPML, an export to a
 * folder, a library whose database was lost.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, databasePath } from '../../pipeline/store/index.ts';
import { cleanTitle, terminalSafe, MAX_TITLE } from '../../pipeline/ingest/clean-text.ts';
import { childEnv, cliPath, tempDir } from '../helpers/env.ts';
import { startFeedServer, type FeedServer } from '../helpers/feed-server.ts';

let server: FeedServer;
beforeAll(async () => {
  server = await startFeedServer();
});
afterAll(() => server.close());

function cli(dataDir: string, args: string[]) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
    execFile(
      process.execPath,
      [cliPath, '--data-dir', dataDir, ...args],
      { env: childEnv({ EARSHOT_WORKFLOWS_MODULE: '' }), timeout: 60_000, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  );
}

// What a hostile feed puts in its text: clear the screen, retitle the window, recolour, ring the
// bell, move the cursor, reverse the line, a C1 CSI, and a carriage return that hides what came before.
const HOSTILE =
  'Clean\u001b[2J\u001b]0;pwned\u0007 \u001b[31mRed\u001b[0m\u0007 \u202Egnp.exe\u202C \u009b31m \u001b[1A\rX';
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const hostileLeft = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

describe('text from feeds', () => {
  it('strips control characters, escapes and bidi overrides, and caps titles', () => {
    expect(cleanTitle(HOSTILE)).toBe('Clean Red gnp.exe   X');
    expect(cleanTitle('a'.repeat(1_000_000))).toHaveLength(MAX_TITLE);
    expect(cleanTitle('a'.repeat(1_000_000)).endsWith('…')).toBe(true);
    // A cut never splits a character made of two UTF-16 units.
    expect([...cleanTitle('😀'.repeat(600))].every((c) => c === '😀' || c === '…')).toBe(true);
    expect(cleanTitle('مرحبا \u200Fworld')).toBe('مرحبا \u200Fworld');
    expect(terminalSafe('line one\r\nline two\rover')).toBe('line one\nline two\nover');
  });

  it('a title with ANSI escapes prints without them, stored or shown, and a 1 MB title is capped', async () => {
    const dataDir = tempDir();
    server.route('/hostile.xml', {
      body: `<?xml version="1.0"?><rss version="2.0"><channel><title>${HOSTILE}</title>
        <item><guid>h-1</guid><title>Ep &#27;[31mone&#27;[0m ${HOSTILE}</title><pubDate>Mon, 02 Mar 2026 10:00:00 GMT</pubDate>
          <enclosure url="/h1.mp3" type="audio/mpeg" length="1000"/></item>
        <item><guid>h-2</guid><title>${'x'.repeat(1024 * 1024)}</title><pubDate>Mon, 09 Mar 2026 10:00:00 GMT</pubDate>
          <enclosure url="/h2.mp3" type="audio/mpeg" length="1000"/></item>
      </channel></rss>`,
    });
    const sub = await cli(dataDir, ['subscribe', server.url('/hostile.xml'), '--backlog', 'new']);
    expect(sub.stderr).toBe('');
    expect(sub.code).toBe(0);
    const feeds = await cli(dataDir, ['feeds']);
    const episodes = await cli(dataDir, ['episodes']);
    for (const out of [sub.stdout, feeds.stdout, episodes.stdout]) {
      expect(out).not.toMatch(hostileLeft);
    }
    // An escape written as an XML character reference (&#27;) is removed whole, not left as "[31m".
    expect(episodes.stdout).toContain('Ep one Clean Red gnp.exe');
    // Stored clean, not only shown clean.
    const db = openDatabase(databasePath(dataDir));
    const titles = (db.prepare('SELECT title FROM episodes ORDER BY id').all() as { title: string }[]).map(
      (r) => r.title,
    );
    expect(titles.every((t) => !hostileLeft.test(t))).toBe(true);
    expect(Math.max(...titles.map((t) => [...t].length))).toBe(MAX_TITLE);
    expect((db.prepare('SELECT title FROM feeds').get() as { title: string }).title).toBe(
      'Clean Red gnp.exe   X',
    );
    // A library an older Earshot filled with raw feed text is shown safely too, in text and JSON.
    db.prepare('UPDATE episodes SET title = ? WHERE id = (SELECT min(id) FROM episodes)').run(HOSTILE);
    db.close();
    const old = await cli(dataDir, ['episodes']);
    expect(old.stdout).not.toMatch(hostileLeft);
    const json = await cli(dataDir, ['--json', 'episodes']);
    expect(json.stdout).not.toMatch(hostileLeft);
    expect((JSON.parse(json.stdout) as { title: string }[]).map((e) => e.title)).toContain(HOSTILE);
  }, 60_000);
});

describe('other files', () => {
  it('a damaged OPML file is an error (exit 1, one line), and nothing is added', async () => {
    const dataDir = tempDir();
    const file = path.join(tempDir('earshot-opml-'), 'broken.opml');
    fs.writeFileSync(
      file,
      `<?xml version="1.0"?><opml version="2.0"><body><outline text="A" xmlUrl="${server.url('/a.xml')}"/><outline text="B" xmlUrl=`,
    );
    const r = await cli(dataDir, ['opml', 'import', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^earshot: This OPML file is damaged \(line 1: .+\); nothing was imported\. Export it again from your podcast app\.\n$/,
    );
    expect(r.stdout).toBe('');
    expect((await cli(dataDir, ['--json', 'feeds'])).stdout.trim()).toBe('[]');
  });

  it('opml export writes through a temporary file beside the target and cleans it up on failure', async () => {
    const dataDir = tempDir();
    const out = tempDir('earshot-export-');
    fs.mkdirSync(path.join(out, 'a-folder'));
    const toFolder = await cli(dataDir, ['opml', 'export', path.join(out, 'a-folder')]);
    expect(toFolder.code).toBe(1);
    expect(toFolder.stderr).toBe(
      `earshot: ${path.join(out, 'a-folder')} is a folder; name a file to write to, e.g. ${path.join(out, 'a-folder', 'earshot.opml')}.\n`,
    );
    const missing = await cli(dataDir, ['opml', 'export', path.join(out, 'nowhere', 'subs.opml')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(
      /the folder .*nowhere does not exist\. Nothing was written; choose another place\.\n$/,
    );
    if (process.platform !== 'win32' && process.getuid?.() !== 0) {
      fs.mkdirSync(path.join(out, 'locked'), { mode: 0o500 });
      const locked = await cli(dataDir, ['opml', 'export', path.join(out, 'locked', 'subs.opml')]);
      expect(locked.stderr).toMatch(/not allowed to write there/);
    }
    const ok = await cli(dataDir, ['opml', 'export', path.join(out, 'subs.opml')]);
    expect(ok.code).toBe(0);
    expect(fs.readFileSync(path.join(out, 'subs.opml'), 'utf8')).toMatch(/^<\?xml/);
    // No temporary file left anywhere.
    expect(fs.readdirSync(out, { recursive: true }).filter((f) => String(f).includes('.tmp'))).toEqual([]);
  });

  it('a database that is empty while media exists is reported, not silently replaced', async () => {
    const dataDir = tempDir();
    fs.mkdirSync(path.join(dataDir, 'media'));
    for (let i = 0; i < 30; i++) fs.writeFileSync(path.join(dataDir, 'media', `ep-${i}.mp3`), 'x');
    fs.writeFileSync(databasePath(dataDir), '');
    const r = await cli(dataDir, ['status']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `earshot: The library database ${databasePath(dataDir)} is empty, but ${path.join(dataDir, 'media')} holds 30 files of an earlier library. Earshot did not start a new library over them. Restore earshot.db from a backup, or move the folder aside to start afresh.\n`,
    );
    expect(fs.statSync(databasePath(dataDir)).size).toBe(0);
    fs.rmSync(databasePath(dataDir));
    expect((await cli(dataDir, ['status'])).stderr).toMatch(/earshot\.db is missing, but .* holds 30 files/);
    // A new library (no media yet) starts as before.
    expect((await cli(tempDir(), ['status'])).code).toBe(0);
  });
});
