import type { Engine } from '../engine/engine.ts';
import type { WorkerHost } from '../engine/worker-host.ts';
import type { BackgroundIngest } from '../ingest/background.ts';
import type { Lane } from '../engine/workflow.ts';
import { App, openApp } from './app.ts';
import type { Api } from './contract.ts';
import { dispatch, isApiEvent, isApiMethod, toWireError, validated } from './dispatch.ts';
import { serveRpc, type RpcPort } from './rpc.ts';
import { ApiInputError } from './schemas.ts';
import { startEngineHost } from './engine-host.ts';
import { startEpisodes } from '../ingest/episodes.ts';
import { ON_BATTERY, ProcessingRules } from '../engine/rules.ts';
import { readSettings } from '../store/app-settings.ts';
import { WatchFolder } from '../ingest/watch-folder.ts';

export interface ServiceOptions {
  dataDir: string;
  /** Module with the workflows (the engine and its workers import it). Default: openApp's. */
  registryModule?: string;
  /** Worker processes: Node's child_process by default; brokered by Electron's main in the app. */
  workerHost?: WorkerHost;
  /** Workers per lane (0 runs nothing on a lane). Default: the machine's plan. */
  lanes?: Partial<Record<Lane, number>>;
  leaseMs?: number;
  /** Run the engine and the background feed refresh. Default true; false serves the API only. */
  engine?: boolean;
  /**
   * Live holds to take before the engine claims anything: what the shell knows of the machine
   * right now (on battery: the gpu lane). Never stored over the user's pause.
   */
  holds?: { lane: Lane; reason: string }[];
  /** Start the schedule of feed refreshes at once. Default true (with the engine). */
  ingest?: boolean;
  onError?: (err: Error) => void;
  /**
   * What must work before the engine starts (`earshot serve`: its port): when it throws, the
   * library is closed and nothing was started. Default none.
   */
  beforeEngine?: (app: App) => Promise<void>;
}

export interface Service {
  /** The implementation; its `events` bus carries every ApiEvents event, the engine's too. */
  readonly app: App;
  /** The same, behind the dispatcher: what a shell calls with arguments from outside. */
  readonly api: Api;
  readonly engine: Engine;
  readonly ingest: BackgroundIngest | null;
  /** The processing rules of Settings (battery, night, daily budget) as holds on the gpu lane. */
  readonly rules: ProcessingRules;
  /** The watch folder of Settings; null without the engine (nothing imported is processed then). */
  readonly watchFolder: WatchFolder | null;
  /**
   * Hold or release a lane for a live reason; tells every shell. The power source ("on battery")
   * is a fact for the processing rules, which hold the gpu lane unless Settings says go on.
   */
  setHold(lane: Lane, reason: string, on: boolean): void;
  /**
   * Answer a client on a message port (a window, Electron's main): calls through the dispatcher,
   * the events it listens to. Returns a function that stops answering it.
   */
  connect(port: RpcPort): () => void;
  /** Stop refreshing, let running steps finish within `graceMs`, release holds, close the library. */
  shutdown(graceMs?: number): Promise<void>;
}

/**
 * The library as a service: the API (queries, search with its embedder and index, feed refresh,
 * imports, model management) and the engine with its workers, over one library it alone writes.
 * One implementation for every shell: `earshot run` and `earshot serve` start it in their own
 * process; the desktop app starts it in a utility process (electron/service), so none of this
 * runs on the thread that draws windows.
 */
export async function startService(options: ServiceOptions): Promise<Service> {
  const runEngine = options.engine ?? true;
  const ctx = await openApp(options.dataDir, {
    ...(options.registryModule ? { registryModule: options.registryModule } : {}),
    lanes: runEngine ? options.lanes : { gpu: 0, cpu: 0, io: 0 },
    leaseMs: options.leaseMs,
    detectGpus: runEngine,
  });
  const app = new App(ctx);
  const onError = options.onError ?? (() => {});
  const rules = new ProcessingRules({
    db: ctx.db,
    clock: ctx.clock,
    settings: () => readSettings(ctx.db),
    setHold: (lane, reason, on) => void app.setHold(lane, reason, on),
    onError,
  });
  const setHold = (lane: Lane, reason: string, on: boolean) => {
    if (reason === ON_BATTERY) rules.setOnBattery(on);
    else app.setHold(lane, reason, on);
  };
  try {
    await options.beforeEngine?.(app);
    for (const h of options.holds ?? []) setHold(h.lane, h.reason, true);
    // Before anything is claimed: the rules' holds are in place when the engine starts.
    rules.start();
  } catch (err) {
    rules.stop();
    ctx.db.close();
    throw err;
  }
  const watchFolder = runEngine
    ? new WatchFolder({
        importFiles: (paths) => app.importPaths(paths, { watchFolder: true }),
        known: () =>
          new Map(
            (
              ctx.db
                .prepare(
                  `SELECT json_extract(extra, '$.localPath') AS path, published_at AS mtime FROM episodes
                    WHERE feed_id IS NULL AND json_extract(extra, '$.localPath') IS NOT NULL`,
                )
                .all() as { path: string; mtime: number }[]
            ).map((r) => [r.path, r.mtime]),
          ),
        onError,
      })
    : null;
  app.watchFolderStatus = () => watchFolder?.status() ?? null;
  /** Follow the settings: the rules now, the watch folder when it changed (here or elsewhere). */
  const followSettings = () => {
    rules.evaluate();
    const wanted = readSettings(ctx.db).watchFolder;
    if (watchFolder && (wanted !== watchFolder.folder || watchFolder.status()?.watching === false))
      void watchFolder.watch(wanted).catch(onError);
  };
  const stopFollowing = app.events.on('onSettingsChanged', followSettings);
  // Another process (`earshot settings`) may change them too: looked at again every minute.
  const settingsTimer = setInterval(followSettings, 60_000);
  settingsTimer.unref();
  if (watchFolder) void watchFolder.watch(readSettings(ctx.db).watchFolder).catch(onError);
  const host = startEngineHost(ctx, {
    ...(options.workerHost ? { host: options.workerHost } : {}),
    leaseMs: options.leaseMs,
    events: app.events,
    onError,
  });
  if (runEngine && (options.ingest ?? true)) host.ingest?.start();
  // Work queued through the API begins at once: the episodes a subscription, refresh or OPML
  // import queued get their pipelines now, and the engine looks for work now (not at the next
  // background round, a minute away, or its next poll).
  if (runEngine)
    app.onWorkQueued = (what) => {
      try {
        if (what === 'episodes' && ctx.registry.has('episode')) startEpisodes(ctx.db, ctx.queue);
        host.engine.tick();
      } catch (err) {
        onError(err as Error);
      }
    };
  let stopping: Promise<void> | null = null;
  return {
    app,
    api: validated(app),
    engine: host.engine,
    ingest: host.ingest,
    rules,
    watchFolder,
    setHold,
    connect: (port) =>
      serveRpc(port, {
        call: (method, args) =>
          isApiMethod(method)
            ? dispatch(app, method, args)
            : Promise.reject(new ApiInputError(`There is no API method "${method}".`)),
        subscribe: (event, send) => (isApiEvent(event) ? app.events.on(event, send) : null),
        toWire: toWireError,
      }),
    shutdown(graceMs = 10_000) {
      stopping ??= (async () => {
        stopFollowing();
        clearInterval(settingsTimer);
        rules.stop();
        await watchFolder?.stop().catch(onError);
        await host.stopEngine(graceMs);
        try {
          app.holds.close();
        } catch (err) {
          onError(err as Error);
        }
        ctx.db.close();
      })();
      return stopping;
    },
  };
}
