import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { Db } from '../store/db.ts';
import { writeTx } from '../store/db.ts';
import { StoreError, explainStoreError } from '../store/errors.ts';
import { systemClock, type Clock } from './clock.ts';
import { Queue, type ClaimedJob, type JobRow, type Outcome, type QueueOptions } from './queue.ts';
import { LANES, type Json, type Lane, type Registry } from './workflow.ts';
import { NodeWorkerHost, type WorkerHandle, type WorkerHost } from './worker-host.ts';
import type { WorkerMessage } from './protocol.ts';
import type { GpuBinding } from './devices.ts';
import { isProcessAlive } from './process-alive.ts';
import { startCheckpointer, type Checkpointer } from '../store/checkpointer.ts';
import { createLog, type Logger } from '../base/log.ts';

export interface EngineOptions extends QueueOptions {
  db: Db;
  registry: Registry;
  /** Module the worker processes import to find step code (the same one `registry` came from). */
  registryModule: string;
  dataDir: string;
  clock?: Clock;
  /** Worker processes per lane. Defaults: gpu 1 (one job per GPU), cpu half the cores, io 4. */
  lanes?: Partial<Record<Lane, number>>;
  /** How often a running step heartbeats, in ms. Default: a third of the lease. */
  heartbeatMs?: number;
  /** How often the engine looks for work from other processes, in ms. Default 100. */
  pollMs?: number;
  /** How often expired leases and orphaned jobs are swept, in ms. Default: half the lease. */
  sweepMs?: number;
  /** How long a worker may take to stop after its step was aborted, in ms. Default 5000. */
  abortGraceMs?: number;
  host?: WorkerHost;
  /**
   * The GPUs the gpu lane runs on: gpu-lane worker i is bound to device i (one job per device).
   * Default none: gpu-lane work runs on the CPU, one job at a time per worker.
   */
  devices?: GpuBinding[];
  /** Where job lines go (base/log.ts). Default: the library's log file. */
  log?: Logger;
  /**
   * Copy the WAL into the database file from a background thread while the engine runs, rather
   * than in the commit that crosses the autocheckpoint. Default true.
   */
  backgroundCheckpoint?: boolean;
}

export interface EngineEvents {
  started: [
    {
      jobId: number;
      workflowId: string;
      step: string;
      lane: Lane;
      workerId: string;
      /** The GPU the worker is bound to ("cuda:1"), or null. */
      device: string | null;
    },
  ];
  progress: [{ jobId: number; workflowId: string; step: string; fraction: number; detail?: Json }];
  finished: [{ jobId: number; workflowId: string; step: string; outcome: Outcome }];
  crashed: [{ workerId: string; lane: Lane; reason: string; jobId?: number }];
  error: [Error];
  idle: [];
}

type SlotState = 'starting' | 'idle' | 'busy' | 'exited';

interface Slot {
  workerId: string;
  lane: Lane;
  handle: WorkerHandle | null;
  state: SlotState;
  job: ClaimedJob | null;
  /** Set when the job was taken from this worker (cancelled, lease lost, shutdown). */
  lost: string | null;
  killTimer: NodeJS.Timeout | null;
  /** Ends a run that exceeds its step's time limit. */
  deadline: NodeJS.Timeout | null;
  restarts: number;
  /** Exits since the worker was last ready; sets the pause before the next restart. */
  failedStarts: number;
  lastExit: string | null;
  /** Why the engine itself killed this worker, if it did; reported instead of the signal. */
  killedBecause: string | null;
  /** The GPU this worker is bound to (gpu lane on a machine with GPUs), for its whole life. */
  device: GpuBinding | null;
}

const DEFAULT_STEP_TIMEOUT_MS = 6 * 3_600_000;

function formatDuration(ms: number): string {
  if (ms >= 3_600_000) return `${+(ms / 3_600_000).toFixed(1)} h`;
  if (ms >= 60_000) return `${+(ms / 60_000).toFixed(1)} min`;
  return `${+(ms / 1000).toFixed(1)} s`;
}

