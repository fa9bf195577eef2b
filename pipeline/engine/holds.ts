import os from 'node:os';
import { randomUUID } from 'node:crypto';
import type { HoldHolder, Queue } from './queue.ts';
import type { Lane } from './workflow.ts';

export interface LaneHoldsOptions {
  /** How long a hold lasts without renewal, in ms. Default: the queue's lease. */
  ttlMs?: number;
  onError?: (err: Error) => void;
}

/**
 * The live holds of one process on lanes (the desktop app on battery, `models advise` while it
 * measures): set and cleared as the situation changes, renewed while this process lives, and
 * released when it stops. Never stored over the user's pause, never read back after a restart:
 * a new process re-reads the situation (the power source) and holds again if it still applies.
 */
export class LaneHolds {
  readonly holder: HoldHolder = { id: randomUUID(), hostname: os.hostname(), pid: process.pid };
  private readonly queue: Queue;
  private readonly ttlMs: number;
  private readonly onError: (err: Error) => void;
  private readonly held = new Set<string>();
  private timer: NodeJS.Timeout | null = null;

  constructor(queue: Queue, options: LaneHoldsOptions = {}) {
    this.queue = queue;
    this.ttlMs = options.ttlMs ?? queue.leaseMs;
    this.onError = options.onError ?? (() => {});
  }

  private static key(lane: Lane, reason: string): string {
    return `${lane}\u0000${reason}`;
  }

  /** Hold or release `lane` for `reason`. Returns whether anything changed. */
  set(lane: Lane, reason: string, on: boolean): boolean {
    const key = LaneHolds.key(lane, reason);
    if (on === this.held.has(key)) return false;
    if (on) {
      this.queue.hold(lane, reason, this.holder, this.ttlMs);
      this.held.add(key);
      this.timer ??= setInterval(() => this.renew(), Math.max(50, Math.floor(this.ttlMs / 3)));
      // Renewal never keeps a process alive on its own.
      this.timer.unref();
    } else {
      this.held.delete(key);
      this.queue.releaseHold(lane, reason, this.holder);
      if (this.held.size === 0) this.stopTimer();
    }
    return true;
  }

  has(lane: Lane, reason: string): boolean {
    return this.held.has(LaneHolds.key(lane, reason));
  }

  /** Run `fn` with the lane held for `reason`, released after whatever happens. */
  async during<T>(lane: Lane, reason: string, fn: () => Promise<T>): Promise<T> {
    const took = this.set(lane, reason, true);
    try {
      return await fn();
    } finally {
      if (took) this.set(lane, reason, false);
    }
  }

  private renew(): void {
    try {
      this.queue.renewHolds(this.holder, this.ttlMs);
    } catch (err) {
      this.onError(err as Error);
    }
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Release every hold of this process (a clean stop). */
  close(): void {
    this.stopTimer();
    for (const key of [...this.held]) {
      const [lane, reason] = key.split('\u0000') as [Lane, string];
      this.held.delete(key);
      try {
        this.queue.releaseHold(lane, reason, this.holder);
      } catch (err) {
        this.onError(err as Error);
      }
    }
  }
}
