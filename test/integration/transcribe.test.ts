import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../pipeline/engine/engine.ts';
import { App, openApp, defaultWorkflowsModule, type AppContext } from '../../pipeline/api/app.ts';
import { validated } from '../../pipeline/api/dispatch.ts';
import { tempDir } from '../helpers/env.ts';
import { makeAudio } from '../helpers/audio.ts';
import { next, pipelineEngine } from '../helpers/engine.ts';
import { emptyWhisperFile, installEmptyWhisper } from '../helpers/whisper-install.ts';
import { startFeedServer } from '../helpers/feed-server.ts';
import { ModelManager } from '../../models/manager.ts';
import type { TranscribeOutput } from '../../pipeline/steps/transcribe.ts';

/**
 * The transcribe step through the real engine, worker processes and whisper.cpp binding, with an
 * "empty" model (real tiny.en dimensions, mel filters and vocabulary, no weights): it loads and
 * runs the whole encoder/decoder at tiny's cost but writes no words, so these tests assert the
 * plumbing — load, audio hand-off, progress, cancellation, warm reuse, the gpu-lane rule — not
 * text. tests with real weights: test/integration/whisper-real.test.ts.
 */
let folder: string;
beforeAll(() => {
  folder = tempDir('earshot-transcribe-');
  makeAudio(folder, 'one.mp3', 20, { title: 'One', artist: 'Mara Quinn' });
  makeAudio(folder, 'two.m4a', 20, { title: 'Two' });
  makeAudio(folder, 'three.wav', 20, { title: 'Three' });
  makeAudio(folder, 'long.mp3', 600, { title: 'Long' });
});

const engines: Engine[] = [];
const libraries: AppContext[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.stop(2000)));
  for (const l of libraries.splice(0)) l.db.close();
});

async function library(): Promise<{ ctx: AppContext; app: App }> {
  const ctx = await openApp(tempDir(), { registryModule: defaultWorkflowsModule });
  libraries.push(ctx);
  return { ctx, app: validated(new App(ctx)) };
}

function stepOutput(ctx: AppContext, episodeId: number, step: string): TranscribeOutput | null {
  const row = ctx.db
    .prepare(
      `SELECT s.output FROM steps s JOIN workflows w ON w.id = s.workflow_id
       WHERE w.subject = (SELECT key FROM episodes WHERE id = ?) AND s.name = ? AND s.status = 'completed'`,
    )
    .get(episodeId, step) as { output: string } | undefined;
  return row ? (JSON.parse(row.output) as TranscribeOutput) : null;
}

