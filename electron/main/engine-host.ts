import path from 'node:path';
import type { IpcMain } from 'electron';
import { App, openApp } from '../../pipeline/api/app.ts';
import { API_METHODS } from '../../pipeline/api/contract.ts';
import type { Engine } from '../../pipeline/engine/engine.ts';
import { startEngineHost } from '../../pipeline/api/engine-host.ts';
import { LANES } from '../../pipeline/engine/workflow.ts';
import type { WorkerHost } from '../../pipeline/engine/worker-host.ts';
import { registerApi } from './ipc.ts';
import { forwardEvents, type EventTarget } from './events.ts';
import type { ProcessingSwitch, ProcessingState } from './processing.ts';

export interface EngineHostDeps {
  ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>;
  /** The worker host (UtilityWorkerHost in the app). */
  host: WorkerHost;
  dataDir: string;
  /** Folder of the main bundle: workflows.js is built next to it. */
  mainDir: string;
  processing: ProcessingSwitch;
  isTrustedSender: (url: string) => boolean;
  /** The windows that receive the App's and the engine's events (model and job progress). Default none. */
  eventTargets?: () => Iterable<EventTarget>;
}

export interface RunningEngine {
  app: App;
  engine: Engine;
  /** Graceful: running steps get `graceMs` to finish, then are given back for the next start. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Start the engine inside the desktop app: the same engine and background feed refresh as
 * `earshot run`, with workers as utility processes, the API answered over IPC, and the tray's pause and the power source
 * mapped onto lanes (paused by the user: every lane; on battery: the gpu lane).
 */
export async function startEngine(deps: EngineHostDeps): Promise<RunningEngine> {
  const ctx = await openApp(deps.dataDir, {
    registryModule: path.join(deps.mainDir, 'workflows.js'),
    detectGpus: true,
  });
  const app = new App(ctx);
  const host = startEngineHost(ctx, {
    host: deps.host,
    events: app.events,
    onError: (err) => console.error(`Earshot engine: ${err.message}`),
  });
  const engine = host.engine;
  const unregister = registerApi(deps.ipcMain, app, API_METHODS, deps.isTrustedSender);
  const stopForwarding = forwardEvents(app.events, deps.eventTargets ?? (() => []));
  const apply = (state: ProcessingState) => {
    for (const lane of LANES) {
      const paused = state.userPaused || (lane === 'gpu' && state.onBattery);
      if (ctx.queue.isPaused(lane) !== paused) ctx.queue.setPaused(lane, paused);
    }
  };
  const unsubscribe = deps.processing.onChange(apply);
  if (deps.processing.state.userPaused || deps.processing.state.onBattery) apply(deps.processing.state);
  host.ingest?.start();
  return {
    app,
    engine,
    async stop(graceMs = 5000) {
      unsubscribe();
      stopForwarding();
      unregister();
      await host.shutdown(graceMs);
    },
  };
}
