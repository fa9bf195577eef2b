import type { Statement } from 'better-sqlite3';
import type { Db } from '../store/db.ts';
import { writeTx } from '../store/db.ts';
import type { Clock } from './clock.ts';
import { backoffDelay, defaultBackoff, type BackoffPolicy } from './backoff.ts';
import {
  LANES,
  pipelineFingerprint,
  stepFingerprints,
  stepLane,
  workflowId,
  type Json,
  type Lane,
  type Registry,
  type Wait,
} from './workflow.ts';

export const DEFAULT_MAX_ATTEMPTS = 3;

/**
 * The condition of the jobs_active partial index (queued and running jobs, running ones first
 * in each lane), written out in every query that should use it: SQLite uses a partial index
 * only when the query repeats its WHERE term.
 */
const ACTIVE = `state IN ('queued', 'running')`;
/** Running jobs of every lane, found through jobs_active one lane at a time. */
const RUNNING = `lane IN (${LANES.map((l) => `'${l}'`).join(', ')}) AND state = 'running' AND ${ACTIVE}`;
export const DEFAULT_MAX_RECOVERIES = 3;
/** Priority of work a person asked for just now; background backlog runs at 0. */
export const PRIORITY_USER = 10;

export interface ClaimedJob {
  jobId: number;
  fence: number;
  workflowId: string;
  kind: string;
  subject: string;
  step: string;
  lane: Lane;
  input: Json;
  outputs: Record<string, Json>;
  run: number;
  leaseExpiresAt: number;
}

export interface ClaimRequest {
  lane: Lane;
  owner: string;
  pid: number;
  /** The lane's concurrency: no claim when this many of its jobs already run (any process). */
  limit: number;
}

export interface JobRow {
  id: number;
  /** The workflow's sequential key (workflows.seq). */
  wf_seq: number;
  workflow_id: string;
  step: string;
  lane: Lane;
  priority: number;
  /** 'waiting': parked until what its step waits for appears (StepDef.waitFor); never claimed. */
  state: 'queued' | 'waiting' | 'running' | 'done' | 'failed' | 'cancelled';
  run_at: number;
  lease_owner: string | null;
  lease_pid: number | null;
  lease_expires_at: number | null;
  fence: number;
  attempts: number;
  recoveries: number;
  last_error: string | null;
  crash_reason: string | null;
  created_at: number;
  claimed_at: number | null;
  finished_at: number | null;
}

export interface WorkflowRow {
  /** Sequential key, in the order workflows were started; steps and jobs refer to it. */
  seq: number;
  id: string;
  kind: string;
  subject: string;
  fingerprint: string;
  input: string;
  status: 'queued' | 'waiting' | 'running' | 'completed' | 'dead' | 'cancelled';
  priority: number;
  dead_reason: string | null;
  /** While waiting: the resource its next step waits for (Wait.resource) and the phrase for people. */
  waiting_for: string | null;
  waiting_what: string | null;
  created_at: number;
  updated_at: number;
  completed_at: number | null;
}

/**
 * A step as stored. A claim writes only its job (one row fewer per commit): while the job runs,
 * the step's row still says 'pending', and readers show it running from the job (its claim
 * time is the step's start, written into the row when the step completes or fails).
 */
export interface StepRow {
  wf_seq: number;
  workflow_id: string;
  name: string;
  position: number;
  lane: Lane;
  fingerprint: string;
  status: 'pending' | 'waiting' | 'running' | 'completed' | 'failed' | 'cancelled';
  output: string | null;
  attempts: number;
  recoveries: number;
  last_error: string | null;
  reused_from: string | null;
  started_at: number | null;
  finished_at: number | null;
}

export type Outcome =
  | { kind: 'committed'; workflowDone: boolean }
  | { kind: 'retry'; runAt: number }
  | { kind: 'dead'; reason: string }
  | { kind: 'stale' };

export class LeaseLostError extends Error {
  constructor(jobId: number) {
    super(`Job ${jobId} is no longer held by this worker (its lease expired or it was cancelled)`);
    this.name = 'LeaseLostError';
  }
}

/** Who holds a lane: a process (its id, this machine's name and its pid). */
export interface HoldHolder {
  id: string;
  hostname: string;
  pid: number;
}

export interface QueueOptions {
  /** How long a claim holds a job without a heartbeat, in ms. Default 30000. */
  leaseMs?: number;
  backoff?: BackoffPolicy;
  random?: () => number;
}

/**
 * The durable queue: every state change of workflows, steps and jobs, each one a single
 * BEGIN IMMEDIATE transaction, with every write by a job holder checked against its fence.
 */
export class Queue {
  readonly leaseMs: number;
  private readonly backoff: BackoffPolicy;
  private readonly random: () => number;

  private readonly statements = new Map<string, Statement>();

  /** Prepared statements are cached: preparing costs more than running most of these. */
  private sql(source: string): Statement {
    let st = this.statements.get(source);
    if (!st) {
      st = this.db.prepare(source);
      this.statements.set(source, st);
    }
    return st;
  }

  readonly db: Db;
  readonly registry: Registry;
  readonly clock: Clock;

  constructor(db: Db, registry: Registry, clock: Clock, options: QueueOptions = {}) {
    this.db = db;
    this.registry = registry;
    this.clock = clock;
    this.leaseMs = options.leaseMs ?? 30_000;
    this.backoff = options.backoff ?? defaultBackoff;
    this.random = options.random ?? Math.random;
  }

