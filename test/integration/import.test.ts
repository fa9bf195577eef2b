import fs from 'node:fs';
import path from 'node:path';
import { execFile, execFileSync } from 'node:child_process';
import { encoderPath } from '../helpers/encoder.ts';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../pipeline/engine/engine.ts';
import { App, openApp, defaultWorkflowsModule } from '../../pipeline/api/app.ts';
import { validated } from '../../pipeline/api/dispatch.ts';
import { childEnv, cliPath, tempDir } from '../helpers/env.ts';
import { makeAudio } from '../helpers/audio.ts';
import { pipelineEngine } from '../helpers/engine.ts';
import { installEmptyWhisper } from '../helpers/whisper-install.ts';

const FORMATS = ['mp3', 'm4a', 'wav', 'ogg', 'opus', 'flac', 'mp4', 'mkv'];
let folder: string;
beforeAll(() => {
  folder = tempDir('earshot-import-');
  for (const f of FORMATS)
    makeAudio(path.join(folder, 'shows'), `talk.${f}`, 2, {
      title: `Talk (${f})`,
      artist: 'Mara Quinn',
      album: 'Home recordings',
    });
  fs.writeFileSync(path.join(folder, 'shows', 'broken.mp3'), Buffer.alloc(4096, 7));
  fs.writeFileSync(path.join(folder, 'notes.txt'), 'not audio');
});

const engines: Engine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.stop(100)));
});

