import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openDatabase, databasePath } from '../../pipeline/store/index.ts';
import { ModelManager, activeModel, resolveInstalledModel } from '../../models/manager.ts';
import type { CatalogEntry } from '../../models/catalog.ts';
import { App, openApp } from '../../pipeline/api/app.ts';
import { validated } from '../../pipeline/api/dispatch.ts';
import type { ModelProgressEvent } from '../../pipeline/api/contract.ts';
import { childEnv, cliPath, fixtureWorkflowsModule, tempDir } from '../helpers/env.ts';
import { startModelServer, type ModelServer } from '../helpers/model-server.ts';

let server: ModelServer;
beforeAll(async () => {
  server = await startModelServer();
});
afterAll(() => server.close());

const MB = 1024 * 1024;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A few MB that whisper.cpp's loader would recognise as a ggml file by its magic. */
function ggml(bytes = 4 * MB): Buffer {
  const b = randomBytes(bytes);
  b.writeUInt32LE(0x67676d6c, 0);
  return b;
}

function gguf(bytes = 256 * 1024): Buffer {
  const b = randomBytes(bytes);
  b.write('GGUF', 0, 'ascii');
  return b;
}

let routes = 0;
/** A fresh route on the server and the catalog entry that points at it. */
function serve(
  body: Buffer,
  route: { etag?: string | null; ranges?: boolean; cutAfter?: number; holdAfter?: number } = {},
  entry: Partial<CatalogEntry> = {},
): { entry: CatalogEntry; path: string } {
  const id = `test-${++routes}`;
  const p = `/models/${id}/ggml-${id}.bin`;
  server.route(p, { body, etag: route.etag === undefined ? `"v1-${id}"` : route.etag, ...route });
  return {
    path: p,
    entry: {
      id,
      kind: 'whisper',
      file: `ggml-${id}.bin`,
      url: server.url(p),
      bytes: body.length,
      sha256: sha256(body),
      sha1: null,
      licence: 'MIT',
      source: 'test',
      label: `Test model ${id}`,
      quality: 'for tests',
      memoryBytes: null,
      ...entry,
    },
  };
}

function setup(catalog: CatalogEntry[], extra: Partial<ConstructorParameters<typeof ModelManager>[0]> = {}) {
  const dataDir = tempDir('earshot-models-');
  const db = openDatabase(databasePath(dataDir));
  // env {}: the tests' own EARSHOT_MODELS_DIR (real models) must not be touched.
  const manager = new ModelManager({ dataDir, db, env: {}, catalog, progressIntervalMs: 0, ...extra });
  return { dataDir, db, manager, dir: manager.dir };
}

/** Every regular file under a folder (relative paths). */
function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => fs.statSync(path.join(dir, f)).isFile())
    .sort();
}