/** Why a job was taken from its worker during a graceful shutdown (also the abort reason). */
const SHUTDOWN = 'Earshot is shutting down';

export function defaultLaneConcurrency(): Record<Lane, number> {
  return { gpu: 1, cpu: Math.max(1, Math.floor(os.availableParallelism() / 2)), io: 4 };
}

/**
 * The engine process: owns a pool of worker processes per lane, claims jobs for idle workers,
 * commits what they return, heartbeats their leases, recovers from their crashes, and sweeps
 * leases that expired anywhere.
 */
export class Engine extends EventEmitter<EngineEvents> {
  readonly bootId = randomUUID();
  readonly queue: Queue;
  readonly concurrency: Record<Lane, number>;
  private readonly clock: Clock;
  private readonly host: WorkerHost;
  private readonly slots: Slot[] = [];
  private readonly heartbeatMs: number;
  private readonly pollMs: number;
  private readonly sweepMs: number;
  private readonly abortGraceMs: number;
  private pollTimer: NodeJS.Timeout | null = null;
  private sweepTimer: NodeJS.Timeout | null = null;
  private running = false;
  private stopping = false;
  private checkpointer: Checkpointer | null = null;
  private ticking = false;
  private tickAgain = false;
  private tickScheduled = false;
  /** Monotonic time of the last sweep, to notice the process (or machine) having slept. */
  private lastSweepMono: number | null = null;
  /** Results that came in and wait for the next tick's group commit. */
  private readonly pendingDone: { job: ClaimedJob; output: Json }[] = [];

  private readonly options: EngineOptions;
  /** The engine's log; each line about a job carries its job and workflow ids. */
  readonly log: Logger;

  constructor(options: EngineOptions) {
    super();
    this.options = options;
    this.clock = options.clock ?? systemClock;
    this.queue = new Queue(options.db, options.registry, this.clock, options);
    this.concurrency = { ...defaultLaneConcurrency(), ...options.lanes };
    this.host = options.host ?? new NodeWorkerHost();
    this.heartbeatMs = options.heartbeatMs ?? Math.max(50, Math.floor(this.queue.leaseMs / 3));
    this.pollMs = options.pollMs ?? 100;
    this.sweepMs = options.sweepMs ?? Math.max(50, Math.floor(this.queue.leaseMs / 2));
    this.abortGraceMs = options.abortGraceMs ?? 5000;
    this.log = (options.log ?? createLog(options.dataDir, 'engine')).child({ engine: this.bootId });
    // Errors reach the shells through the 'error' event; the log keeps them too.
    this.on('error', (err) => this.log.error({ err }, 'engine error'));
  }

  get db(): Db {
    return this.options.db;
  }

  /** Register this engine, start its workers and begin claiming work. */
  start(): void {
    if (this.running) return;
    this.running = true;
    const now = this.clock.now();
    writeTx(this.db, 'starting the engine', () => {
      this.db
        .prepare(
          'INSERT INTO engines (boot_id, pid, hostname, started_at, heartbeat_at) VALUES (?, ?, ?, ?, ?)',
        )
        .run(this.bootId, process.pid, os.hostname(), now, now);
    });
    if (this.options.backgroundCheckpoint ?? true) {
      this.checkpointer = startCheckpointer(this.db, { onError: (err) => this.emit('error', err) });
    }
    for (const lane of LANES) {
      for (let i = 0; i < this.concurrency[lane]; i++) {
        const slot: Slot = {
          workerId: `${lane}-${i}`,
          lane,
          handle: null,
          state: 'exited',
          job: null,
          lost: null,
          killTimer: null,
          deadline: null,
          restarts: 0,
          failedStarts: 0,
          lastExit: null,
          killedBecause: null,
          device: lane === 'gpu' ? (this.options.devices?.[i] ?? null) : null,
        };
        this.slots.push(slot);
        this.spawn(slot);
      }
    }
    this.log.info(
      {
        lanes: this.concurrency,
        devices: (this.options.devices ?? []).map((d) => `${d.backend}:${d.index} ${d.name}`),
      },
      'engine started',
    );
    this.sweep();
    this.pollTimer = setInterval(() => this.tick(), this.pollMs);
    this.sweepTimer = setInterval(() => this.sweep(), this.sweepMs);
  }

