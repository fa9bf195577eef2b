/**
 * Files reaching the library without a path the user typed: a browser's upload to `earshot serve`
 * (POST /upload behind the token, streamed with a size cap, content sniffed, imported through
 * importFiles, nothing kept that was not imported) and the watch folder (files that appear are
 * imported once written; partial downloads and other files are not).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { App, openApp, type AppContext } from '../../pipeline/api/app.ts';
import { serveApi, uploadName, type RunningServer } from '../../pipeline/api/http-server.ts';
import { uploadsDir } from '../../pipeline/store/paths.ts';
import { WatchFolder } from '../../pipeline/ingest/watch-folder.ts';
import type { ImportProgressEvent, ImportView } from '../../pipeline/api/contract.ts';
import { fixtureWorkflowsModule, tempDir } from '../helpers/env.ts';
import { makeAudio } from '../helpers/audio.ts';

let ctx: AppContext | null = null;
let server: RunningServer | null = null;
let watcher: WatchFolder | null = null;
afterEach(async () => {
  await watcher?.stop();
  watcher = null;
  await server?.close();
  server = null;
  ctx?.db.close();
  ctx = null;
});

const leftIn = (dir: string) => (fs.existsSync(dir) ? fs.readdirSync(dir) : []);

describe('uploads to earshot serve', () => {
  it('imports an uploaded file behind the token, refuses what is too large, not audio, or unnamed, and keeps nothing it did not import', async () => {
    const dataDir = tempDir();
    ctx = await openApp(dataDir, { registryModule: fixtureWorkflowsModule });
    const app = new App(ctx);
    const dir = uploadsDir(dataDir);
    const running = await serveApi({ api: app, events: app.events, uploads: { dir, maxBytes: 200_000 } });
    server = running;
    const audio = fs.readFileSync(makeAudio(tempDir(), 'memo.mp3', 2, { title: 'Upload memo' }));
    const send = (body: Buffer | string, headers: Record<string, string>, auth = true) =>
      fetch(`${running.url}/upload`, {
        method: 'POST',
        headers: {
          'content-type': 'application/octet-stream',
          ...(auth ? { authorization: `Bearer ${running.token}` } : {}),
          ...headers,
        },
        body,
      });

    // No token: refused before a byte is kept.
    const anon = await send(audio, { 'x-earshot-file-name': 'memo.mp3' }, false);
    expect(anon.status).toBe(401);
    expect(leftIn(dir)).toEqual([]);

    // A name with folders in it is only a name: kept inside its own upload folder, then imported.
    const ok = await send(audio, { 'x-earshot-file-name': encodeURIComponent('../../memo.mp3') });
    expect(ok.status).toBe(200);
    const view = (await ok.json()) as ImportView;
    expect(view.imported).toHaveLength(1);
    expect(view.imported[0]!.title).toBe('Upload memo');
    const kept = view.imported[0]!.path;
    expect(path.dirname(path.dirname(kept))).toBe(dir);
    expect(path.basename(kept)).toBe('memo.mp3');
    expect(fs.existsSync(kept)).toBe(true);

    // The same bytes again: a duplicate, and its upload is not kept.
    const again = (await (await send(audio, { 'x-earshot-file-name': 'copy.mp3' })).json()) as ImportView;
    expect(again.imported).toEqual([]);
    expect(again.duplicates).toEqual([
      expect.objectContaining({ episodeId: view.imported[0]!.episodeId, title: 'Upload memo' }),
    ]);
    expect(leftIn(dir)).toHaveLength(1);

    // Content is sniffed, not trusted from the name.
    const fake = (await (
      await send('just some text, not audio', { 'x-earshot-file-name': 'fake.mp3' })
    ).json()) as ImportView;
    expect(fake.imported).toEqual([]);
    expect(fake.rejected).toHaveLength(1);
    expect(leftIn(dir)).toHaveLength(1);

    // Too large (streamed past the cap, no length declared up front): 413, nothing kept.
    const big = Buffer.alloc(300_000, 1);
    const stream = new ReadableStream({
      start(c) {
        for (let i = 0; i < big.length; i += 50_000) c.enqueue(big.subarray(i, i + 50_000));
        c.close();
      },
    });
    const tooBig = await fetch(`${running.url}/upload`, {
      method: 'POST',
      headers: {
        'content-type': 'application/octet-stream',
        authorization: `Bearer ${running.token}`,
        'x-earshot-file-name': 'long.mp3',
      },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(tooBig.status).toBe(413);
    expect(((await tooBig.json()) as { error: string }).error).toMatch(/larger than/);
    expect(leftIn(dir)).toHaveLength(1);

    // Not a type Earshot reads, no name, or not a raw body: refused in words.
    const notAudio = await send('x', { 'x-earshot-file-name': 'notes.pdf' });
    expect(notAudio.status).toBe(415);
    expect(((await notAudio.json()) as { error: string }).error).toMatch(/not an audio or video file/);
    expect((await send('x', {})).status).toBe(400);
    const form = await fetch(`${running.url}/upload`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${running.token}`,
        'content-type': 'text/plain',
        'x-earshot-file-name': 'a.mp3',
      },
      body: 'x',
    });
    expect(form.status).toBe(415);
    expect(leftIn(dir)).toHaveLength(1);
  });

  it('makes a safe file name of what the page sent', () => {
    expect(uploadName(encodeURIComponent('..\\..\\evil.mp3'))).toBe('evil.mp3');
    expect(uploadName(encodeURIComponent('a\u0000b.mp3'))).toBe('a_b.mp3');
    expect(uploadName('%E0%A4%A')).toBeNull();
    // Never a name that climbs out of its folder.
    expect(['_', null]).toContain(uploadName(encodeURIComponent('..')));
    expect(uploadName(encodeURIComponent('a/../../b.mp3'))).toBe('b.mp3');
    expect(uploadName(undefined)).toBeNull();
  });
});

describe('the watch folder', () => {
  it('imports audio that appears (in sub-folders too) once written, and leaves partial downloads and other files alone', async () => {
    const dataDir = tempDir();
    ctx = await openApp(dataDir, { registryModule: fixtureWorkflowsModule });
    const app = new App(ctx);
    const events: ImportProgressEvent[] = [];
    app.events.on('onImportProgress', (e) => events.push(e));
    const folder = tempDir();
    watcher = new WatchFolder({
      importFiles: (paths) => app.importPaths(paths, { watchFolder: true }),
      known: () => new Map(),
      debounceMs: 100,
      stableMs: 300,
    });
    await watcher.watch(folder);
    expect(watcher.status()).toEqual({ watching: true, error: null });
    const src = tempDir();
    makeAudio(src, 'one.mp3', 2, { title: 'Watched one' });
    makeAudio(src, 'two.wav', 1, { title: 'Watched two' });
    fs.mkdirSync(path.join(folder, 'Voice memos'));
    fs.copyFileSync(path.join(src, 'one.mp3'), path.join(folder, 'one.mp3'));
    fs.copyFileSync(path.join(src, 'two.wav'), path.join(folder, 'Voice memos', 'two.wav'));
    fs.copyFileSync(path.join(src, 'one.mp3'), path.join(folder, 'three.mp3.crdownload'));
    fs.writeFileSync(path.join(folder, 'notes.txt'), 'not audio');
    await vi.waitFor(
      async () => {
        const eps = await app.episodes({});
        expect(eps.map((e) => e.title).sort()).toEqual(['Watched one', 'Watched two']);
      },
      { timeout: 20_000, interval: 200 },
    );
    await watcher.settled();
    const looked = events
      .filter((e) => e.file)
      .map((e) => [path.basename(e.file!.path), e.file!.outcome, e.watchFolder]);
    expect(looked.sort()).toEqual([
      ['one.mp3', 'imported', true],
      ['two.wav', 'imported', true],
    ]);

    // The folder goes away: it says so (Settings shows it).
    fs.rmSync(folder, { recursive: true, force: true });
    await vi.waitFor(() => expect(watcher!.status()?.watching).toBe(false), { timeout: 10_000 });
    expect(watcher.status()?.error).toMatch(/removed|not there/);
  });
});