describe('transcription on the gpu lane', () => {
  it('transcribes mp3, m4a and wav one at a time with the model kept warm, and stores the transcript', async () => {
    const { ctx, app } = await library();
    const modelId = await installEmptyWhisper(ctx.dataDir, ctx.db);
    const r = await app.importFiles(['one.mp3', 'two.m4a', 'three.wav'].map((f) => path.join(folder, f)));
    expect(r.imported).toHaveLength(3);
    const engine = pipelineEngine(ctx.db, ctx.dataDir, { lanes: { gpu: 1, cpu: 2, io: 2 } });
    engines.push(engine);
    const progress: number[] = [];
    engine.on('progress', (p) => {
      if (p.step === 'transcribe') progress.push(p.fraction);
    });
    engine.start();
    await engine.untilIdle();

    expect(ctx.db.prepare('SELECT status, count(*) AS n FROM workflows GROUP BY status').all()).toEqual([
      { status: 'completed', n: 3 },
    ]);
    const outs = r.imported.map((i) => stepOutput(ctx, i.episodeId, 'transcribe')!);
    for (const o of outs) {
      expect(o).toMatchObject({ skipped: null, modelId, binding: 'napi-rs', gpu: false, language: 'en' });
      expect(o.audioMs).toBeGreaterThan(19_000);
      expect(o.audioMs).toBeLessThan(21_000);
      expect(fs.existsSync(o.path!)).toBe(true);
    }
    // One worker on the gpu lane: the model was loaded once and reused.
    expect(outs.filter((o) => !o.warm)).toHaveLength(1);
    // The gpu lane never ran two transcriptions at once.
    const spans = ctx.db
      .prepare(
        `SELECT started_at AS a, finished_at AS b FROM steps WHERE name = 'transcribe' ORDER BY started_at`,
      )
      .all() as { a: number; b: number }[];
    for (let i = 1; i < spans.length; i++) expect(spans[i]!.a).toBeGreaterThanOrEqual(spans[i - 1]!.b);
    expect(progress).toContain(1);

    // The transcript is the episode's artifact, the decoded audio is gone, the status says so.
    const id = r.imported[0]!.episodeId;
    const t = await app.transcript(id);
    expect(t).toMatchObject({
      episodeId: id,
      source: 'whisper',
      model: modelId,
      timed: true,
      language: 'en',
    });
    expect(Array.isArray(t.segments)).toBe(true);
    expect(ctx.db.prepare(`SELECT count(*) AS n FROM artifacts WHERE kind = 'pcm'`).get()).toEqual({ n: 0 });
    expect(fs.readdirSync(path.join(ctx.dataDir, 'pcm'))).toEqual([]);
    expect((await app.episodes()).every((e) => e.status === 'transcribed')).toBe(true);
  });

  it('cancels a running transcription through its AbortSignal', async () => {
    const { ctx, app } = await library();
    await installEmptyWhisper(ctx.dataDir, ctx.db);
    await app.importFiles([path.join(folder, 'long.mp3')]);
    const engine = pipelineEngine(ctx.db, ctx.dataDir, { lanes: { gpu: 1, cpu: 1, io: 1 } });
    engines.push(engine);
    const started = next(engine, 'progress', (p) => p.step === 'transcribe' && p.fraction > 0);
    engine.start();
    const [p] = await started;
    expect(p.fraction).toBeLessThan(1);
    const t0 = Date.now();
    await app.cancel(p.workflowId);
    await engine.untilIdle();
    const wf = await app.workflow(p.workflowId);
    expect(wf.status).toBe('cancelled');
    expect(wf.steps.find((s) => s.name === 'transcribe')!.status).toBe('cancelled');
    // Stopped between pieces, long before the 600 s of audio were done.
    expect(Date.now() - t0).toBeLessThan(60_000);
    const dir = path.join(ctx.dataDir, 'transcripts');
    expect(fs.existsSync(dir) ? fs.readdirSync(dir) : []).toEqual([]);
  });

  it('a show in German never gets an English-only model: it says which one it needs, and uses it once installed', async () => {
    const server = await startFeedServer();
    try {
      const audio = fs.readFileSync(path.join(folder, 'one.mp3'));
      server.route('/media/1.mp3', { body: audio, headers: { 'content-type': 'audio/mpeg' } });
      server.route('/de.xml', {
        body: `<?xml version="1.0"?><rss version="2.0"><channel><title>Der leise Raum</title><language>de-DE</language>
          <item><guid>lr-1</guid><title>Folge eins</title><pubDate>Mon, 02 Mar 2026 10:00:00 GMT</pubDate>
          <enclosure url="/media/1.mp3" type="audio/mpeg" length="${audio.length}"/></item></channel></rss>`,
      });
      const { ctx, app } = await library();
      const english = await installEmptyWhisper(ctx.dataDir, ctx.db, 'tiny.en');
      await app.subscribe(server.url('/de.xml'), 'all');
      await app.process();
      const engine = pipelineEngine(ctx.db, ctx.dataDir, { lanes: { gpu: 1, cpu: 1, io: 1 } });
      engines.push(engine);
      engine.start();
      await engine.untilIdle();
      const [episode] = await app.episodes();
      const dead = (await app.status()).deadLetters;
      expect(dead).toHaveLength(1);
      expect(dead[0]!.reason).toContain(
        `This episode's show is in German (de), and the Whisper model ${english} transcribes English only, so Earshot did not use it. It needs a multilingual model such as whisper-base: install it`,
      );
      expect(dead[0]!.reason).toContain(`\`earshot process ${episode!.id}\``);
      expect(stepOutput(ctx, episode!.id, 'transcribe')).toBeNull();

      // A multilingual model is installed (the English one stays the active one): the episode gets it.
      const manager = new ModelManager({ dataDir: ctx.dataDir, db: ctx.db, env: {} });
      const multilingual = (await manager.import(emptyWhisperFile('tiny'))).model.id;
      await app.process([episode!.id]);
      await engine.untilIdle();
      const out = stepOutput(ctx, episode!.id, 'transcribe')!;
      expect(out).toMatchObject({ skipped: null, modelId: multilingual, language: 'de' });
      expect((await app.episodeWorkflow(episode!.id)).status).toBe('completed');
    } finally {
      await server.close();
    }
  });

  it('without a Whisper model the episode waits (not a failure), and goes on by itself once one is chosen', async () => {
    const { ctx, app } = await library();
    const r = await app.importFiles([path.join(folder, 'three.wav')]);
    const id = r.imported[0]!.episodeId;
    const engine = pipelineEngine(ctx.db, ctx.dataDir, { lanes: { gpu: 1, cpu: 1, io: 1 } });
    engines.push(engine);
    engine.start();
    // Nothing runnable is left: the engine is idle while the episode waits.
    await engine.untilIdle();
    const [ep] = await app.episodes();
    expect(ep).toMatchObject({ id, status: 'waiting', waitingFor: 'a Whisper model', hasTranscript: false });
    const status = await app.status();
    expect(status.deadLetters).toEqual([]);
    // With the model to suggest: no advice measured in this library, so the catalog's first choice.
    expect(status.waiting).toEqual([
      { resource: 'model:whisper', what: 'a Whisper model', episodes: 1, recommended: 'whisper-base.en' },
    ]);
    expect(status.workflows).toMatchObject({ waiting: 1, dead: 0 });
    expect(await app.failures()).toEqual([]);
    const job = (await app.jobs()).find((j) => j.step === 'transcribe')!;
    expect(job).toMatchObject({ state: 'waiting', episode: { id, title: 'Three', show: null } });
    // The download and decoding are done and kept.
    expect(stepOutput(ctx, id, 'decode')).not.toBeNull();

    // Importing a model chooses it (none was active), which wakes the episode: the running
    // engine transcribes it without anyone asking again.
    const imported = await app.importModel(emptyWhisperFile());
    expect(imported.message).toMatch(/It is now the active whisper model\.$/);
    await next(engine, 'finished', (f) => f.step === 'index');
    await engine.untilIdle();
    const [done] = await app.episodes();
    expect(done).toMatchObject({ id, waitingFor: null, hasTranscript: true });
    expect(done!.status).not.toBe('waiting');
    expect(stepOutput(ctx, id, 'transcribe')).toMatchObject({ modelId: imported.model.id, skipped: null });
    expect((await app.status()).waiting).toEqual([]);
    // Download and decode ran once: the new workflow reused them.
    expect(
      ctx.db
        .prepare(
          `SELECT count(*) AS n FROM steps WHERE name = 'decode' AND reused_from IS NULL AND status = 'completed'`,
        )
        .get(),
    ).toEqual({ n: 1 });
  });
});