describe('local import', () => {
  it('imports every supported format from a folder, rejects the rest with reasons, and processes them', async () => {
    const ctx = await openApp(tempDir(), { registryModule: defaultWorkflowsModule });
    const app = validated(new App(ctx));
    await installEmptyWhisper(ctx.dataDir, ctx.db);
    const r = await app.importFiles([
      folder,
      path.join(folder, 'notes.txt'),
      path.join(folder, 'missing.mp3'),
    ]);
    expect(r.imported.map((i) => path.extname(i.path).slice(1)).sort()).toEqual([...FORMATS].sort());
    expect(r.imported.find((i) => i.path.endsWith('.mp3'))).toMatchObject({
      title: 'Talk (mp3)',
      durationMs: expect.any(Number),
    });
    expect(r.imported.every((i) => i.durationMs! > 1500 && i.durationMs! < 2600)).toBe(true);
    expect([...r.rejected].sort((a, b) => a.path.localeCompare(b.path))).toEqual([
      { path: path.join(folder, 'missing.mp3'), reason: 'there is no such file or folder' },
      { path: path.join(folder, 'notes.txt'), reason: '.txt is not an audio or video format Earshot reads' },
      {
        path: path.join(folder, 'shows', 'broken.mp3'),
        // Refused by its content (4 KB of one byte is nothing any audio format starts with).
        reason: 'its content is not audio or video',
      },
    ]);
    const eps = await app.episodes();
    expect(eps.every((e) => e.keySource === 'content-hash' && e.feedId === null)).toBe(true);

    const again = await app.importFiles([folder]);
    expect(again.imported).toEqual([]);
    expect(again.duplicates).toHaveLength(FORMATS.length);

    const engine = pipelineEngine(ctx.db, ctx.dataDir);
    engines.push(engine);
    engine.start();
    await engine.untilIdle();
    const statuses = ctx.db.prepare('SELECT status, count(*) AS n FROM workflows GROUP BY status').all();
    expect(statuses).toEqual([{ status: 'completed', n: FORMATS.length }]);
    // Every format was decoded and went through Whisper (an empty model: no words, real audio).
    const heard = ctx.db
      .prepare(`SELECT output FROM steps WHERE name = 'transcribe' AND status = 'completed'`)
      .all() as { output: string }[];
    expect(heard).toHaveLength(FORMATS.length);
    for (const h of heard) {
      const seconds = (JSON.parse(h.output) as { audioMs: number }).audioMs / 1000;
      expect(seconds).toBeGreaterThan(1.8);
      expect(seconds).toBeLessThan(2.6);
    }
    expect(ctx.db.prepare(`SELECT count(*) AS n FROM artifacts WHERE kind = 'transcript'`).get()).toEqual({
      n: FORMATS.length,
    });
    // The library holds its own copy: the original can go.
    const copies = ctx.db.prepare(`SELECT path FROM artifacts WHERE kind = 'audio'`).all() as {
      path: string;
    }[];
    expect(copies.every((c) => c.path.startsWith(path.join(ctx.dataDir, 'media')))).toBe(true);
  });

  it('keeps the chapters embedded in a file and stores them when the episode is processed', async () => {
    const dir = tempDir('earshot-chapters-');
    const meta = path.join(dir, 'meta.txt');
    fs.writeFileSync(
      meta,
      ';FFMETADATA1\ntitle=Chaptered talk\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=1000\ntitle=Opening\n' +
        '[CHAPTER]\nTIMEBASE=1/1000\nSTART=1000\nEND=2000\ntitle=Main part\n',
    );
    const file = path.join(dir, 'chaptered.m4a');
    execFileSync(encoderPath(), [
      '-hide_banner',
      '-loglevel',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      'sine=frequency=440:duration=2',
      '-i',
      meta,
      '-map_metadata',
      '1',
      '-map_chapters',
      '1',
      '-c:a',
      'aac',
      file,
    ]);
    const ctx = await openApp(tempDir(), { registryModule: defaultWorkflowsModule });
    const app = validated(new App(ctx));
    const r = await app.importFiles([file]);
    expect(r.imported).toEqual([expect.objectContaining({ title: 'Chaptered talk' })]);
    const engine = pipelineEngine(ctx.db, ctx.dataDir);
    engines.push(engine);
    engine.start();
    await engine.untilIdle();
    const chapters = ctx.db.prepare(`SELECT path FROM artifacts WHERE kind = 'chapters'`).get() as {
      path: string;
    };
    expect(JSON.parse(fs.readFileSync(chapters.path, 'utf8')).chapters).toEqual([
      { startMs: 0, title: 'Opening' },
      { startMs: 1000, title: 'Main part' },
    ]);
  });

  it('earshot import: a bad path is one clear line on stderr and a non-zero exit', async () => {
    const dir = tempDir();
    const run = (args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
        execFile(
          process.execPath,
          [cliPath, '--data-dir', dir, ...args],
          { env: childEnv({ EARSHOT_WORKFLOWS_MODULE: '' }) },
          (err, stdout, stderr) =>
            resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        ),
      );
    const bad = await run(['import', path.join(folder, 'nope.mp3')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe(
      `earshot: Nothing was imported: ${path.join(folder, 'nope.mp3')} — there is no such file or folder.\n`,
    );
    const ok = await run(['--json', 'import', path.join(folder, 'shows', 'talk.flac')]);
    expect(ok.stderr).toBe('');
    expect(JSON.parse(ok.stdout).imported).toHaveLength(1);
  });

  it('skips what it cannot read (dangling links, loops, FIFOs, links out of the folder), names each, and imports the rest', async () => {
    if (process.platform === 'win32') return;
    const dir = tempDir('earshot-odd-');
    const outside = tempDir('earshot-outside-');
    fs.copyFileSync(path.join(folder, 'shows', 'talk.mp3'), path.join(dir, 'good.mp3'));
    fs.copyFileSync(path.join(folder, 'shows', 'talk.m4a'), path.join(outside, 'elsewhere.m4a'));
    fs.symlinkSync(path.join(dir, 'gone.mp3'), path.join(dir, 'dangling.mp3'));
    fs.symlinkSync(path.join(dir, 'loop-b.mp3'), path.join(dir, 'loop-a.mp3'));
    fs.symlinkSync(path.join(dir, 'loop-a.mp3'), path.join(dir, 'loop-b.mp3'));
    fs.symlinkSync(path.join(outside, 'elsewhere.m4a'), path.join(dir, 'out.m4a'));
    fs.symlinkSync(dir, path.join(dir, 'again'));
    fs.symlinkSync(outside, path.join(dir, 'outside-folder'));
    fs.mkdirSync(path.join(dir, 'inner'));
    fs.symlinkSync(path.join(dir, 'good.mp3'), path.join(dir, 'inner', 'same.mp3'));
    execFileSync('mkfifo', [path.join(dir, 'pipe.mp3')]);
    // Random bytes named .mp3 pass a tag reader's guess (ADTS frames appear by chance); not the content check.
    fs.writeFileSync(
      path.join(dir, 'noise.mp3'),
      Buffer.from(Array.from({ length: 65536 }, (_, i) => (i * 7919 + 13) % 251)),
    );
    fs.writeFileSync(path.join(dir, 'page.mp3'), '<!doctype html><html><body>Not found</body></html>');

    const ctx = await openApp(tempDir(), { registryModule: defaultWorkflowsModule });
    const app = new App(ctx);
    const r = await Promise.race([
      app.importFiles([dir]),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('import hung')), 20_000)),
    ]);
    expect(r.imported.map((i) => path.basename(i.path))).toEqual(['good.mp3']);
    // The link inside the folder to a file inside it is the same content: a duplicate, not an error.
    const reasons = Object.fromEntries(r.rejected.map((x) => [path.relative(dir, x.path), x.reason]));
    expect(reasons).toEqual({
      'dangling.mp3': 'it is a link to something that is not there',
      'loop-a.mp3': 'it is a link that loops back on itself',
      'loop-b.mp3': 'it is a link that loops back on itself',
      'out.m4a': 'it is a link to a place outside the folder you chose',
      'outside-folder': 'it is a link to a place outside the folder you chose',
      'pipe.mp3': 'it is a pipe (FIFO), not a file',
      'noise.mp3': 'its content is not audio or video',
      'page.mp3': expect.stringMatching(/^its content is not audio or video/),
    });
    expect(r.duplicates.map((d) => path.relative(dir, d.path))).toEqual(['inner/same.mp3']);

    // The same on the command line: the good file is imported, each skip named, exit 0.
    const cli = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(
        process.execPath,
        [cliPath, '--data-dir', tempDir(), 'import', dir],
        { env: childEnv({ EARSHOT_WORKFLOWS_MODULE: '' }), timeout: 30_000 },
        (err, stdout, stderr) =>
          resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      ),
    );
    expect(cli.code).toBe(0);
    expect(cli.stdout).toMatch(/^Imported 1 file\./);
    expect(cli.stdout).toContain(
      `not imported: ${path.join(dir, 'dangling.mp3')} — it is a link to something that is not there`,
    );
    expect(cli.stdout).toContain(
      `not imported: ${path.join(dir, 'pipe.mp3')} — it is a pipe (FIFO), not a file`,
    );
    expect(cli.stdout).not.toMatch(/ENOENT|ELOOP/);
  });
});