  /**
   * Start (or find) the workflow for `subject`. Steps whose fingerprint matches a step already
   * committed for the same subject are reused, so a pipeline change re-runs only what it affects.
   */
  start(kind: string, subject: string, input: Json = {}, options: { priority?: number } = {}): string {
    const now = this.clock.now();
    return writeTx(this.db, `starting ${kind} for ${subject}`, () =>
      this.startInTx(kind, subject, input, options.priority ?? 0, now),
    );
  }

  /** Start many workflows in one transaction (a feed refresh, an OPML import, `process --all`). */
  startMany(items: { kind: string; subject: string; input?: Json; priority?: number }[]): string[] {
    const now = this.clock.now();
    return writeTx(this.db, `starting ${items.length} workflows`, () =>
      items.map((i) => this.startInTx(i.kind, i.subject, i.input ?? {}, i.priority ?? 0, now)),
    );
  }

  private startInTx(kind: string, subject: string, input: Json, priority: number, now: number): string {
    const def = this.registry.get(kind);
    const prints = stepFingerprints(def, input);
    const fingerprint = pipelineFingerprint(prints);
    const id = workflowId(kind, subject, fingerprint);
    const existing = this.sql('SELECT status, priority FROM workflows WHERE id = ?').get(id) as
      { status: string; priority: number } | undefined;
    if (existing) {
      if (priority > existing.priority) this.setPriority(id, priority);
      return id;
    }
    const seq = Number(
      this.sql(
        `INSERT INTO workflows (id, kind, subject, fingerprint, input, status, priority, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, 'queued', ?, ?, ?)`,
      ).run(id, kind, subject, fingerprint, JSON.stringify(input), priority, now, now).lastInsertRowid,
    );
    // Walk this subject's earlier workflows (few), never every step with this fingerprint (many).
    const findReusable = this.sql(
      `SELECT s.workflow_id, s.output FROM workflows w CROSS JOIN steps s ON s.wf_seq = w.seq
       WHERE w.kind = +? AND w.subject = +? AND w.id != +? AND s.name = +? AND s.fingerprint = +?
         AND s.status = 'completed'
       ORDER BY s.finished_at DESC LIMIT 1`,
    );
    const insertStep = this.sql(
      `INSERT INTO steps (wf_seq, workflow_id, name, position, lane, fingerprint, status, output, reused_from, finished_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    let reusing = Boolean(
      this.sql('SELECT 1 FROM workflows WHERE kind = +? AND subject = +? AND id != +? LIMIT 1').get(
        kind,
        subject,
        id,
      ),
    );
    // A waiting workflow of this subject is replaced by this one (started with what it lacked).
    if (reusing) this.supersedeWaiting(kind, subject, seq, id, now);
    // The first step not reused is the one to queue: known here, no need to read it back.
    let first: { name: string; lane: Lane } | undefined;
    const outputs: Record<string, Json> = {};
    def.steps.forEach((stepDef, position) => {
      const step = { name: stepDef.name, lane: stepLane(stepDef, input) };
      const fp = prints.get(step.name)!;
      const prior = reusing
        ? (findReusable.get(kind, subject, id, step.name, fp) as
            { workflow_id: string; output: string } | undefined)
        : undefined;
      if (prior) {
        outputs[step.name] = prior.output === null ? null : (JSON.parse(prior.output) as Json);
        insertStep.run(
          seq,
          id,
          step.name,
          position,
          step.lane,
          fp,
          'completed',
          prior.output,
          prior.workflow_id,
          now,
        );
      } else {
        reusing = false;
        first ??= step;
        insertStep.run(seq, id, step.name, position, step.lane, fp, 'pending', null, null, null);
      }
    });
    if (first) this.queueStep(seq, id, kind, first, priority, now, { input, outputs });
    else this.markCompleted(seq, now);
    return id;
  }

  /**
   * Queue a step's job, or park it (job 'waiting', workflow 'waiting') when the step waits for
   * something (StepDef.waitFor). Inside a tx. `known`: the input and committed outputs, when the
   * caller has them (else read here, and only for a step that can wait).
   */
  private queueStep(
    seq: number,
    id: string,
    kind: string,
    step: { name: string; lane: Lane },
    priority: number,
    now: number,
    known?: { input: Json; outputs: Record<string, Json> },
  ): Wait | null {
    const def = this.registry.has(kind) ? this.registry.step(kind, step.name) : undefined;
    let wait: Wait | null = null;
    if (def?.waitFor) {
      const m = known ?? this.materials(seq);
      wait = def.waitFor(m.input, m.outputs);
    }
    this.insertJob(seq, id, step.name, step.lane, priority, now, wait ? 'waiting' : 'queued');
    if (wait) {
      this.sql(
        `UPDATE workflows SET status = 'waiting', waiting_for = ?, waiting_what = ?, updated_at = ? WHERE seq = ?`,
      ).run(wait.resource, wait.what, now, seq);
      this.sql(`UPDATE steps SET status = 'waiting' WHERE wf_seq = ? AND name = ?`).run(seq, step.name);
    }
    return wait;
  }

  /** A workflow's input and its committed steps' outputs, as a step sees them. */
  private materials(seq: number): { input: Json; outputs: Record<string, Json> } {
    const wf = this.sql('SELECT input FROM workflows WHERE seq = ?').get(seq) as { input: string };
    const outputs: Record<string, Json> = {};
    for (const s of this.sql(`SELECT name, output FROM steps WHERE wf_seq = ? AND status = 'completed'`).all(
      seq,
    ) as { name: string; output: string | null }[]) {
      outputs[s.name] = s.output === null ? null : (JSON.parse(s.output) as Json);
    }
    return { input: JSON.parse(wf.input) as Json, outputs };
  }

  /** Waiting workflows of a subject give way to the one started for it (`by`). Inside a tx. */
  private supersedeWaiting(kind: string, subject: string, bySeq: number, byId: string, now: number): void {
    const waiting = this.sql(
      `SELECT seq FROM workflows WHERE kind = ? AND subject = ? AND status = 'waiting' AND seq != ?`,
    ).all(kind, subject, bySeq) as { seq: number }[];
    for (const w of waiting) this.supersede(w.seq, byId, now);
  }

  private supersede(seq: number, byId: string, now: number): void {
    const done = this.sql(
      `UPDATE workflows SET status = 'cancelled', waiting_for = NULL, waiting_what = NULL, updated_at = ?,
         dead_reason = ? WHERE seq = ? AND status = 'waiting'`,
    ).run(now, `Replaced by workflow ${byId}, started with what it was waiting for.`, seq);
    if (done.changes === 0) return;
    this.sql(
      `UPDATE jobs SET state = 'cancelled', finished_at = ? WHERE wf_seq = ? AND state = 'waiting'`,
    ).run(now, seq);
    this.sql(`UPDATE steps SET status = 'cancelled' WHERE wf_seq = ? AND status = 'waiting'`).run(seq);
  }

  /**
   * Look again at waiting workflows (all, or those waiting for `resource`): call this when what
   * they wait for may have appeared (a model was chosen). Each gets its input afresh
   * (WorkflowDef.refreshInput): a different input starts the workflow it now is, in place of the
   * waiting one (its committed steps reused); the same input has its waiting step asked again.
   * Returns the ids of the workflows that run now.
   */
  wake(resource?: string): string[] {
    const now = this.clock.now();
    // A read first (the partial index of waiting workflows): nothing waits, no write lock.
    if (!this.sql(`SELECT 1 FROM workflows WHERE status = 'waiting' LIMIT 1`).get()) return [];
    return writeTx(this.db, 'waking waiting work', () => {
      const rows = this.sql(
        `SELECT * FROM workflows WHERE status = 'waiting'${resource === undefined ? '' : ' AND waiting_for = ?'}
         ORDER BY priority DESC, seq`,
      ).all(...(resource === undefined ? [] : [resource])) as WorkflowRow[];
      const woken: string[] = [];
      for (const wf of rows) {
        if (!this.registry.has(wf.kind)) continue;
        const def = this.registry.get(wf.kind);
        const input = JSON.parse(wf.input) as Json;
        const fresh = def.refreshInput ? def.refreshInput(input, this.db) : input;
        const freshId = workflowId(wf.kind, wf.subject, pipelineFingerprint(stepFingerprints(def, fresh)));
        if (freshId !== wf.id) {
          const id = this.startInTx(wf.kind, wf.subject, fresh, wf.priority, now);
          this.supersede(wf.seq, id, now);
          const status = (this.sql('SELECT status FROM workflows WHERE id = ?').get(id) as { status: string })
            .status;
          // It ran before with this input and failed or was stopped: asked for again, it gets another go.
          if (status === 'dead' || status === 'cancelled') this.retryInTx(id, undefined, now);
          woken.push(id);
          continue;
        }
        // Same workflow: fields outside every fingerprint may still have changed.
        if (JSON.stringify(fresh) !== wf.input)
          this.sql('UPDATE workflows SET input = ? WHERE seq = ?').run(JSON.stringify(fresh), wf.seq);
        const step = this.sql(`SELECT name FROM steps WHERE wf_seq = ? AND status = 'waiting'`).get(
          wf.seq,
        ) as { name: string } | undefined;
        const stepDef = step ? def.steps.find((s) => s.name === step.name) : undefined;
        if (!step || !stepDef) continue;
        const m = this.materials(wf.seq);
        if (stepDef.waitFor?.(m.input, m.outputs)) continue;
        this.sql(
          `UPDATE jobs SET state = 'queued', run_at = ? WHERE wf_seq = ? AND step = ? AND state = 'waiting'`,
        ).run(now, wf.seq, step.name);
        this.sql(`UPDATE steps SET status = 'pending' WHERE wf_seq = ? AND name = ?`).run(wf.seq, step.name);
        this.sql(
          `UPDATE workflows SET status = 'queued', waiting_for = NULL, waiting_what = NULL, updated_at = ? WHERE seq = ?`,
        ).run(now, wf.seq);
        woken.push(wf.id);
      }
      return woken;
    });
  }

  setPriority(workflowId: string, priority: number): void {
    writeTx(this.db, 'changing a priority', () => {
      this.sql('UPDATE workflows SET priority = ? WHERE id = ?').run(priority, workflowId);
      this.sql(
        `UPDATE jobs SET priority = ? WHERE wf_seq = (SELECT seq FROM workflows WHERE id = ?) AND state = 'queued'`,
      ).run(priority, workflowId);
    });
  }

  /** Queue (or park) the first step not yet committed, or mark the workflow completed. Inside a tx. */
  private enqueueNext(seq: number, id: string, kind: string, now: number, knownPriority?: number): boolean {
    // `+?` on parameters: the same comparison, but SQLite (STAT4) need not re-plan per call.
    const next = this.sql(
      `SELECT name, lane FROM steps WHERE wf_seq = +? AND status != 'completed' ORDER BY position LIMIT 1`,
    ).get(seq) as { name: string; lane: Lane } | undefined;
    if (!next) {
      this.markCompleted(seq, now);
      return true;
    }
    const priority =
      knownPriority ??
      (this.sql('SELECT priority FROM workflows WHERE seq = ?').get(seq) as { priority: number }).priority;
    this.sql(`UPDATE steps SET status = 'pending' WHERE wf_seq = ? AND name = ? AND status != 'pending'`).run(
      seq,
      next.name,
    );
    this.queueStep(seq, id, kind, next, priority, now);
    return false;
  }

  private markCompleted(seq: number, now: number): void {
    this.sql(
      `UPDATE workflows SET status = 'completed', completed_at = ?, updated_at = ?, dead_reason = NULL,
         waiting_for = NULL, waiting_what = NULL WHERE seq = ?`,
    ).run(now, now, seq);
  }

  private insertJob(
    seq: number,
    id: string,
    step: string,
    lane: Lane,
    priority: number,
    now: number,
    state: 'queued' | 'waiting' = 'queued',
  ): void {
    this.sql(
      `INSERT INTO jobs (wf_seq, workflow_id, step, lane, priority, state, run_at, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (wf_seq, step) DO UPDATE SET
           state = excluded.state, lane = excluded.lane, priority = excluded.priority, run_at = excluded.run_at,
           lease_owner = NULL, lease_pid = NULL, lease_expires_at = NULL, attempts = 0, recoveries = 0,
           last_error = NULL, crash_reason = NULL, claimed_at = NULL, finished_at = NULL`,
    ).run(seq, id, step, lane, priority, state, now, now);
  }

  /**
   * Atomically claim the most urgent runnable job of a lane, unless the lane already runs
   * `limit` jobs (counted across every process using this database) or is paused.
   */
  claim(lane: Lane, owner: string, pid: number, limit: number): ClaimedJob | null {
    const now = this.clock.now();
    if (!this.hasRunnable(lane)) return null;
    return writeTx(this.db, `claiming work on the ${lane} lane`, () =>
      this.claimInTx({ lane, owner, pid, limit }, now),
    );
  }

  /** Whether a lane has a job ready to claim: a read, so an idle poll takes no write lock. */
  hasRunnable(lane: Lane): boolean {
    return Boolean(
      this.sql(
        `SELECT 1 FROM jobs WHERE lane = ? AND state = 'queued' AND ${ACTIVE} AND run_at <= ? LIMIT 1`,
      ).get(lane, this.clock.now()),
    );
  }

  /**
   * Reads first, writes last: a claim that throws (a workflow whose input is unreadable) has
   * written nothing, so a group commit needs no savepoint around it.
   */
  private claimInTx(req: ClaimRequest, now: number): ClaimedJob | null {
    const { lane, owner, pid, limit } = req;
    // Paused, or full: running jobs and cancelled ones whose worker is still winding down
    // (lease not dropped) count against the limit.
    const { paused, running } = this.sql(
      `SELECT coalesce((SELECT paused FROM lanes WHERE name = @lane), 0)
              OR EXISTS (SELECT 1 FROM lane_holds WHERE lane = @lane AND expires_at > @now) AS paused,
              (SELECT count(*) FROM jobs WHERE lane = @lane AND state = 'running' AND ${ACTIVE})
            + (SELECT count(*) FROM jobs WHERE lane = @lane AND state = 'cancelled'
                 AND lease_expires_at IS NOT NULL AND lease_expires_at > @now) AS running`,
    ).get({ lane, now }) as { paused: number; running: number };
    if (paused || running >= limit) return null;
    const job = this.sql(
      `SELECT id, wf_seq, step, fence, attempts, recoveries FROM jobs
        WHERE lane = +? AND state = 'queued' AND ${ACTIVE} AND run_at <= +?
        ORDER BY priority DESC, run_at, id LIMIT 1`,
    ).get(lane, now) as
      Pick<JobRow, 'id' | 'wf_seq' | 'step' | 'fence' | 'attempts' | 'recoveries'> | undefined;
    if (!job) return null;
    const wf = this.sql('SELECT seq, id, kind, subject, input, status FROM workflows WHERE seq = ?').get(
      job.wf_seq,
    ) as Pick<WorkflowRow, 'seq' | 'id' | 'kind' | 'subject' | 'input' | 'status'>;
    const input = JSON.parse(wf.input) as Json;
    const outputs: Record<string, Json> = {};
    for (const s of this.sql(`SELECT name, output FROM steps WHERE wf_seq = ? AND status = 'completed'`).all(
      wf.seq,
    ) as { name: string; output: string | null }[]) {
      outputs[s.name] = s.output === null ? null : (JSON.parse(s.output) as Json);
    }
    this.sql(
      `UPDATE jobs SET state = 'running', lease_owner = ?, lease_pid = ?, lease_expires_at = ?,
           fence = fence + 1, claimed_at = ? WHERE id = ?`,
    ).run(owner, pid, now + this.leaseMs, now, job.id);
    if (wf.status !== 'running') {
      this.sql(`UPDATE workflows SET status = 'running', updated_at = ? WHERE seq = ?`).run(now, wf.seq);
    }
    return {
      jobId: job.id,
      fence: job.fence + 1,
      workflowId: wf.id,
      kind: wf.kind,
      subject: wf.subject,
      step: job.step,
      lane,
      input,
      outputs,
      run: job.attempts + job.recoveries + 1,
      leaseExpiresAt: now + this.leaseMs,
    };
  }

  /**
   * Group commit: commit finished steps and claim work for idle workers in ONE transaction, so
   * in steady state a job costs one commit, not two. Each completion runs in its own savepoint:
   * one whose projection throws is rolled back alone and reported as that item's error.
   */
  settle(
    completions: { jobId: number; fence: number; output: Json }[],
    claims: ClaimRequest[],
  ): { outcomes: (Outcome | Error)[]; claimed: (ClaimedJob | null)[]; claimErrors: Error[] } {
    const now = this.clock.now();
    return writeTx(this.db, 'saving finished steps and claiming work', () => {
      let outcomes: (Outcome | Error)[];
      try {
        // Usually nothing throws: all completions share one savepoint.
        outcomes = this.savepoint(() =>
          completions.map((c) => this.completeInTx(c.jobId, c.fence, c.output, now)),
        );
      } catch {
        // Something did: redo them one savepoint each, so only the one that throws is undone.
        outcomes = completions.map((c) => {
          try {
            return this.savepoint(() => this.completeInTx(c.jobId, c.fence, c.output, now));
          } catch (err) {
            return err instanceof Error ? err : new Error(String(err));
          }
        });
      }
      // A claim that fails (a workflow's input unreadable, say) has written nothing, and must
      // not undo the commits above.
      const claimErrors: Error[] = [];
      const claimed = claims.map((r) => {
        try {
          return this.claimInTx(r, now);
        } catch (err) {
          claimErrors.push(err instanceof Error ? err : new Error(String(err)));
          return null;
        }
      });
      return { outcomes, claimed, claimErrors };
    });
  }

  private savepointRunner: ((fn: () => unknown) => unknown) | null = null;
  private savepoint<T>(fn: () => T): T {
    // Called inside a transaction, a better-sqlite3 transaction function is a SAVEPOINT.
    this.savepointRunner ??= this.db.transaction((f: () => unknown) => f());
    return this.savepointRunner(fn) as T;
  }

  /** Extend a lease. False when the holder lost it (expired and swept, cancelled, or re-claimed). */
  heartbeat(jobId: number, fence: number): boolean {
    const now = this.clock.now();
    const r = writeTx(this.db, 'renewing a lease', () =>
      this.sql(`UPDATE jobs SET lease_expires_at = ? WHERE id = ? AND fence = ? AND state = 'running'`).run(
        now + this.leaseMs,
        jobId,
        fence,
      ),
    );
    return r.changes === 1;
  }

  private holding(jobId: number, fence: number): JobRow | undefined {
    return this.sql(`SELECT * FROM jobs WHERE id = ? AND fence = ? AND state = 'running'`).get(
      jobId,
      fence,
    ) as JobRow | undefined;
  }

  /** Commit a step's output (and its projection) if the fence still holds; queue the next step. */
  complete(jobId: number, fence: number, output: Json): Outcome {
    const now = this.clock.now();
    return writeTx(this.db, 'saving a finished step', () => this.completeInTx(jobId, fence, output, now));
  }

  private completeInTx(jobId: number, fence: number, output: Json, now: number): Outcome {
    // Checking the fence and marking the job done is one statement.
    const job = this.sql(
      `UPDATE jobs SET state = 'done', finished_at = ?, lease_owner = NULL, lease_expires_at = NULL
        WHERE id = ? AND fence = ? AND state = 'running'
        RETURNING wf_seq, step, attempts, recoveries, claimed_at`,
    ).get(now, jobId, fence) as
      Pick<JobRow, 'wf_seq' | 'step' | 'attempts' | 'recoveries' | 'claimed_at'> | undefined;
    if (!job) return { kind: 'stale' } as const;
    const wf = this.sql('SELECT id, kind, priority FROM workflows WHERE seq = ?').get(job.wf_seq) as Pick<
      WorkflowRow,
      'id' | 'kind' | 'priority'
    >;
    const step = this.registry.step(wf.kind, job.step);
    const saved = this.sql(
      `UPDATE steps SET status = 'completed', output = ?, started_at = ?, finished_at = ?, last_error = NULL,
           attempts = ?, recoveries = ? WHERE wf_seq = ? AND name = ? RETURNING fingerprint`,
    ).get(
      JSON.stringify(output),
      job.claimed_at,
      now,
      job.attempts,
      job.recoveries,
      job.wf_seq,
      job.step,
    ) as {
      fingerprint: string;
    };
    if (step.commit) {
      const more = this.sql('SELECT subject, input FROM workflows WHERE seq = ?').get(job.wf_seq) as Pick<
        WorkflowRow,
        'subject' | 'input'
      >;
      step.commit({
        db: this.db,
        fingerprint: saved.fingerprint,
        workflowId: wf.id,
        kind: wf.kind,
        subject: more.subject,
        step: job.step,
        input: JSON.parse(more.input) as Json,
        output,
        fence,
        now,
      });
    }
    return {
      kind: 'committed',
      workflowDone: this.enqueueNext(job.wf_seq, wf.id, wf.kind, now, wf.priority),
    } as const;
  }

  /** The step threw. Retry with backoff, or dead-letter past its limit or if not retryable. */
  fail(jobId: number, fence: number, message: string, retryable = true, retryAfterMs?: number): Outcome {
    const now = this.clock.now();
    return writeTx(this.db, 'recording a failed step', () => {
      const job = this.holding(jobId, fence);
      if (!job) return { kind: 'stale' } as const;
      const wf = this.sql('SELECT kind FROM workflows WHERE seq = ?').get(job.wf_seq) as { kind: string };
      const max = this.registry.step(wf.kind, job.step).maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
      const attempts = job.attempts + 1;
      if (!retryable || attempts >= max) {
        const reason = retryable
          ? `Step "${job.step}" failed ${attempts} time${attempts === 1 ? '' : 's'}; the last error was: ${message}`
          : `Step "${job.step}" failed and retrying will not help: ${message}`;
        this.deadLetter(job, attempts, job.recoveries, message, reason, now);
        return { kind: 'dead', reason } as const;
      }
      // A delay the step was given (Retry-After) wins over our own backoff, within the cap.
      const delay =
        retryAfterMs !== undefined
          ? Math.min(Math.max(0, retryAfterMs), this.backoff.capMs * 6)
          : backoffDelay(attempts, this.backoff, this.random);
      const runAt = now + delay;
      this.requeue(job, attempts, job.recoveries, message, runAt);
      return { kind: 'retry', runAt } as const;
    });
  }

  /**
   * The worker running the job died or the lease expired: a recovery, counted apart from
   * ordinary failures. The job is claimable at once, or dead-lettered past its limit.
   * Pass `fence` to act only if the caller's claim still holds.
   */
  recover(jobId: number, fence: number | null, crash: string): Outcome {
    const now = this.clock.now();
    return writeTx(this.db, 'recovering an interrupted step', () =>
      this.recoverInTx(jobId, fence, crash, now),
    );
  }

  private recoverInTx(jobId: number, fence: number | null, crash: string, now: number): Outcome {
    const job = (
      fence === null
        ? this.sql(`SELECT * FROM jobs WHERE id = ? AND state = 'running'`).get(jobId)
        : this.holding(jobId, fence)
    ) as JobRow | undefined;
    if (!job) return { kind: 'stale' };
    const wf = this.sql('SELECT kind FROM workflows WHERE seq = ?').get(job.wf_seq) as { kind: string };
    const max = this.registry.has(wf.kind)
      ? (this.registry.step(wf.kind, job.step).maxRecoveries ?? DEFAULT_MAX_RECOVERIES)
      : DEFAULT_MAX_RECOVERIES;
    const recoveries = job.recoveries + 1;
    if (recoveries > max) {
      const reason =
        `Step "${job.step}" was interrupted ${recoveries} times and Earshot gave up on it ` +
        `(the last time: ${crash}). Use retry to try again.`;
      this.deadLetter(job, job.attempts, recoveries, crash, reason, now, crash);
      return { kind: 'dead', reason };
    }
    this.requeue(job, job.attempts, recoveries, job.last_error, now, crash);
    return { kind: 'retry', runAt: now };
  }

  /** The worker of a cancelled job has stopped: the lane no longer counts it. */
  dropLease(jobId: number, fence: number): void {
    writeTx(this.db, 'finishing a cancellation', () =>
      this.sql(
        `UPDATE jobs SET lease_owner = NULL, lease_pid = NULL, lease_expires_at = NULL
         WHERE id = ? AND fence = ? AND state = 'cancelled'`,
      ).run(jobId, fence),
    );
  }

  /** Give a job back without counting anything (graceful shutdown). */
  release(jobId: number, fence: number): boolean {
    const now = this.clock.now();
    return writeTx(this.db, 'releasing a step', () => {
      const job = this.holding(jobId, fence);
      if (!job) return false;
      this.requeue(job, job.attempts, job.recoveries, job.last_error, now);
      return true;
    });
  }

  private requeue(
    job: JobRow,
    attempts: number,
    recoveries: number,
    error: string | null,
    runAt: number,
    crash?: string,
  ) {
    this.sql(
      `UPDATE jobs SET state = 'queued', lease_owner = NULL, lease_pid = NULL, lease_expires_at = NULL,
           attempts = ?, recoveries = ?, last_error = ?, crash_reason = coalesce(?, crash_reason), run_at = ?
         WHERE id = ?`,
    ).run(attempts, recoveries, error, crash ?? null, runAt, job.id);
    this.sql(
      `UPDATE steps SET status = 'pending', attempts = ?, recoveries = ?, last_error = ? WHERE wf_seq = ? AND name = ?`,
    ).run(attempts, recoveries, error ?? crash ?? null, job.wf_seq, job.step);
    this.sql(`UPDATE workflows SET status = 'queued', updated_at = ? WHERE seq = ?`).run(
      this.clock.now(),
      job.wf_seq,
    );
  }

  private deadLetter(
    job: JobRow,
    attempts: number,
    recoveries: number,
    error: string,
    reason: string,
    now: number,
    crash?: string,
  ) {
    this.sql(
      `UPDATE jobs SET state = 'failed', lease_owner = NULL, lease_pid = NULL, lease_expires_at = NULL,
           attempts = ?, recoveries = ?, last_error = ?, crash_reason = coalesce(?, crash_reason), finished_at = ?
         WHERE id = ?`,
    ).run(attempts, recoveries, error, crash ?? null, now, job.id);
    this.sql(
      `UPDATE steps SET status = 'failed', attempts = ?, recoveries = ?, last_error = ?,
           started_at = coalesce(?, started_at), finished_at = ?
         WHERE wf_seq = ? AND name = ?`,
    ).run(attempts, recoveries, error, job.claimed_at, now, job.wf_seq, job.step);
    this.sql(`UPDATE workflows SET status = 'dead', dead_reason = ?, updated_at = ? WHERE seq = ?`).run(
      reason,
      now,
      job.wf_seq,
    );
  }

  running(): JobRow[] {
    return this.sql(`SELECT * FROM jobs WHERE ${RUNNING}`).all() as JobRow[];
  }

  /**
   * Return expired leases to the queue as recoveries. `canRelease` lets the engine hold back a
   * job whose holder process is still alive on this machine until it has been stopped.
   */
  sweep(canRelease: (job: JobRow) => boolean = () => true): Outcome[] {
    const now = this.clock.now();
    return writeTx(this.db, 'returning expired leases', () =>
      (this.sql(`SELECT * FROM jobs WHERE ${RUNNING} AND lease_expires_at < ?`).all(now) as JobRow[])
        .filter(canRelease)
        .map((job) =>
          this.recoverInTx(
            job.id,
            job.fence,
            'its lease expired without a heartbeat (the step hung or its process vanished)',
            now,
          ),
        ),
    );
  }

  /** Cancel a workflow. A running step learns of it at its next heartbeat (or at once in-process). */
  cancel(workflowId: string): boolean {
    const now = this.clock.now();
    return writeTx(this.db, 'cancelling a workflow', () => {
      const wf = this.sql(
        `UPDATE workflows SET status = 'cancelled', updated_at = ?, waiting_for = NULL, waiting_what = NULL
           WHERE id = ? AND status IN ('queued', 'waiting', 'running', 'dead')
         RETURNING seq`,
      ).get(now, workflowId) as { seq: number } | undefined;
      if (!wf) return false;
      // A running job keeps its lease while its worker winds down, so the lane still counts it
      // (the gpu lane must not start another job under a step that is still stopping).
      this.sql(
        `UPDATE jobs SET state = 'cancelled', finished_at = ?,
           lease_owner = CASE WHEN state = 'running' THEN lease_owner END,
           lease_pid = CASE WHEN state = 'running' THEN lease_pid END,
           lease_expires_at = CASE WHEN state = 'running' THEN lease_expires_at END
         WHERE wf_seq = ? AND state IN ('queued', 'waiting', 'running', 'failed')`,
      ).run(now, wf.seq);
      this.sql(
        `UPDATE steps SET status = 'cancelled' WHERE wf_seq = ? AND status IN ('pending', 'waiting', 'running', 'failed')`,
      ).run(wf.seq);
      return true;
    });
  }

  /**
   * Bring a dead-lettered, cancelled (or finished) workflow back. With `fromStep`, that step
   * and every later one run again; otherwise it resumes at the first step not committed.
   */
  retry(workflowId: string, fromStep?: string): void {
    const now = this.clock.now();
    writeTx(this.db, 'retrying a workflow', () => this.retryInTx(workflowId, fromStep, now));
  }

  private retryInTx(workflowId: string, fromStep: string | undefined, now: number): void {
    const wf = this.sql('SELECT * FROM workflows WHERE id = ?').get(workflowId) as WorkflowRow | undefined;
    if (!wf) throw new Error(`There is no workflow with id ${workflowId}.`);
    if (fromStep !== undefined) {
      const s = this.sql('SELECT position FROM steps WHERE wf_seq = ? AND name = ?').get(wf.seq, fromStep) as
        { position: number } | undefined;
      if (!s) {
        const names = (
          this.sql('SELECT name FROM steps WHERE wf_seq = ? ORDER BY position').all(wf.seq) as {
            name: string;
          }[]
        ).map((r) => r.name);
        throw new Error(
          `Workflow ${workflowId} has no step "${fromStep}"; its steps are: ${names.join(', ')}.`,
        );
      }
      if (wf.status === 'running') {
        throw new Error(`Workflow ${workflowId} is running; cancel it first or wait for it to finish.`);
      }
      this.sql(
        `UPDATE steps SET status = 'pending', output = NULL, attempts = 0, recoveries = 0, last_error = NULL,
             reused_from = NULL, started_at = NULL, finished_at = NULL WHERE wf_seq = ? AND position >= ?`,
      ).run(wf.seq, s.position);
    } else if (wf.status === 'queued' || wf.status === 'running' || wf.status === 'completed') {
      return;
    }
    this.sql(
      `UPDATE jobs SET state = 'cancelled' WHERE wf_seq = ? AND state IN ('queued', 'waiting', 'failed')`,
    ).run(wf.seq);
    this.sql(
      `UPDATE steps SET status = 'pending' WHERE wf_seq = ? AND status IN ('failed', 'cancelled', 'running', 'waiting')`,
    ).run(wf.seq);
    this.sql(
      `UPDATE workflows SET status = 'queued', dead_reason = NULL, completed_at = NULL, waiting_for = NULL,
         waiting_what = NULL, updated_at = ? WHERE seq = ?`,
    ).run(now, wf.seq);
    this.enqueueNext(wf.seq, wf.id, wf.kind, now, wf.priority);
  }

  setPaused(lane: Lane, paused: boolean): void {
    writeTx(this.db, `${paused ? 'pausing' : 'resuming'} the ${lane} lane`, () => {
      this.sql(
        `INSERT INTO lanes (name, paused) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET paused = excluded.paused`,
      ).run(lane, paused ? 1 : 0);
    });
  }

  /** The user's own pause (`earshot pause`, the tray, the UI): stored, and only theirs. */
  isPaused(lane: Lane): boolean {
    const r = this.sql('SELECT paused FROM lanes WHERE name = ?').get(lane) as { paused: number } | undefined;
    return Boolean(r?.paused);
  }

  /**
   * Hold a lane for a live reason ("on battery", a measurement): no job of it is claimed, by any
   * process, while a hold lasts. A hold is a lease: `renewHolds` keeps it, and one not renewed
   * within `ttlMs` (its holder stopped or died) is void. It never touches the user's pause.
   */
  hold(lane: Lane, reason: string, holder: HoldHolder, ttlMs: number): void {
    writeTx(this.db, `holding the ${lane} lane`, () => {
      this.sql(
        `INSERT INTO lane_holds (lane, reason, holder, hostname, pid, expires_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (lane, reason, holder) DO UPDATE SET expires_at = excluded.expires_at`,
      ).run(lane, reason, holder.id, holder.hostname, holder.pid, this.clock.now() + ttlMs);
    });
  }

  releaseHold(lane: Lane, reason: string, holder: HoldHolder): void {
    writeTx(this.db, `releasing the ${lane} lane`, () => {
      this.sql('DELETE FROM lane_holds WHERE lane = ? AND reason = ? AND holder = ?').run(
        lane,
        reason,
        holder.id,
      );
    });
  }

  /** Extend every hold of this holder. */
  renewHolds(holder: HoldHolder, ttlMs: number): void {
    writeTx(this.db, 'renewing lane holds', () => {
      this.sql('UPDATE lane_holds SET expires_at = ? WHERE holder = ?').run(
        this.clock.now() + ttlMs,
        holder.id,
      );
    });
  }

  /** Why a lane is held now, besides the user's pause (distinct reasons, oldest holder first). */
  holds(lane: Lane): string[] {
    return (
      this.sql('SELECT DISTINCT reason FROM lane_holds WHERE lane = ? AND expires_at > ? ORDER BY rowid').all(
        lane,
        this.clock.now(),
      ) as { reason: string }[]
    ).map((r) => r.reason);
  }

  /** Paused by the user or held: nothing new starts on it. */
  isHeld(lane: Lane): boolean {
    return this.isPaused(lane) || this.holds(lane).length > 0;
  }

  /**
   * Forget holds that no longer mean anything: expired ones, and those of processes on this
   * machine that are gone (`alive(pid)` false), so a hold of a crashed app is not read back
   * after a restart. Returns the lanes that were held by such a process.
   */
  dropDeadHolds(hostname: string, alive: (pid: number) => boolean): Lane[] {
    const now = this.clock.now();
    return writeTx(this.db, 'forgetting stale lane holds', () => {
      const rows = this.sql('SELECT rowid, lane, hostname, pid, expires_at FROM lane_holds').all() as {
        rowid: number;
        lane: Lane;
        hostname: string;
        pid: number;
        expires_at: number;
      }[];
      const expired = rows.filter((r) => r.expires_at <= now);
      const orphaned = rows.filter((r) => r.expires_at > now && r.hostname === hostname && !alive(r.pid));
      for (const r of [...expired, ...orphaned])
        this.sql('DELETE FROM lane_holds WHERE rowid = ?').run(r.rowid);
      // Expired holds were already void: only the orphaned ones change what a lane shows.
      return [...new Set(orphaned.map((r) => r.lane))];
    });
  }

  /** True while something could still run: queued jobs (even ones waiting for backoff) or running ones. */
  hasPendingWork(lanes?: readonly Lane[]): boolean {
    // One probe of the active-jobs index per lane, not a scan of every job ever run.
    const rows = LANES.filter((lane) =>
      this.sql(`SELECT 1 FROM jobs WHERE lane = ? AND ${ACTIVE} LIMIT 1`).get(lane),
    ).map((lane) => ({ lane }));
    return rows.some(
      (r) => (!lanes || lanes.includes(r.lane)) && !(this.isHeld(r.lane) && !this.hasRunning(r.lane)),
    );
  }

  private hasRunning(lane: Lane): boolean {
    return Boolean(
      this.sql(`SELECT 1 FROM jobs WHERE lane = ? AND state = 'running' AND ${ACTIVE} LIMIT 1`).get(lane),
    );
  }

  /** The earliest time a queued job becomes runnable (for sleeping until backoff ends). */
  nextRunAt(): number | null {
    const r = this.sql(`SELECT min(run_at) AS t FROM jobs WHERE state = 'queued' AND ${ACTIVE}`).get() as {
      t: number | null;
    };
    return r.t;
  }
}