  private owner(slot: Slot): string {
    return `${this.bootId}:${slot.workerId}`;
  }

  private spawn(slot: Slot): void {
    slot.state = 'starting';
    const handle = this.host.spawn({
      registryModule: this.options.registryModule,
      dataDir: this.options.dataDir,
      heartbeatMs: this.heartbeatMs,
      lane: slot.lane,
      workerId: slot.workerId,
      device: slot.device,
    });
    slot.handle = handle;
    handle.onMessage((m) => this.onWorkerMessage(slot, handle, m));
    handle.onExit((reason) => this.onWorkerExit(slot, handle, reason));
    this.recordWorker(slot);
  }

  /**
   * Workers as other processes (`earshot status`) see them. Written when a worker starts, is
   * ready or exits, not per job: which job a worker holds is read from the jobs' leases.
   */
  private recordWorker(slot: Slot): void {
    try {
      writeTx(this.db, 'recording a worker', () => {
        this.db
          .prepare(
            `INSERT INTO workers (boot_id, worker_id, lane, pid, state, restarts, last_exit, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (boot_id, worker_id) DO UPDATE SET pid = excluded.pid, state = excluded.state,
               restarts = excluded.restarts, last_exit = excluded.last_exit, updated_at = excluded.updated_at`,
          )
          .run(
            this.bootId,
            slot.workerId,
            slot.lane,
            slot.handle?.pid ?? null,
            // Busy or idle is read from the jobs' leases; here only whether the process is up.
            slot.state === 'busy' ? 'idle' : slot.state,
            slot.restarts,
            slot.lastExit,
            this.clock.now(),
          );
      });
    } catch (err) {
      this.emit('error', err as Error);
    }
  }

  private onWorkerMessage(slot: Slot, handle: WorkerHandle, m: WorkerMessage): void {
    if (slot.handle !== handle) return;
    switch (m.type) {
      case 'ready':
        if (slot.state === 'starting') {
          slot.state = 'idle';
          slot.failedStarts = 0;
          this.recordWorker(slot);
          this.tick();
        }
        return;
      case 'heartbeat': {
        const job = slot.job;
        if (!job || job.jobId !== m.jobId || slot.lost) return;
        let held = false;
        try {
          held = this.queue.heartbeat(job.jobId, job.fence);
        } catch (err) {
          this.emit('error', err as Error);
          return;
        }
        if (held) job.leaseExpiresAt = this.clock.now() + this.queue.leaseMs;
        else this.takeAway(slot, this.whyLost(job.jobId));
        return;
      }
      case 'progress':
        if (slot.job?.jobId === m.jobId) {
          this.emit('progress', {
            jobId: m.jobId,
            workflowId: slot.job.workflowId,
            step: slot.job.step,
            fraction: m.fraction,
            detail: m.detail,
          });
        }
        return;
      case 'done':
      case 'failed': {
        const job = slot.job;
        if (!job || job.jobId !== m.jobId) return;
        const lost = slot.lost;
        this.clearJob(slot);
        if (m.type === 'done' && (!lost || lost === SHUTDOWN)) {
          // Committed in the next tick, together with other results and the next claims.
          this.pendingDone.push({ job, output: m.output });
          slot.state = 'idle';
          this.scheduleTick();
          return;
        }
        let outcome: Outcome = { kind: 'stale' };
        try {
          // The worker is done with the job: only now may it count as free elsewhere.
          if (lost === SHUTDOWN) this.queue.release(job.jobId, job.fence);
          else if (lost === 'cancelled') this.queue.dropLease(job.jobId, job.fence);
          else if (!lost) {
            outcome =
              m.type === 'failed'
                ? this.queue.fail(job.jobId, job.fence, m.message, m.retryable, m.retryAfterMs)
                : outcome;
          }
        } catch (err) {
          outcome = this.commitFailed(job, err);
        }
        this.finish(job, outcome);
        slot.state = 'idle';
        this.tick();
        return;
      }
    }
  }