describe('model manager: install', () => {
  it('downloads a catalog model with progress, verifies its sha256 and installs it atomically', async () => {
    const body = ggml();
    const { entry } = serve(body);
    const { manager, dir } = setup([entry]);
    const progress: { bytes: number; total: number | null }[] = [];
    const r = await manager.install(entry.id, { onProgress: (p) => progress.push(p) });
    expect(r.message).toMatch(/^Installed test-\d+ \(4\.0 MB, downloaded; checksum verified\)/);
    expect(r.model).toMatchObject({ id: entry.id, installed: true, verified: true, source: 'catalog' });
    expect(r.model.path).toBe(path.join(dir, entry.id, entry.file));
    expect(sha256(fs.readFileSync(r.model.path!))).toBe(entry.sha256);
    expect(progress.length).toBeGreaterThan(2);
    expect(progress.at(-1)).toEqual({ id: entry.id, bytes: body.length, total: body.length });
    for (let i = 1; i < progress.length; i++)
      expect(progress[i]!.bytes).toBeGreaterThanOrEqual(progress[i - 1]!.bytes);
    // Nothing left over: no part, no metadata, no lock.
    expect(filesUnder(dir)).toEqual([path.join(entry.id, entry.file)]);
    // No whisper model was active: the one just installed is chosen, and the message says so.
    expect(r.message).toMatch(/ It is now the active whisper model\.$/);
    const listed = manager.list();
    expect(listed[0]).toMatchObject({ id: entry.id, installed: true, active: true, bytes: body.length });
    // A second install is a no-op, not a second download.
    const again = await manager.install(entry.id);
    expect(again.message).toMatch(/already installed/);
    expect(server.requests(new URL(entry.url).pathname)).toHaveLength(1);
  });

  it('a connection cut mid-body is resumed by the next install with a Range request', async () => {
    const body = ggml();
    const { entry, path: p } = serve(body, { cutAfter: Math.floor(2.5 * MB) });
    const { manager, dir } = setup([entry]);
    await expect(manager.install(entry.id)).rejects.toThrow(
      /download of test-\d+ was interrupted after .*What arrived is kept: run `earshot models install test-\d+` again to resume/,
    );
    const part = path.join(dir, '.partial', `${entry.id}.part`);
    const have = fs.statSync(part).size;
    expect(have).toBeGreaterThan(0);
    expect(have).toBeLessThan(body.length);
    expect(manager.list()[0]).toMatchObject({ id: entry.id, installed: false, partialBytes: have });

    const r = await manager.install(entry.id);
    expect(r.message).toMatch(/resumed at/);
    const reqs = server.requests(p);
    expect(reqs).toHaveLength(2);
    expect(reqs[1]).toMatchObject({ range: `bytes=${have}-`, ifRange: `"v1-${entry.id}"`, status: 206 });
    expect(server.sentBytes(p)).toBeLessThan(2 * body.length);
    expect(fs.readFileSync(r.model.path!).equals(body)).toBe(true);
    expect(filesUnder(dir)).toEqual([path.join(entry.id, entry.file)]);
  });

  it('a server that cannot resume: the next attempt starts over cleanly', async () => {
    const body = ggml();
    const { entry, path: p } = serve(body, { ranges: false, cutAfter: 3 * MB });
    const { manager } = setup([entry]);
    await expect(manager.install(entry.id)).rejects.toThrow(/interrupted/);
    const r = await manager.install(entry.id);
    expect(server.requests(p).map((q) => q.status)).toEqual([200, 200]);
    expect(server.requests(p)[1]!.range).toMatch(/^bytes=\d+-$/);
    expect(fs.readFileSync(r.model.path!).equals(body)).toBe(true);
    expect(r.model.verified).toBe(true);
  });

  it('an ETag that changed between attempts starts the download over instead of splicing', async () => {
    const first = ggml();
    const second = ggml();
    const { entry, path: p } = serve(first, { cutAfter: 2 * MB });
    const { manager, db, dataDir } = setup([entry]);
    await expect(manager.install(entry.id)).rejects.toThrow(/interrupted/);
    // The publisher replaced the file (and the catalog follows it).
    server.route(p, { body: second, etag: '"v2"' });
    const updated = { ...entry, sha256: sha256(second) };
    const m2 = new ModelManager({ dataDir, db, env: {}, catalog: [updated] });
    const r = await m2.install(entry.id);
    const reqs = server.requests(p);
    expect(reqs[1]).toMatchObject({ ifRange: `"v1-${entry.id}"`, status: 200 });
    expect(fs.readFileSync(r.model.path!).equals(second)).toBe(true);

    // A broken server that ignores If-Range and sends the new version's bytes as a 206 is caught
    // by the ETag check: Earshot starts over rather than splice two versions.
    const third = ggml();
    const s = serve(first, { cutAfter: 2 * MB });
    const { manager: m3, dataDir: d3, db: db3 } = setup([s.entry]);
    await expect(m3.install(s.entry.id)).rejects.toThrow(/interrupted/);
    server.route(s.path, { body: third, etag: '"v3"', ignoreIfRange: true });
    const m4 = new ModelManager({
      dataDir: d3,
      db: db3,
      env: {},
      catalog: [{ ...s.entry, sha256: sha256(third) }],
    });
    const r2 = await m4.install(s.entry.id);
    expect(server.requests(s.path).map((q) => [q.status, q.range === undefined])).toEqual([
      [200, true],
      [206, false],
      [200, true],
    ]);
    expect(fs.readFileSync(r2.model.path!).equals(third)).toBe(true);
  });

  it('a wrong sha256: a clear error, nothing installed, no file left in the models folder', async () => {
    const body = ggml();
    const { entry } = serve(body, {}, { sha256: sha256(Buffer.from('something else')) });
    const { manager, dir } = setup([entry]);
    const err = await manager.install(entry.id).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(
      /^The downloaded test-\d+ is not the published file \(sha256 [0-9a-f]{12}… instead of [0-9a-f]{12}…\): it was damaged on the way or the server sent something else\. Earshot deleted it and installed nothing\. Run `earshot models install test-\d+` to download it again/,
    );
    expect(manager.list()[0]).toMatchObject({ installed: false, partialBytes: null });
    expect(filesUnder(dir)).toEqual([]);
  });

  it('a catalog entry without sha256 is verified by its size, and says so; a size mismatch is refused', async () => {
    const body = ggml(2 * MB);
    const { entry } = serve(body, {}, { sha256: null });
    const { manager } = setup([entry]);
    const r = await manager.install(entry.id);
    expect(r.model.verified).toBe('size-only');
    expect(r.message).toMatch(/publishes no checksum for it, so only its size was checked/);

    const wrong = serve(body, {}, { sha256: null, bytes: body.length + 1 });
    const { manager: m2, dir } = setup([wrong.entry]);
    await expect(m2.install(wrong.entry.id)).rejects.toThrow(
      /offers test-\d+ as 2097152 bytes, but the catalog says it is 2097153 bytes/,
    );
    expect(filesUnder(dir)).toEqual([]);
  });

  it('an abort through the AbortSignal leaves a .part that the next install resumes', async () => {
    const body = ggml();
    const hold = Math.floor(1.5 * MB);
    const { entry, path: p } = serve(body, { holdAfter: hold });
    const { manager, dir } = setup([entry]);
    const ac = new AbortController();
    const part = path.join(dir, '.partial', `${entry.id}.part`);
    const running = manager.install(entry.id, { signal: ac.signal });
    await vi.waitFor(() => expect(fs.statSync(part, { throwIfNoEntry: false })?.size).toBe(hold), {
      timeout: 10_000,
    });
    ac.abort();
    await expect(running).rejects.toMatchObject({ name: 'AbortError' });
    expect(fs.statSync(part).size).toBe(hold);
    expect(fs.existsSync(`${part}.json`)).toBe(true);
    expect(fs.existsSync(path.join(dir, '.partial', `${entry.id}.lock`))).toBe(false);

    server.route(p, { body, etag: `"v1-${entry.id}"` });
    const r = await manager.install(entry.id);
    expect(server.requests(p)[1]).toMatchObject({ range: `bytes=${hold}-`, status: 206 });
    expect(fs.readFileSync(r.model.path!).equals(body)).toBe(true);
  });

  it('a part that is already whole (stopped before the rename) is verified and installed without a download', async () => {
    const body = ggml(MB);
    const { entry, path: p } = serve(body);
    const { manager, dir } = setup([entry]);
    const part = path.join(dir, '.partial', `${entry.id}.part`);
    fs.mkdirSync(path.dirname(part), { recursive: true });
    fs.writeFileSync(part, body);
    fs.writeFileSync(
      `${part}.json`,
      JSON.stringify({ url: entry.url, etag: `"v1-${entry.id}"`, lastModified: null, total: body.length }),
    );
    const r = await manager.install(entry.id);
    expect(server.requests(p)).toEqual([
      expect.objectContaining({ range: `bytes=${body.length}-`, status: 416 }),
    ]);
    expect(server.sentBytes(p)).toBe(0);
    expect(r.model.verified).toBe(true);
    expect(filesUnder(dir)).toEqual([path.join(entry.id, entry.file)]);
  });

  it('another live process downloading the same model is not raced', async () => {
    const { entry } = serve(ggml(MB));
    const { manager, dir } = setup([entry]);
    fs.mkdirSync(path.join(dir, '.partial'), { recursive: true });
    fs.writeFileSync(path.join(dir, '.partial', `${entry.id}.lock`), String(process.ppid));
    await expect(manager.install(entry.id)).rejects.toThrow(
      `Another Earshot process (pid ${process.ppid}) is downloading ${entry.id} right now; wait for it to finish.`,
    );
    // A lock left by a process that is gone is taken over.
    fs.writeFileSync(path.join(dir, '.partial', `${entry.id}.lock`), '999999999');
    expect((await manager.install(entry.id)).model.installed).toBe(true);
  });

  it('refuses to start without the free disk space the model needs', async () => {
    const body = ggml(MB);
    const { entry } = serve(body);
    const { manager, dir } = setup([entry], { freeBytes: () => 10 * MB });
    await expect(manager.install(entry.id)).rejects.toThrow(
      /^Not enough free disk space for test-\d+: it needs about 65 MB and 10 MB are free in .*Free some space \(or set EARSHOT_MODELS_DIR to a bigger disk\)/,
    );
    expect(filesUnder(dir)).toEqual([]);
  });

  it('an unknown id and an HTTP error say what to do', async () => {
    const { entry } = serve(ggml(MB), {}, { url: server.url('/nowhere.bin') });
    const { manager } = setup([entry]);
    await expect(manager.install('whisper-huge')).rejects.toThrow(/knows no model "whisper-huge"/);
    await expect(manager.install(entry.id)).rejects.toThrow(
      /^Earshot could not download test-\d+: 127\.0\.0\.1:\d+ no longer has this file \(HTTP 404\)/,
    );
  });

  it('App.installModel publishes onModelProgress events for the shells to forward', async () => {
    const body = ggml(2 * MB);
    const { entry } = serve(body);
    const dataDir = tempDir('earshot-models-');
    const ctx = await openApp(dataDir, { registryModule: fixtureWorkflowsModule });
    try {
      const manager = new ModelManager({
        dataDir,
        db: ctx.db,
        env: {},
        catalog: [entry],
        progressIntervalMs: 0,
      });
      const app = validated(new App(ctx, undefined, manager));
      const events: ModelProgressEvent[] = [];
      app.events.on('onModelProgress', (e: ModelProgressEvent) => events.push(e));
      const r = await app.installModel(entry.id);
      expect(r.model.installed).toBe(true);
      expect(events.at(-1)).toEqual({ id: entry.id, bytes: body.length, total: body.length });
      expect((await app.models()).map((m) => m.id)).toEqual([entry.id]);
      await expect(app.useModel('')).rejects.toThrow(/Give a model id/);
    } finally {
      ctx.db.close();
    }
  });
});

