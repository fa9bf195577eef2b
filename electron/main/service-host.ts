import type { WorkerBoot } from '../../pipeline/engine/protocol.ts';
import { deviceEnv } from '../../pipeline/engine/devices.ts';
import { describeExit } from '../../pipeline/engine/worker-host.ts';
import { rpcClient, type RpcClient } from '../../pipeline/api/rpc.ts';
import type { LaneName } from '../../pipeline/api/contract.ts';
import {
  SERVICE_BOOT_ENV,
  type FromService,
  type ServiceBoot,
  type ToService,
} from '../shared/service-protocol.ts';
import { rpcPortOf, type PortMainLike } from '../service/ports.ts';
import { PORT_CHANNEL } from '../shared/bridge.ts';

/** What main needs of a utility process (Electron's UtilityProcess, or the tests' fake). */
export interface UtilityLike {
  readonly pid: number | undefined;
  postMessage(message: unknown, transfer?: PortMainLike[]): void;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  on(event: 'exit', listener: (code: number) => void): unknown;
  on(event: 'error', listener: (type: string, location: string) => void): unknown;
  once(event: 'exit', listener: (code: number) => void): unknown;
  kill(): boolean;
}

export interface ServiceHostDeps {
  utilityProcess: {
    fork(
      modulePath: string,
      args: string[],
      options: { serviceName?: string; env?: NodeJS.ProcessEnv; stdio?: 'inherit' | 'pipe' | 'ignore' },
    ): UtilityLike;
  };
  MessageChannelMain: new () => { port1: PortMainLike; port2: PortMainLike };
  /** out/main/service.js and out/main/worker.js. */
  serviceEntry: string;
  workerEntry: string;
  /** The service's boot data, read at each (re)start: the power source is re-read then. */
  boot(): ServiceBoot;
  /** Extra environment for the service and workers. */
  env?: NodeJS.ProcessEnv;
  /** Kills a process by pid with a signal (a hung worker needs SIGKILL). Default process.kill. */
  killPid?: (pid: number, signal: NodeJS.Signals) => void;
  onError?: (err: Error) => void;
  /** Called when the service is (again) up; main re-reads its state then (the tray). */
  onReady?: () => void;
  /** Longest pause before restarting a service that keeps dying, in ms. Default 30000. */
  maxRestartDelayMs?: number;
}

/** A window's contents, as far as brokering a port to it goes. */
export interface PortTarget {
  postMessage(channel: string, message: unknown, transfer: PortMainLike[]): void;
  isDestroyed(): boolean;
}

/** The channel on which a window receives its port to the service. */
export const SERVICE_PORT_CHANNEL = PORT_CHANNEL;

export interface ServiceHost {
  /** Main's own client of the API (the tray's pause, its state). */
  readonly client: RpcClient;
  /** Give a window a port to the service, now and again after every restart of the service. */
  connect(target: PortTarget): void;
  /** Hold or release a lane for a live reason (the power source); re-applied after a restart via boot. */
  setHold(lane: LaneName, reason: string, on: boolean): void;
  /** The service's pid (for tests and the process list); undefined while it restarts. */
  readonly pid: number | undefined;
  /** Ask the service to stop (running steps get `graceMs`), then kill what is left. */
  stop(graceMs?: number): Promise<void>;
}

interface Worker {
  child: UtilityLike;
  exited: boolean;
}

/**
 * The library service as Electron's main process keeps it: a utility process forked here that
 * owns the library, with main only brokering ports (windows ↔ service, service ↔ workers),
 * forking the workers the service asks for, passing on the power source, and restarting the
 * service if it dies (a native crash there no longer takes the app down). Main itself runs no
 * query, no search, no refresh: its event loop stays free for windows, tray and menus.
 */