  /**
   * Saving a step's result failed. A store problem (disk full, database busy) leaves the job to
   * its lease: it runs again later and nothing half-written stays behind. Any other error (a
   * step's projection threw) is the step's failure and goes through the usual retries.
   */
  private commitFailed(job: ClaimedJob, err: unknown): Outcome {
    const explained = explainStoreError(err, "saving a step's result");
    const error = explained instanceof Error ? explained : new Error(String(explained));
    this.emit('error', error);
    if (error instanceof StoreError) return { kind: 'stale' };
    try {
      return this.queue.fail(job.jobId, job.fence, `saving the step's result failed: ${error.message}`);
    } catch (again) {
      this.emit('error', again as Error);
      return { kind: 'stale' };
    }
  }

  private whyLost(jobId: number): string {
    const row = this.db.prepare('SELECT state FROM jobs WHERE id = ?').get(jobId) as
      { state: string } | undefined;
    return row?.state === 'cancelled' ? 'cancelled' : 'lease lost';
  }

  /** The job is no longer this worker's: abort the step, and kill the worker if it does not stop. */
  private takeAway(slot: Slot, reason: string): void {
    if (!slot.job || slot.lost) return;
    slot.lost = reason;
    slot.handle?.send({ type: 'abort', jobId: slot.job.jobId, reason });
    const handle = slot.handle;
    slot.killTimer = setTimeout(() => {
      if (slot.handle === handle && slot.lost)
        this.kill(slot, `it did not stop within ${this.abortGraceMs} ms of being asked to (${reason})`);
    }, this.abortGraceMs);
  }

  private kill(slot: Slot, because: string): void {
    slot.killedBecause = because;
    slot.handle?.kill('SIGKILL');
  }

  private clearJob(slot: Slot): void {
    slot.job = null;
    slot.lost = null;
    if (slot.killTimer) clearTimeout(slot.killTimer);
    slot.killTimer = null;
    if (slot.deadline) clearTimeout(slot.deadline);
    slot.deadline = null;
  }

  private onWorkerExit(slot: Slot, handle: WorkerHandle, exit: string): void {
    if (slot.handle !== handle) return;
    const reason = slot.killedBecause ?? exit;
    slot.killedBecause = null;
    const job = slot.job;
    const lost = slot.lost;
    slot.handle = null;
    slot.state = 'exited';
    slot.lastExit = reason;
    this.clearJob(slot);
    if (job && (lost === SHUTDOWN || (this.stopping && !lost))) {
      // Stopped by the shutdown itself: given back without counting anything against it.
      try {
        this.queue.release(job.jobId, job.fence);
      } catch (err) {
        this.emit('error', err as Error);
      }
    } else if (job) {
      // The exit is the crash signal: the job is claimable again now, not when the lease ends.
      try {
        if (lost === 'cancelled') this.queue.dropLease(job.jobId, job.fence);
        this.finish(job, this.queue.recover(job.jobId, job.fence, reason));
      } catch (err) {
        this.emit('error', err as Error);
      }
    }
    if (this.stopping || !this.running) {
      this.recordWorker(slot);
      return;
    }
    this.log.warn(
      { workerId: slot.workerId, lane: slot.lane, reason, jobId: job?.jobId, workflowId: job?.workflowId },
      'worker exited',
    );
    this.emit('crashed', { workerId: slot.workerId, lane: slot.lane, reason, jobId: job?.jobId });
    slot.restarts += 1;
    slot.failedStarts += 1;
    this.recordWorker(slot);
    // A worker that keeps dying before it is even ready is restarted with growing pauses.
    const delay = Math.min(10_000, 50 * 2 ** Math.min(slot.failedStarts - 1, 8));
    setTimeout(() => {
      if (!this.stopping && this.running) this.spawn(slot);
    }, delay);
  }