describe('model manager: import', () => {
  it('a file the catalog knows becomes that model, verified', async () => {
    const body = ggml(2 * MB);
    const { entry } = serve(body);
    const { manager, dir } = setup([entry]);
    const src = path.join(tempDir(), 'downloaded-elsewhere.bin');
    fs.writeFileSync(src, body);
    const r = await manager.import(src);
    expect(r.message).toMatch(/^Imported .* as test-\d+ \(2\.0 MB; it matches the published checksum\)/);
    expect(r.model).toMatchObject({ id: entry.id, installed: true, verified: true, source: 'import' });
    expect(r.model.path).toBe(path.join(dir, entry.id, entry.file));
    expect(fs.readFileSync(src).equals(body)).toBe(true); // the original stays
    expect((await manager.import(src)).message).toMatch(/already installed/);
    expect(filesUnder(dir)).toEqual([path.join(entry.id, entry.file)]);
  });

  it('custom ggml (whisper) and GGUF (llm) files and an embedding folder are accepted; junk is refused', async () => {
    const { manager, dir } = setup([]);
    const src = tempDir();
    fs.writeFileSync(path.join(src, 'My Tiny Model.bin'), ggml(MB));
    fs.writeFileSync(path.join(src, 'story.gguf'), gguf());
    const w = await manager.import(path.join(src, 'My Tiny Model.bin'));
    expect(w.model).toMatchObject({ id: 'custom-my-tiny-model', kind: 'whisper', verified: false });
    expect(w.message).toMatch(/custom whisper model custom-my-tiny-model .*not verified/);
    const l = await manager.import(path.join(src, 'story.gguf'));
    expect(l.model).toMatchObject({ id: 'custom-story', kind: 'llm', label: 'story.gguf' });

    const emb = path.join(src, 'MiniLM');
    fs.mkdirSync(path.join(emb, 'onnx'), { recursive: true });
    fs.writeFileSync(path.join(emb, 'config.json'), '{}');
    fs.writeFileSync(path.join(emb, 'tokenizer.json'), '{}');
    fs.writeFileSync(path.join(emb, 'onnx', 'model.onnx'), randomBytes(1000));
    const e = await manager.import(emb);
    expect(e.model).toMatchObject({
      id: 'custom-minilm',
      kind: 'embedding',
      path: path.join(dir, 'custom-minilm'),
    });
    expect(fs.existsSync(path.join(dir, 'custom-minilm', 'onnx', 'model.onnx'))).toBe(true);

    fs.writeFileSync(path.join(src, 'notes.txt'), 'not a model at all');
    await expect(manager.import(path.join(src, 'notes.txt'))).rejects.toThrow(
      /notes\.txt is not a model Earshot can use: it matches no model in the catalog and is neither a whisper\.cpp model \(ggml \.bin\) nor a GGUF language model/,
    );
    fs.mkdirSync(path.join(src, 'half'));
    fs.writeFileSync(path.join(src, 'half', 'config.json'), '{}');
    await expect(manager.import(path.join(src, 'half'))).rejects.toThrow(
      /lacks tokenizer\.json, onnx\/\*\.onnx\. Nothing was imported/,
    );
    await expect(manager.import(path.join(src, 'absent.bin'))).rejects.toThrow(
      /There is no file or folder at/,
    );
    expect(manager.list().map((m) => m.id)).toEqual([
      'custom-minilm',
      'custom-story',
      'custom-my-tiny-model',
    ]);
    expect(filesUnder(path.join(dir, '.partial'))).toEqual([]);
  });
});

