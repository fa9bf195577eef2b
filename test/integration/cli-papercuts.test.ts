import http from 'node:http';
import type net from 'node:net';
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, databasePath } from '../../pipeline/store/index.ts';
import { cliPath, tempDir } from '../helpers/env.ts';
import { runCli } from '../helpers/cli.ts';
import pkg from '../../package.json' with { type: 'json' };

/** What a newcomer tripped over at the command line. */
let busy: http.Server;
let busyPort = 0;
beforeAll(async () => {
  busy = http.createServer((_req, res) => res.end('someone else'));
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
  busyPort = (busy.address() as net.AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => busy.close(() => r())));

function shell(command: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'bash',
      ['-o', 'pipefail', '-c', command],
      { encoding: 'utf8', timeout: 60_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr }),
    );
  });
}

describe('command-line papercuts', () => {
  it('serve on a busy port exits 1 at once and says what to do; nothing is left running', async () => {
    const dir = tempDir();
    const r = await runCli(
      ['serve', '--port', String(busyPort)],
      { EARSHOT_DATA_DIR: dir },
      { timeoutMs: 20_000 },
    );
    // It exits by itself (a process kept alive by workers would be killed at the timeout: code null).
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `earshot: Port ${busyPort} on 127.0.0.1 is taken by another program (another \`earshot serve\`?). Choose another with --port N, or --port 0 for any free one.\n`,
    );
    // No engine was started for a server that never was.
    const db = openDatabase(databasePath(dir), { readonly: true });
    expect(db.prepare('SELECT count(*) AS n FROM engines').get()).toEqual({ n: 0 });
    db.close();
  });

  it('ends quietly when the reader of its output goes away (| head)', async () => {
    const dir = tempDir();
    const db = openDatabase(databasePath(dir));
    db.prepare(
      `INSERT INTO feeds (id, url, title, created_at) VALUES (1, 'http://x/feed', 'Big show', 0)`,
    ).run();
    const add = db.prepare(
      `INSERT INTO episodes (feed_id, key, title, status, created_at, published_at) VALUES (1, ?, ?, 'listed', 0, ?)`,
    );
    db.transaction(() => {
      for (let i = 0; i < 3000; i++)
        add.run(`k${i}`, `Episode ${i}, with a title long enough to fill a pipe`, i);
    })();
    db.close();
    // Far more than a pipe holds: the writer meets the closed pipe.
    const r = await shell(`node ${cliPath} --data-dir ${dir} episodes --limit 3000 | head -1`);
    expect(r).toEqual({ code: 0, stdout: 'ID    FEED  PUBLISHED   STATUS  TITLE\n', stderr: '' });
    const feeds = await shell(`node ${cliPath} --data-dir ${dir} feeds | head -1`);
    expect(feeds).toMatchObject({ code: 0, stderr: '' });
    expect(feeds.stdout).toMatch(/^ID +TITLE/);
  });

  it('--version, and exit codes: 1 for a bad input whichever parser finds it, 2 for usage', async () => {
    const env = { EARSHOT_DATA_DIR: tempDir() };
    expect(await runCli(['--version'], env)).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: '' });
    const bad = [
      ['search', 'x', '--limit', 'abc'],
      ['search', 'x', '--from', '2021-13-45'],
      ['process', 'abc'],
      ['skip', 'x'],
      ['episodes', '--feed', 'x'],
      ['subscribe', 'http://127.0.0.1:9/feed', '--backlog', 'since:2021-02-30'],
    ];
    const usage = [['bogus'], ['search'], ['feeds', '--nope'], ['retry']];
    const codes = await Promise.all(
      [...bad, ...usage].map(async (args) => [args.join(' '), (await runCli(args, env)).code]),
    );
    expect(codes).toEqual([...bad.map((a) => [a.join(' '), 1]), ...usage.map((a) => [a.join(' '), 2])]);
    const impossible = await runCli(['search', 'x', '--from', '2021-13-45'], env);
    expect(impossible.stderr).toBe('earshot: 2021-13-45 is an impossible date: there is no month 13.\n');
  });
});
