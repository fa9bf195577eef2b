import { Engine } from '../engine/engine.ts';
import type { WorkerHost } from '../engine/worker-host.ts';
import { BackgroundIngest } from '../ingest/background.ts';
import { Subscriptions } from '../ingest/subscriptions.ts';
import type { AppContext } from './app.ts';
import type { DigestReadyEvent } from './contract.ts';
import { watchDigests } from '../digest/events.ts';

export interface EngineHostOptions {
  /** Worker processes: child_process.fork by default, Electron's utilityProcess in the app. */
  host?: WorkerHost;
  /** Lease length in ms (tests shorten it). Default: the engine's. */
  leaseMs?: number;
  onError?: (err: Error) => void;
  /** A scheduled digest was made (`onDigestReady`): for a notification. */
  onDigestReady?: (event: DigestReadyEvent) => void;
}

export interface EngineHost {
  engine: Engine;
  /** Refreshes due feeds and starts the episodes they queued; null without an episode pipeline. */
  ingest: BackgroundIngest | null;
  /** Stop ingesting, let running steps finish within `graceMs`, close the library. Idempotent. */
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
  });
  engine.on('error', onError);
  const onDigestReady = options.onDigestReady;
  if (onDigestReady) {
    watchDigests(engine, ctx.db, (event) => {
      try {
        onDigestReady(event);
      } catch (err) {
        onError(err as Error);
      }
    });
  }
  const ingest = ctx.registry.has('episode')
    ? new BackgroundIngest(new Subscriptions(ctx.db, ctx.clock), engine.queue, { onError })
    : null;
  let stopping: Promise<void> | null = null;
  engine.start();
  return {
    engine,
    ingest,
    shutdown(graceMs = 10_000) {
      stopping ??= (async () => {
        await ingest?.stop();
        await engine.stop(graceMs);
        ctx.db.close();
      })();
      return stopping;
    },
  };
}