describe('model manager: use, remove, active', () => {
  it('chooses the active model per kind, refuses what is not installed, and notices a file deleted behind its back', async () => {
    const body = ggml(MB);
    const { entry } = serve(body);
    const changes: [string, string | null][] = [];
    const { manager, dataDir, db } = setup([entry], { onActiveChanged: (k, id) => changes.push([k, id]) });
    expect(() => manager.use(entry.id)).toThrow(
      /test-\d+ is not installed; install it first with `earshot models install test-\d+`/,
    );
    expect(() => manager.use('nope')).toThrow(/knows no model "nope"/);
    await manager.install(entry.id);
    expect(changes).toEqual([['whisper', entry.id]]);
    expect(manager.use(entry.id).message).toBe(`${entry.id} already is the active whisper model.`);
    const file = path.join(dataDir, 'models', entry.id, entry.file);
    expect(manager.active('whisper')).toEqual({ id: entry.id, kind: 'whisper', path: file });
    expect(manager.active('llm')).toBeNull();
    // A worker has only the data folder: it opens the library read-only.
    expect(activeModel('whisper', { dataDir, env: {} })?.path).toBe(file);
    expect(resolveInstalledModel(dataDir, entry.id, {})).toBe(file);
    expect(manager.list()[0]).toMatchObject({ id: entry.id, active: true });

    fs.truncateSync(file, 100);
    expect(() => manager.active('whisper')).toThrow(
      new RegExp(
        `^The whisper model file .*${entry.file} is changed \\(100 bytes, ${body.length} expected\\), so Earshot will not use it; run \`earshot models install ${entry.id}\` again\\.$`,
      ),
    );
    fs.rmSync(file);
    expect(() => activeModel('whisper', { dataDir, env: {} })).toThrow(
      / is missing, so Earshot will not use it/,
    );
    expect(() => manager.use(entry.id)).toThrow(/is missing/);
    // Installing again repairs it.
    await manager.install(entry.id);
    expect(manager.active('whisper')?.path).toBe(file);

    const removed = manager.remove(entry.id);
    // Nothing else is installed: what to do names the model to install, or importing a file.
    expect(removed.message).toBe(
      `Removed ${entry.id} (1.0 MB freed). It was the active whisper model, so no whisper model is active now: install one with \`earshot models install ${entry.id}\`, or import a file you have with \`earshot models import FILE\`.`,
    );
    expect(changes).toEqual([
      ['whisper', entry.id],
      ['whisper', entry.id],
      ['whisper', null],
    ]);
    expect(manager.active('whisper')).toBeNull();
    expect(fs.existsSync(path.dirname(file))).toBe(false);
    expect(() => manager.remove(entry.id)).toThrow(/is not installed, so there is nothing to remove/);
    expect(() => resolveInstalledModel(dataDir, entry.id, {})).toThrow(/is not installed; install it/);
    db.close();
  });

  it('EARSHOT_MODELS_DIR moves the models folder', async () => {
    const body = ggml(MB);
    const { entry } = serve(body);
    const elsewhere = tempDir('earshot-models-dir-');
    const { manager, dataDir } = setup([entry], { env: { EARSHOT_MODELS_DIR: elsewhere } });
    const r = await manager.install(entry.id);
    expect(r.model.path).toBe(path.join(elsewhere, entry.id, entry.file));
    expect(fs.existsSync(path.join(dataDir, 'models'))).toBe(false);
  });
});

