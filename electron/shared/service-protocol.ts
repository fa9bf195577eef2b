/**
 * What Electron's main process and the library service (a utility process) say to each other on
 * the service's parentPort. Pure types, shared by both sides and their tests. API calls and
 * events never travel here: they go over MessagePorts main hands out (pipeline/api/rpc.ts).
 */
import type { WorkerBoot } from '../../pipeline/engine/protocol.ts';
import type { LaneName } from '../../pipeline/api/contract.ts';

/** Handed to the service in its environment (EARSHOT_SERVICE_BOOT). */
export interface ServiceBoot {
  dataDir: string;
  /** The workflows module the engine and its workers import (out/main/workflows.js). */
  registryModule: string;
  /** Holds that apply at start (the power source as main read it just now). */
  holds: { lane: LaneName; reason: string }[];
  /** Workers per lane; default the machine's plan. */
  lanes?: Partial<Record<LaneName, number>>;
  /** Run the engine (default true). */
  engine?: boolean;
}

/** Main → service. A message that carries a port has it in the event's `ports[0]`. */
export type ToService =
  /** A client's port: a window's, or main's own. */
  | { type: 'connect'; client: string }
  /** The port of a worker main forked at the service's request, and its pid. */
  | { type: 'worker-port'; workerId: string; pid: number }
  | { type: 'worker-exit'; workerId: string; reason: string }
  | { type: 'hold'; lane: LaneName; reason: string; on: boolean }
  | { type: 'shutdown'; graceMs: number };

/** Service → main. */
export type FromService =
  | { type: 'ready' }
  /** Fork a worker utility process with this boot data and broker a port to it. */
  | { type: 'spawn-worker'; boot: WorkerBoot }
  | { type: 'kill-worker'; workerId: string; signal: NodeJS.Signals }
  /** The service could not start: the message says why and what to do. */
  | { type: 'failed'; message: string }
  | { type: 'stopped' };

/** The environment variable that carries ServiceBoot. */
export const SERVICE_BOOT_ENV = 'EARSHOT_SERVICE_BOOT';

/**
 * The power source's reason: main tells the service the machine is on battery with it; the
 * service's processing rules then hold the gpu lane under that name (unless Settings says go on).
 */
export { ON_BATTERY as BATTERY_HOLD } from '../../pipeline/engine/rules.ts';
