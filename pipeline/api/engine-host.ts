import { Engine } from '../engine/engine.ts';
import type { WorkerHost } from '../engine/worker-host.ts';
import { BackgroundIngest } from '../ingest/background.ts';
import { Subscriptions } from '../ingest/subscriptions.ts';
import type { AppContext } from './app.ts';
import type { DigestReadyEvent } from './contract.ts';
import { watchDigests } from '../digest/events.ts';
import type { ApiEventBus } from './dispatch.ts';
import type { Db } from '../store/db.ts';
import { listStatus } from '../listen/library.ts';
import type { JobFinishedEvent, JobProgressEvent, JobStartedEvent } from './contract.ts';

export interface EngineHostOptions {
  /** Worker processes: child_process.fork by default, Electron's utilityProcess in the app. */
  host?: WorkerHost;
  /** Lease length in ms (tests shorten it). Default: the engine's. */
  leaseMs?: number;
  onError?: (err: Error) => void;
  /** A scheduled digest was made (`onDigestReady`): for a notification. */
  onDigestReady?: (event: DigestReadyEvent) => void;
  /** Where the engine's job events go, as the contract names them (onJobStarted, ...). Default none. */
  events?: ApiEventBus;
}

export interface EngineHost {
  engine: Engine;
  /** Refreshes due feeds and starts the episodes they queued; null without an episode pipeline. */
  ingest: BackgroundIngest | null;
  /** Stop ingesting, let running steps finish within `graceMs`; the library stays open. Idempotent. */
  stopEngine(graceMs?: number): Promise<void>;
  /** stopEngine, then close the library. Idempotent. */
  shutdown(graceMs?: number): Promise<void>;
}

/**
 * The engine as every long-running shell runs it (`earshot run`, `earshot serve`, the desktop
 * app): workers per lane, and beside it the background refresh of feeds. Started, not ingesting:
 * call `ingest.start()` for the schedule, or `ingest.tick()` for one round.
 */
export function startEngineHost(ctx: AppContext, options: EngineHostOptions = {}): EngineHost {
  const onError = options.onError ?? (() => {});
  const engine = new Engine({
    db: ctx.db,
    registry: ctx.registry,
    registryModule: ctx.registryModule,
    dataDir: ctx.dataDir,
    lanes: ctx.lanes,
    leaseMs: options.leaseMs,
    host: options.host,
    devices: ctx.gpus,
  });
  engine.on('error', onError);
  if (options.events) forwardEngineEvents(engine, options.events, ctx.db);
  // A scheduled digest made: onDigestReady on the bus (windows, /events) and to the caller (a
  // notification, a line on the terminal).
  if (options.events || options.onDigestReady) {
    const bus = options.events;
    const callback = options.onDigestReady;
    watchDigests(engine, ctx.db, (event) => {
      bus?.emit('onDigestReady', event);
      try {
        callback?.(event);
      } catch (err) {
        onError(err as Error);
      }
    });
  }
  const ingest = ctx.registry.has('episode')
    ? new BackgroundIngest(new Subscriptions(ctx.db, ctx.clock), engine.queue, { onError })
    : null;
  let stopping: Promise<void> | null = null;
  let closing: Promise<void> | null = null;
  engine.start();
  const stopEngine = (graceMs = 10_000): Promise<void> => {
    stopping ??= (async () => {
      await ingest?.stop();
      await engine.stop(graceMs);
    })();
    return stopping;
  };
  return {
    engine,
    ingest,
    stopEngine,
    shutdown(graceMs = 10_000) {
      closing ??= stopEngine(graceMs).then(() => {
        ctx.db.close();
      });
      return closing;
    },
  };
}

/**
 * The engine's events under the contract's names: started, progress and finished become
 * onJobStarted, onJobProgress and onJobFinished, each with the episode it works on (so a window
 * can show an episode's progress in every list); a committed or dead-lettered step of an
 * episode's workflow also becomes onEpisodeChanged with the episode's status now.
 */
export function forwardEngineEvents(engine: Engine, events: ApiEventBus, db: Db): () => void {
  // The status as lists show it (listStatus): the episode's latest workflow has the last word.
  const episodeOf = db.prepare(
    `SELECT e.id, e.status,
       (SELECT x.status FROM workflows x WHERE x.kind = 'episode' AND x.subject = e.key
         ORDER BY x.created_at DESC, x.seq DESC LIMIT 1) AS workflow_status
     FROM workflows w JOIN episodes e ON e.key = w.subject
     WHERE w.id = ? AND w.kind = 'episode'`,
  );
  /** Running jobs' episodes, read once when each starts (progress comes often). */
  const episodes = new Map<number, number | null>();
  const episodeId = (jobId: number, workflowId: string): number | null => {
    let id = episodes.get(jobId);
    if (id === undefined) {
      try {
        id = (episodeOf.get(workflowId) as { id: number } | undefined)?.id ?? null;
      } catch {
        // The library is closing: the event goes out without its episode.
        return null;
      }
      episodes.set(jobId, id);
    }
    return id;
  };
  const started = (e: JobStartedEvent) =>
    events.emit('onJobStarted', { ...e, episodeId: episodeId(e.jobId, e.workflowId) });
  const progress = (e: JobProgressEvent) =>
    events.emit('onJobProgress', { ...e, episodeId: episodeId(e.jobId, e.workflowId) });
  const finished = (e: JobFinishedEvent) => {
    const id = episodeId(e.jobId, e.workflowId);
    episodes.delete(e.jobId);
    events.emit('onJobFinished', { ...e, episodeId: id });
    if (e.outcome.kind === 'stale' || id === null || events.listenerCount('onEpisodeChanged') === 0) return;
    try {
      const ep = episodeOf.get(e.workflowId) as
        { id: number; status: string; workflow_status?: string | null } | undefined;
      if (ep)
        events.emit('onEpisodeChanged', {
          episodeId: ep.id,
          status: listStatus(ep.status, ep.workflow_status),
        });
    } catch {
      // The library is closing: nobody is left to tell.
    }
  };
  engine.on('started', started);
  engine.on('progress', progress);
  engine.on('finished', finished);
  return () => {
    engine.off('started', started);
    engine.off('progress', progress);
    engine.off('finished', finished);
  };
}