export function startServiceHost(deps: ServiceHostDeps): ServiceHost {
  const onError = deps.onError ?? ((err: Error) => console.error(`Earshot: ${err.message}`));
  const killPid = deps.killPid ?? ((pid, signal) => process.kill(pid, signal));
  const client = rpcClient();
  const targets = new Set<PortTarget>();
  const workers = new Map<string, Worker>();
  let service: UtilityLike | null = null;
  let stopping: Promise<void> | null = null;
  let failures = 0;
  let restartTimer: NodeJS.Timeout | null = null;

  const tell = (m: ToService, transfer: PortMainLike[] = []) => service?.postMessage(m, transfer);

  const brokerTo = (target: PortTarget) => {
    if (!service) return;
    if (target.isDestroyed()) {
      targets.delete(target);
      return;
    }
    const { port1, port2 } = new deps.MessageChannelMain();
    tell({ type: 'connect', client: 'window' }, [port1]);
    try {
      target.postMessage(SERVICE_PORT_CHANNEL, null, [port2]);
    } catch (err) {
      onError(err as Error);
    }
  };

  const connectClient = () => {
    const { port1, port2 } = new deps.MessageChannelMain();
    tell({ type: 'connect', client: 'main' }, [port1]);
    client.attach(rpcPortOf(port2));
  };

  const spawnWorker = (boot: WorkerBoot) => {
    const owner = service;
    let child: UtilityLike;
    try {
      child = deps.utilityProcess.fork(deps.workerEntry, [], {
        serviceName: `Earshot worker ${boot.workerId}`,
        env: {
          ...process.env,
          ...deps.env,
          ...deviceEnv(boot.device),
          EARSHOT_WORKER_BOOT: JSON.stringify(boot),
        },
        stdio: 'inherit',
      });
    } catch (err) {
      tell({
        type: 'worker-exit',
        workerId: boot.workerId,
        reason: `the worker process could not start: ${(err as Error).message}`,
      });
      return;
    }
    const worker: Worker = { child, exited: false };
    workers.set(boot.workerId, worker);
    let fatal: string | null = null;
    child.on('error', (type, location) => {
      fatal = `${type} at ${location}`;
    });
    child.once('exit', (code) => {
      worker.exited = true;
      if (workers.get(boot.workerId) === worker) workers.delete(boot.workerId);
      const reason = describeExit(code, null);
      if (service === owner)
        tell({
          type: 'worker-exit',
          workerId: boot.workerId,
          reason: fatal ? `${reason} after a ${fatal}` : reason,
        });
    });
    const { port1, port2 } = new deps.MessageChannelMain();
    child.postMessage({ type: 'port' }, [port1]);
    tell({ type: 'worker-port', workerId: boot.workerId, pid: child.pid ?? 0 }, [port2]);
  };

  const killWorker = (workerId: string, signal: NodeJS.Signals) => {
    const w = workers.get(workerId);
    if (!w || w.exited) return;
    const pid = w.child.pid;
    if (signal === 'SIGTERM' || pid === undefined) {
      w.child.kill();
      return;
    }
    try {
      killPid(pid, signal);
    } catch {
      w.child.kill();
    }
  };

  const killAllWorkers = () => {
    for (const [id, w] of workers) {
      workers.delete(id);
      if (!w.exited) {
        const pid = w.child.pid;
        try {
          if (pid !== undefined) killPid(pid, 'SIGKILL');
          else w.child.kill();
        } catch {
          w.child.kill();
        }
      }
    }
  };

  const start = () => {
    restartTimer = null;
    const boot = deps.boot();
    const child = deps.utilityProcess.fork(deps.serviceEntry, [], {
      serviceName: 'Earshot library',
      env: { ...process.env, ...deps.env, [SERVICE_BOOT_ENV]: JSON.stringify(boot) },
      stdio: 'inherit',
    });
    service = child;
    child.on('message', (raw) => {
      if (service !== child) return;
      const m = raw as FromService;
      switch (m?.type) {
        case 'ready':
          failures = 0;
          deps.onReady?.();
          return;
        case 'spawn-worker':
          return spawnWorker(m.boot);
        case 'kill-worker':
          return killWorker(m.workerId, m.signal);
        case 'failed':
          onError(new Error(`Earshot's library service could not start: ${m.message}`));
          return;
      }
    });
    child.once('exit', (code) => {
      if (service !== child) return;
      service = null;
      client.detach();
      // Its workers' steps can no longer be committed by anyone: stop them; their jobs are
      // recovered by the next service from their leases.
      killAllWorkers();
      if (stopping) return;
      failures++;
      const delay = Math.min(deps.maxRestartDelayMs ?? 30_000, 250 * 2 ** Math.min(failures - 1, 7));
      onError(
        new Error(
          `Earshot's library service stopped (${describeExit(code, null)}); it restarts in ${Math.round(delay / 100) / 10} s.`,
        ),
      );
      restartTimer = setTimeout(start, delay);
    });
    connectClient();
    for (const t of [...targets]) brokerTo(t);
  };

  start();

  return {
    client,
    get pid() {
      return service?.pid;
    },
    connect(target) {
      targets.add(target);
      brokerTo(target);
    },
    setHold(lane, reason, on) {
      tell({ type: 'hold', lane, reason, on });
    },
    stop(graceMs = 5000) {
      stopping ??= (async () => {
        if (restartTimer) clearTimeout(restartTimer);
        const child = service;
        if (child) {
          await new Promise<void>((resolve) => {
            child.once('exit', () => resolve());
            tell({ type: 'shutdown', graceMs });
            // Past the grace period (and the service's own clean-up), it is stopped by force.
            setTimeout(() => child.kill(), graceMs + 5000).unref();
          });
        }
        killAllWorkers();
      })();
      return stopping;
    },
  };
}