/** The real `earshot` bin, asynchronously: the model server runs in this process. */
function earshot(dataDir: string, args: string[], env: NodeJS.ProcessEnv) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, '--data-dir', dataDir, ...args], {
      env: childEnv({ EARSHOT_MODELS_DIR: '', ...env }),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('earshot models (CLI)', () => {
  it('list, install, use, import, remove with --json, and readable text without it', async () => {
    const body = ggml(2 * MB);
    const { entry } = serve(body);
    const dir = tempDir();
    const catalogFile = path.join(dir, 'catalog.json');
    fs.writeFileSync(catalogFile, JSON.stringify([entry]));
    const env = { EARSHOT_MODEL_CATALOG: catalogFile };
    const data = path.join(dir, 'library');

    const list = await earshot(data, ['--json', 'models', 'list'], env);
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual([
      expect.objectContaining({ id: entry.id, installed: false, active: false, bytes: body.length }),
    ]);

    const inst = await earshot(data, ['--json', 'models', 'install', entry.id], env);
    expect(inst.stderr).toBe(''); // not a terminal: no progress bar
    expect(inst.code).toBe(0);
    expect(JSON.parse(inst.stdout)).toMatchObject({
      model: { id: entry.id, installed: true, verified: true },
    });

    expect(JSON.parse(inst.stdout).message).toMatch(/It is now the active whisper model\.$/);
    const use = await earshot(data, ['models', 'use', entry.id], env);
    expect(use).toMatchObject({ code: 0, stdout: `${entry.id} already is the active whisper model.\n` });

    const human = await earshot(data, ['models', 'list'], env);
    expect(human.stdout).toMatch(
      new RegExp(
        `^Installed:\\nID +KIND +SIZE +STATE +CHECK +NAME\\n${entry.id} +whisper +2 MB +active +verified +Test model`,
      ),
    );

    const custom = path.join(dir, 'mine.gguf');
    fs.writeFileSync(custom, gguf());
    const imp = await earshot(data, ['--json', 'models', 'import', custom], env);
    expect(JSON.parse(imp.stdout).model).toMatchObject({
      id: 'custom-mine',
      kind: 'llm',
      verified: false,
      active: true,
    });
    expect(JSON.parse(imp.stdout).message).toMatch(/It is now the active llm model\.$/);

    const junk = path.join(dir, 'junk.bin');
    fs.writeFileSync(junk, 'hello');
    const bad = await earshot(data, ['models', 'import', junk], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^earshot: .*junk\.bin is not a model Earshot can use: .*\n$/);

    const rm = await earshot(data, ['--json', 'models', 'remove', entry.id], env);
    expect(JSON.parse(rm.stdout).message).toMatch(/It was the active whisper model/);
    const unknown = await earshot(data, ['models', 'use', 'whisper-huge'], env);
    expect(unknown).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/^earshot: Earshot knows no model "whisper-huge"/),
    });

    const after = JSON.parse((await earshot(data, ['--json', 'models', 'list'], env)).stdout) as {
      id: string;
      installed: boolean;
    }[];
    expect(after.map((m) => [m.id, m.installed])).toEqual([
      ['custom-mine', true],
      [entry.id, false],
    ]);
  });
});
