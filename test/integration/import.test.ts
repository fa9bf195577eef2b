import fs from 'node:fs';
import path from 'node:path';
import { execFile, execFileSync } from 'node:child_process';
import { ffmpegPath } from '../../pipeline/ingest/ffmpeg.ts';
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
        reason: expect.stringMatching(/^it (could not be read as audio|holds no audio)/),
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
    execFileSync(ffmpegPath(), [
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
});
