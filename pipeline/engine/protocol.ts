import type { Json } from './workflow.ts';
import type { GpuBinding } from './devices.ts';

/** Messages between the engine (host) and a worker process. Plain JSON over the IPC channel. */
export type HostMessage =
  | {
      type: 'run';
      jobId: number;
      fence: number;
      workflowId: string;
      kind: string;
      subject: string;
      step: string;
      input: Json;
      outputs: Record<string, Json>;
      run: number;
    }
  | { type: 'abort'; jobId: number; reason: string }
  | { type: 'shutdown' };

export type WorkerMessage =
  | { type: 'ready'; pid: number }
  | { type: 'heartbeat'; jobId: number }
  | { type: 'progress'; jobId: number; fraction: number; detail?: Json }
  | { type: 'done'; jobId: number; output: Json }
  | {
      type: 'failed';
      jobId: number;
      message: string;
      retryable: boolean;
      aborted: boolean;
      /** The step was told when to try again (e.g. HTTP Retry-After), in ms. */
      retryAfterMs?: number;
    };

export interface WorkerBoot {
  /** Module exporting `workflows`, imported by the worker to find step code. */
  registryModule: string;
  dataDir: string;
  /** How often a running step reports it is alive, in ms. */
  heartbeatMs: number;
  lane: string;
  workerId: string;
  /** A gpu-lane worker's device; null on other lanes and on a machine without a usable GPU. */
  device?: GpuBinding | null;
}