  /** Claim work for every idle worker. Re-entrant calls coalesce. */
  private scheduleTick(): void {
    if (this.tickScheduled) return;
    this.tickScheduled = true;
    setImmediate(() => {
      this.tickScheduled = false;
      this.tick();
    });
  }

  /**
   * Commit the results that came in and claim work for every idle worker, all in one
   * transaction (group commit). Re-entrant calls coalesce. While stopping it only commits.
   */
  tick(): void {
    if (!this.running) return;
    if (this.ticking) {
      this.tickAgain = true;
      return;
    }
    this.ticking = true;
    try {
      do {
        this.tickAgain = false;
        const done = this.pendingDone.splice(0);
        const idle = this.stopping ? [] : this.slots.filter((s) => s.state === 'idle' && s.handle);
        const ready = new Map<Lane, boolean>();
        const claimers = idle.filter((s) => {
          if (!ready.has(s.lane)) ready.set(s.lane, this.queue.hasRunnable(s.lane));
          return ready.get(s.lane);
        });
        if (done.length === 0 && claimers.length === 0) continue;
        let settled: ReturnType<Queue['settle']>;
        try {
          settled = this.queue.settle(
            done.map((d) => ({ jobId: d.job.jobId, fence: d.job.fence, output: d.output })),
            claimers.map((slot) => ({
              lane: slot.lane,
              owner: this.owner(slot),
              pid: slot.handle!.pid ?? 0,
              limit: this.concurrency[slot.lane],
            })),
          );
        } catch (err) {
          // Nothing was written (database busy, disk full): keep the results and try again
          // shortly; a result whose lease runs out meanwhile is simply run again later.
          this.emit('error', err as Error);
          this.pendingDone.unshift(...done);
          setTimeout(() => this.scheduleTick(), 1000).unref();
          break;
        }
        for (const e of settled.claimErrors) this.emit('error', e);
        settled.outcomes.forEach((o, i) => {
          const d = done[i]!;
          this.finish(d.job, o instanceof Error ? this.commitFailed(d.job, o) : o);
        });
        settled.claimed.forEach((job, i) => {
          if (job) this.dispatch(claimers[i]!, job);
        });
      } while (this.tickAgain);
    } finally {
      this.ticking = false;
    }
    // Idleness costs a few queries: only worked out when something waits for it.
    if (this.listenerCount('idle') > 0 && this.isIdle()) this.emit('idle');
  }

  private finish(job: ClaimedJob, outcome: Outcome): void {
    const line = { jobId: job.jobId, workflowId: job.workflowId, step: job.step, lane: job.lane, outcome };
    if (outcome.kind === 'dead') this.log.error(line, 'step dead-lettered');
    else if (outcome.kind === 'retry') this.log.warn(line, 'step will run again');
    else this.log.info(line, 'step finished');
    if (outcome.kind === 'dead') this.abandoned(job);
    this.emit('finished', { jobId: job.jobId, workflowId: job.workflowId, step: job.step, outcome });
  }

  /** The workflow was dead-lettered at this step: let the step drop what it kept for a retry. */
  private abandoned(job: ClaimedJob): void {
    try {
      const { registry, dataDir } = this.options;
      const def = registry.has(job.kind) ? registry.step(job.kind, job.step) : undefined;
      def?.onDead?.({ dataDir, input: job.input, subject: job.subject });
    } catch (err) {
      this.emit('error', err as Error);
    }
  }

