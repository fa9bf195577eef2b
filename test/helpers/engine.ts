import { Engine, type EngineEvents, type EngineOptions } from '../../pipeline/engine/engine.ts';
import { openDatabase, databasePath, type Db } from '../../pipeline/store/index.ts';
import { Registry } from '../../pipeline/engine/workflow.ts';
import { workflows } from '../fixtures/workflows.ts';
import { fixtureWorkflowsModule, tempDir } from './env.ts';
import { workflows as pipelineWorkflows } from '../../pipeline/workflows.ts';
import { afterEach } from 'vitest';
import { App, defaultWorkflowsModule, openApp, type AppContext } from '../../pipeline/api/app.ts';
import { validated } from '../../pipeline/api/dispatch.ts';

export function fixtureEngine(
  dataDir: string,
  options: Partial<EngineOptions> = {},
): { engine: Engine; db: Db } {
  const db = options.db ?? openDatabase(databasePath(dataDir));
  const engine = new Engine({
    db,
    registry: new Registry(workflows),
    registryModule: fixtureWorkflowsModule,
    dataDir,
    lanes: { gpu: 1, cpu: 1, io: 2 },
    leaseMs: 2000,
    pollMs: 20,
    ...options,
  });
  engine.on('error', (err) => {
    throw err;
  });
  return { engine, db };
}

/**
 * An engine over Earshot's real episode pipeline (download, publisher transcript, decode,
 * transcribe), fast retries. Transcription needs a Whisper model in the library: see
 * helpers/whisper-install.ts.
 */
export function pipelineEngine(db: Db, dataDir: string, options: Partial<EngineOptions> = {}): Engine {
  return new Engine({
    db,
    registry: new Registry(pipelineWorkflows),
    registryModule: defaultWorkflowsModule,
    dataDir,
    lanes: { gpu: 1, cpu: 1, io: 2 },
    pollMs: 20,
    backoff: { baseMs: 50, capMs: 200, factor: 2, jitter: 0 },
    ...options,
  });
}

/** Resolve on the first event that matches. */
export function next<K extends keyof EngineEvents>(
  engine: Engine,
  event: K,
  match: (...args: EngineEvents[K]) => boolean = () => true,
): Promise<EngineEvents[K]> {
  return new Promise((resolve) => {
    const listener = (...args: EngineEvents[K]) => {
      if (!match(...args)) return;
      engine.off(event, listener as never);
      resolve(args);
    };
    engine.on(event, listener as never);
  });
}

/**
 * Libraries on the real pipeline for a test file: `open()` gives an App over a fresh library,
 * `runUntilIdle(ctx)` runs an engine over it until nothing is left; engines are stopped and
 * libraries closed after each test.
 */
export function pipelineLibraries(): {
  open: () => Promise<{ ctx: AppContext; app: App }>;
  runUntilIdle: (ctx: AppContext) => Promise<void>;
} {
  const engines: Engine[] = [];
  const libraries: AppContext[] = [];
  afterEach(async () => {
    await Promise.all(engines.splice(0).map((e) => e.stop(2000)));
    for (const l of libraries.splice(0)) l.db.close();
  });
  return {
    async open() {
      const ctx = await openApp(tempDir(), { registryModule: defaultWorkflowsModule });
      libraries.push(ctx);
      return { ctx, app: validated(new App(ctx)) };
    },
    async runUntilIdle(ctx) {
      const engine = pipelineEngine(ctx.db, ctx.dataDir, { lanes: { gpu: 1, cpu: 1, io: 2 } });
      engines.push(engine);
      engine.start();
      await engine.untilIdle();
      await engine.stop(2000);
      engines.splice(engines.indexOf(engine), 1);
    },
  };
}