  private dispatch(slot: Slot, job: ClaimedJob): void {
    if (!slot.handle || slot.state !== 'idle') {
      // The worker went away between the claim and now: give the job straight back.
      try {
        this.queue.recover(job.jobId, job.fence, 'its worker exited before the step could start');
      } catch (err) {
        this.emit('error', err as Error);
      }
      return;
    }
    slot.state = 'busy';
    slot.job = job;
    const limit = this.options.registry.step(job.kind, job.step).timeoutMs ?? DEFAULT_STEP_TIMEOUT_MS;
    const handle = slot.handle;
    slot.deadline = setTimeout(() => {
      if (slot.job?.jobId === job.jobId && slot.handle === handle) {
        this.kill(slot, `it ran longer than its limit of ${formatDuration(limit)}, so Earshot stopped it`);
      }
    }, limit);
    slot.handle.send({
      type: 'run',
      jobId: job.jobId,
      fence: job.fence,
      workflowId: job.workflowId,
      kind: job.kind,
      subject: job.subject,
      step: job.step,
      input: job.input,
      outputs: job.outputs,
      run: job.run,
    });
    this.log.info(
      {
        jobId: job.jobId,
        workflowId: job.workflowId,
        step: job.step,
        lane: job.lane,
        workerId: slot.workerId,
        run: job.run,
        device: slot.device ? `${slot.device.backend}:${slot.device.index}` : null,
      },
      'step started',
    );
    this.emit('started', {
      jobId: job.jobId,
      workflowId: job.workflowId,
      step: job.step,
      lane: job.lane,
      workerId: slot.workerId,
      device: slot.device ? `${slot.device.backend}:${slot.device.index}` : null,
    });
  }

  /**
   * Return expired leases and the jobs of engines that died on this machine to the queue. A job
   * whose process is still alive here is stopped first, so a lane never runs more than its
   * limit (the gpu lane above all) even while a hung step is being replaced.
   */
  sweep(): void {
    if (!this.running) return;
    try {
      const now = this.clock.now();
      this.db.prepare('UPDATE engines SET heartbeat_at = ? WHERE boot_id = ?').run(now, this.bootId);
      const mono = performance.now();
      const late = this.lastSweepMono === null ? 0 : mono - this.lastSweepMono - this.sweepMs;
      this.lastSweepMono = mono;
      if (late > this.queue.leaseMs / 2) {
        // The machine slept (or this process was stopped): no heartbeat could get through, so
        // leases look expired that are not. Renew our own and expire nothing this round.
        for (const slot of this.slots) {
          if (slot.job && !slot.lost && this.queue.heartbeat(slot.job.jobId, slot.job.fence)) {
            slot.job.leaseExpiresAt = now + this.queue.leaseMs;
          }
        }
        this.tick();
        return;
      }
      const here = os.hostname();
      // A hold whose holder stopped or died (an app killed on battery) means nothing now.
      this.queue.dropDeadHolds(here, isProcessAlive);
      const engines = new Map(
        (
          this.db
            .prepare('SELECT boot_id, pid, heartbeat_at, stopped_at FROM engines WHERE hostname = ?')
            .all(here) as { boot_id: string; pid: number; heartbeat_at: number; stopped_at: number | null }[]
        ).map((r) => [r.boot_id, r]),
      );
      const ownerOf = (job: JobRow) => engines.get(job.lease_owner?.split(':')[0] ?? '');
      const isLocal = (job: JobRow) => ownerOf(job) !== undefined;
      // A pid alone proves little after a reboot (it may be another program now): a worker pid
      // is trusted only while the engine that started it is alive and heartbeating.
      const ownerAlive = (job: JobRow) => {
        const e = ownerOf(job);
        return (
          !!e &&
          e.stopped_at === null &&
          isProcessAlive(e.pid) &&
          now - e.heartbeat_at < 3 * this.queue.leaseMs
        );
      };
      this.queue.sweep((job) => {
        const mine = this.slots.find((s) => s.job?.jobId === job.id && s.job.fence === job.fence);
        if (mine) {
          // Our own hung worker: stop it first; its exit returns the job (never two at once).
          this.kill(
            mine,
            'its lease expired without a heartbeat (the step hung), so Earshot stopped its worker',
          );
          return false;
        }
        if (!isLocal(job) || !ownerAlive(job) || !isProcessAlive(job.lease_pid)) return true;
        try {
          process.kill(job.lease_pid!, 'SIGKILL');
        } catch {
          return true; // gone meanwhile, or not ours to stop
        }
        return false;
      });
      for (const job of this.queue.running()) {
        const bootId = job.lease_owner?.split(':')[0];
        if (bootId === this.bootId || !isLocal(job)) continue;
        if (ownerAlive(job) && isProcessAlive(job.lease_pid)) continue;
        if (!ownerAlive(job) && isProcessAlive(job.lease_pid) && (job.lease_expires_at ?? 0) > now) continue;
        const outcome = this.queue.recover(
          job.id,
          job.fence,
          'Earshot stopped unexpectedly while this step ran',
        );
        this.emit('finished', { jobId: job.id, workflowId: job.workflow_id, step: job.step, outcome });
      }
    } catch (err) {
      this.emit('error', err as Error);
    }
    this.tick();
  }

  /** Abort a running step of this engine at once (cancel), without waiting for a heartbeat. */
  cancel(workflowId: string): boolean {
    const done = this.queue.cancel(workflowId);
    for (const slot of this.slots) if (slot.job?.workflowId === workflowId) this.takeAway(slot, 'cancelled');
    return done;
  }

  /** Nothing running here, and nothing queued or running elsewhere on a lane this engine serves. */
  private isIdle(): boolean {
    const served = LANES.filter((l) => this.concurrency[l] > 0);
    return this.slots.every((s) => !s.job) && !this.queue.hasPendingWork(served);
  }

  /** Resolves when nothing is queued or running in an unpaused lane this engine serves. */
  untilIdle(): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        // A stopped engine is idle too (and its database may be closed).
        if (!this.running || this.isIdle()) {
          this.off('idle', check);
          clearInterval(timer);
          resolve();
        }
      };
      const timer = setInterval(check, this.pollMs);
      this.on('idle', check);
      check();
    });
  }

  /**
   * Graceful shutdown: stop claiming, give running steps `graceMs` to finish, then abort them
   * and release their leases (without counting a failure) so they resume in the next run.
   */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.running || this.stopping) return;
    this.stopping = true;
    if (this.pollTimer) clearInterval(this.pollTimer);
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    const busy = () => this.slots.filter((s) => s.job);
    this.tick(); // commit results already in
    if (busy().length > 0) {
      await new Promise<void>((resolve) => {
        const onFinished = () => {
          if (busy().length === 0) done();
        };
        const done = () => {
          clearTimeout(deadline);
          this.off('finished', onFinished);
          resolve();
        };
        const deadline = setTimeout(done, graceMs);
        this.on('finished', onFinished);
      });
    }
    // Steps still running are aborted; each job is given back only once its worker has let go
    // of it (reported or exited), so no lane ever counts a job free while it still runs.
    for (const slot of busy()) {
      slot.lost = SHUTDOWN;
      slot.handle?.send({ type: 'abort', jobId: slot.job!.jobId, reason: SHUTDOWN });
    }
    const exits = this.slots
      .filter((s) => s.handle)
      .map(
        (s) =>
          new Promise<void>((resolve) => {
            const h = s.handle!;
            h.onExit(() => resolve());
            h.send({ type: 'shutdown' });
            setTimeout(() => h.kill('SIGKILL'), 2000).unref();
          }),
      );
    await Promise.all(exits);
    this.tick(); // and those that came in during the grace period
    this.running = false;
    try {
      writeTx(this.db, 'stopping the engine', () => {
        this.db
          .prepare('UPDATE engines SET stopped_at = ? WHERE boot_id = ?')
          .run(this.clock.now(), this.bootId);
        this.db.prepare(`UPDATE workers SET state = 'exited', pid = NULL WHERE boot_id = ?`).run(this.bootId);
      });
    } catch (err) {
      this.emit('error', err as Error);
    }
    await this.checkpointer?.stop();
    this.checkpointer = null;
    this.log.info('engine stopped');
    this.log.flush();
  }

  workers(): {
    workerId: string;
    lane: Lane;
    pid: number | undefined;
    state: SlotState;
    jobId: number | null;
  }[] {
    return this.slots.map((s) => ({
      workerId: s.workerId,
      lane: s.lane,
      pid: s.handle?.pid,
      state: s.state,
      jobId: s.job?.jobId ?? null,
    }));
  }
}
