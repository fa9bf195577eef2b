import { beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../pipeline/engine/clock.ts';
import { Queue } from '../../pipeline/engine/queue.ts';
import { Registry, type StepDef, type WorkflowDef } from '../../pipeline/engine/workflow.ts';
import type { Db } from '../../pipeline/store/index.ts';
import { freshStore } from '../helpers/env.ts';

const noop = async () => null;
function steps(versions: Record<string, string> = {}): StepDef[] {
  return [
    { name: 'download', lane: 'io', version: versions.download ?? '1', run: noop },
    {
      name: 'transcribe',
      lane: 'gpu',
      version: versions.transcribe ?? '1',
      maxAttempts: 3,
      maxRecoveries: 2,
      run: noop,
    },
    { name: 'summarize', lane: 'cpu', version: versions.summarize ?? '1', after: ['transcribe'], run: noop },
    { name: 'index', lane: 'cpu', version: versions.index ?? '1', after: ['transcribe'], run: noop },
  ];
}
const wf = (versions?: Record<string, string>): WorkflowDef => ({ kind: 'episode', steps: steps(versions) });

describe('durable queue', () => {
  let db: Db;
  let clock: ManualClock;
  let q: Queue;
  const jitterless = { baseMs: 1000, capMs: 8000, factor: 2, jitter: 0 };

  beforeEach(() => {
    const s = freshStore([wf()]);
    db = s.db;
    clock = new ManualClock();
    q = new Queue(db, s.registry, clock, { leaseMs: 10_000, backoff: jitterless });
  });

  const claimAndComplete = (lane: 'io' | 'gpu' | 'cpu') => {
    const job = q.claim(lane, 'boot:w', process.pid, 1)!;
    expect(job).not.toBeNull();
    expect(q.complete(job.jobId, job.fence, { done: job.step })).toMatchObject({ kind: 'committed' });
    return job;
  };

  it('gives a workflow a deterministic id and does not start it twice', () => {
    const a = q.start('episode', 'feed1/ep1');
    const b = q.start('episode', 'feed1/ep1');
    expect(a).toBe(b);
    expect(q.start('episode', 'feed1/ep2')).not.toBe(a);
    expect(db.prepare('SELECT count(*) AS n FROM jobs').get()).toEqual({ n: 2 });
  });

  it('runs steps in order, passing earlier outputs, and completes the workflow', () => {
    const id = q.start('episode', 'ep');
    claimAndComplete('io');
    const t = q.claim('gpu', 'boot:w', process.pid, 1)!;
    expect(t.step).toBe('transcribe');
    expect(t.outputs).toEqual({ download: { done: 'download' } });
    q.complete(t.jobId, t.fence, { text: 'hi' });
    claimAndComplete('cpu');
    claimAndComplete('cpu');
    expect(db.prepare('SELECT status FROM workflows WHERE id = ?').get(id)).toEqual({ status: 'completed' });
  });

  it('claims the most urgent job first: priority, then age', () => {
    q.start('episode', 'old-background');
    clock.advance(10);
    q.start('episode', 'newer-background');
    clock.advance(10);
    q.start('episode', 'asked-for-now', {}, { priority: 10 });
    const order = [1, 2, 3].map(() => {
      const j = q.claim('io', 'boot:w', process.pid, 5)!;
      return j.subject;
    });
    expect(order).toEqual(['asked-for-now', 'old-background', 'newer-background']);
  });

  it('never lets a lane run more than its limit, whoever claims', () => {
    q.start('episode', 'a');
    q.start('episode', 'b');
    claimAndComplete('io');
    claimAndComplete('io');
    const first = q.claim('gpu', 'engineA:gpu-0', process.pid, 1);
    expect(first).not.toBeNull();
    expect(q.claim('gpu', 'engineB:gpu-0', process.pid, 1)).toBeNull();
    q.complete(first!.jobId, first!.fence, null);
    expect(q.claim('gpu', 'engineB:gpu-0', process.pid, 1)).not.toBeNull();
  });

  it('a holder whose lease was taken over cannot commit (fencing)', () => {
    q.start('episode', 'ep');
    const stale = q.claim('io', 'A:io-0', 1, 4)!;
    clock.advance(10_001);
    expect(q.sweep()).toEqual([{ kind: 'retry', runAt: clock.now() }]);
    const fresh = q.claim('io', 'B:io-0', 2, 4)!;
    expect(fresh.fence).toBe(stale.fence + 1);
    expect(q.complete(stale.jobId, stale.fence, 'late')).toEqual({ kind: 'stale' });
    expect(q.heartbeat(stale.jobId, stale.fence)).toBe(false);
    expect(q.complete(fresh.jobId, fresh.fence, 'ok')).toMatchObject({ kind: 'committed' });
    const out = db.prepare(`SELECT output FROM steps WHERE name = 'download'`).get() as { output: string };
    expect(JSON.parse(out.output)).toBe('ok');
  });

  it('sweeps a lease backdated past its expiry but not one inside its window', () => {
    q.start('episode', 'expired');
    q.start('episode', 'alive');
    const a = q.claim('io', 'dead:io-0', 1, 4)!;
    const b = q.claim('io', 'live:io-1', 2, 4)!;
    db.prepare('UPDATE jobs SET lease_expires_at = ? WHERE id = ?').run(clock.now() - 1, a.jobId);
    db.prepare('UPDATE jobs SET lease_expires_at = ? WHERE id = ?').run(clock.now() + 5_000, b.jobId);
    expect(q.sweep()).toHaveLength(1);
    const rows = db.prepare('SELECT id, state, recoveries, attempts FROM jobs ORDER BY id').all();
    expect(rows).toEqual([
      { id: a.jobId, state: 'queued', recoveries: 1, attempts: 0 },
      { id: b.jobId, state: 'running', recoveries: 0, attempts: 0 },
    ]);
  });

  it('heartbeats keep a long step alive past its first lease', () => {
    q.start('episode', 'long');
    const j = q.claim('io', 'A:io-0', 1, 4)!;
    for (let i = 0; i < 10; i++) {
      clock.advance(5_000);
      expect(q.heartbeat(j.jobId, j.fence)).toBe(true);
      expect(q.sweep()).toEqual([]);
    }
    clock.advance(10_001);
    expect(q.sweep()).toHaveLength(1);
  });

  it('retries a failing step with exponential backoff, then dead-letters it with a reason', () => {
    const id = q.start('episode', 'ep');
    claimAndComplete('io');
    let j = q.claim('gpu', 'A:gpu-0', 1, 1)!;
    expect(q.fail(j.jobId, j.fence, 'CUDA out of memory')).toEqual({
      kind: 'retry',
      runAt: clock.now() + 1000,
    });
    expect(q.claim('gpu', 'A:gpu-0', 1, 1)).toBeNull(); // still backing off
    clock.advance(1000);
    j = q.claim('gpu', 'A:gpu-0', 1, 1)!;
    expect(j.run).toBe(2);
    expect(q.fail(j.jobId, j.fence, 'CUDA out of memory')).toEqual({
      kind: 'retry',
      runAt: clock.now() + 2000,
    });
    clock.advance(2000);
    j = q.claim('gpu', 'A:gpu-0', 1, 1)!;
    const dead = q.fail(j.jobId, j.fence, 'CUDA out of memory');
    expect(dead).toEqual({
      kind: 'dead',
      reason: 'Step "transcribe" failed 3 times; the last error was: CUDA out of memory',
    });
    expect(db.prepare('SELECT status, dead_reason FROM workflows WHERE id = ?').get(id)).toMatchObject({
      status: 'dead',
      dead_reason: expect.stringContaining('failed 3 times'),
    });
  });

  it('dead-letters at once an error that retrying cannot fix', () => {
    q.start('episode', 'ep');
    const j = q.claim('io', 'A:io-0', 1, 4)!;
    expect(q.fail(j.jobId, j.fence, 'the file is not audio', false)).toMatchObject({
      kind: 'dead',
      reason: expect.stringContaining('retrying will not help: the file is not audio'),
    });
  });

  it('counts crashes apart from failures and gives up on a crash loop with the crash reason', () => {
    const id = q.start('episode', 'ep');
    claimAndComplete('io');
    let j = q.claim('gpu', 'A:gpu-0', 1, 1)!;
    q.fail(j.jobId, j.fence, 'flaky');
    clock.advance(1000);
    for (let i = 1; i <= 2; i++) {
      j = q.claim('gpu', 'A:gpu-0', 1, 1)!;
      expect(q.recover(j.jobId, j.fence, 'the worker process was killed by SIGSEGV')).toEqual({
        kind: 'retry',
        runAt: clock.now(),
      });
    }
    expect(db.prepare(`SELECT attempts, recoveries FROM jobs WHERE step = 'transcribe'`).get()).toEqual({
      attempts: 1,
      recoveries: 2,
    });
    j = q.claim('gpu', 'A:gpu-0', 1, 1)!;
    const out = q.recover(j.jobId, j.fence, 'the worker process was killed by SIGSEGV');
    expect(out).toMatchObject({ kind: 'dead', reason: expect.stringContaining('interrupted 3 times') });
    expect((out as { reason: string }).reason).toContain('SIGSEGV');

    q.retry(id);
    expect(db.prepare('SELECT status FROM workflows WHERE id = ?').get(id)).toEqual({ status: 'queued' });
    j = q.claim('gpu', 'A:gpu-0', 1, 1)!;
    expect(j.step).toBe('transcribe');
    expect(q.complete(j.jobId, j.fence, 'text')).toMatchObject({ kind: 'committed' });
  });

  it('retry --from-step re-runs that step and the ones after it', () => {
    const id = q.start('episode', 'ep');
    claimAndComplete('io');
    claimAndComplete('gpu');
    claimAndComplete('cpu');
    claimAndComplete('cpu');
    q.retry(id, 'transcribe');
    const states = db
      .prepare('SELECT name, status FROM steps WHERE workflow_id = ? ORDER BY position')
      .all(id);
    expect(states).toEqual([
      { name: 'download', status: 'completed' },
      { name: 'transcribe', status: 'pending' },
      { name: 'summarize', status: 'pending' },
      { name: 'index', status: 'pending' },
    ]);
    expect(q.claim('io', 'A:io-0', 1, 4)).toBeNull();
    expect(q.claim('gpu', 'A:gpu-0', 1, 1)!.step).toBe('transcribe');
    expect(() => q.retry(id, 'nope')).toThrow(
      /no step "nope"; its steps are: download, transcribe, summarize, index/,
    );
  });

  it('a changed step version re-runs that step and its dependants only', () => {
    const first = q.start('episode', 'ep');
    claimAndComplete('io');
    claimAndComplete('gpu');
    claimAndComplete('cpu');
    claimAndComplete('cpu');
    // A new summarizer: summarize depends on transcribe, index does too, but not on summarize.
    const q2 = new Queue(db, new Registry([wf({ summarize: '2' })]), clock, { leaseMs: 10_000 });
    const second = q2.start('episode', 'ep');
    expect(second).not.toBe(first);
    const steps2 = db
      .prepare('SELECT name, status, reused_from FROM steps WHERE workflow_id = ? ORDER BY position')
      .all(second) as { name: string; status: string; reused_from: string | null }[];
    expect(steps2.map((s) => [s.name, s.status, s.reused_from])).toEqual([
      ['download', 'completed', first],
      ['transcribe', 'completed', first],
      ['summarize', 'pending', null],
      ['index', 'pending', null],
    ]);
    const j = q2.claim('cpu', 'A:cpu-0', 1, 2)!;
    expect(j.step).toBe('summarize');
  });

  it('a paused lane starts nothing until resumed; cancel stops a workflow', () => {
    const id = q.start('episode', 'ep');
    q.setPaused('io', true);
    expect(q.claim('io', 'A:io-0', 1, 4)).toBeNull();
    expect(q.hasPendingWork()).toBe(false);
    q.setPaused('io', false);
    const j = q.claim('io', 'A:io-0', 1, 4)!;
    expect(q.cancel(id)).toBe(true);
    expect(q.heartbeat(j.jobId, j.fence)).toBe(false);
    expect(q.complete(j.jobId, j.fence, 'late')).toEqual({ kind: 'stale' });
    expect(db.prepare('SELECT status FROM workflows WHERE id = ?').get(id)).toEqual({ status: 'cancelled' });
    q.retry(id);
    expect(q.claim('io', 'A:io-0', 1, 4)!.step).toBe('download');
  });

  it('a cancelled step still holds its lane until its worker lets go', () => {
    const reg = new Registry([
      { kind: 'g', steps: [{ name: 'render', lane: 'gpu', version: '1', run: noop }] },
    ]);
    const gq = new Queue(db, reg, clock, { leaseMs: 10_000 });
    const a = gq.start('g', 'a');
    gq.start('g', 'b');
    const held = gq.claim('gpu', 'A:gpu-0', 1, 1)!;
    gq.cancel(a);
    expect(gq.claim('gpu', 'B:gpu-0', 2, 1)).toBeNull(); // the cancelled step may still be on the GPU
    gq.dropLease(held.jobId, held.fence);
    expect(gq.claim('gpu', 'B:gpu-0', 2, 1)!.subject).toBe('b');
  });

  it('a cancelled step whose worker vanished frees its lane when the lease ends', () => {
    const reg = new Registry([
      { kind: 'g', steps: [{ name: 'render', lane: 'gpu', version: '1', run: noop }] },
    ]);
    const gq = new Queue(db, reg, clock, { leaseMs: 10_000 });
    const a = gq.start('g', 'a');
    gq.start('g', 'b');
    gq.claim('gpu', 'A:gpu-0', 1, 1);
    gq.cancel(a);
    clock.advance(10_001);
    expect(gq.claim('gpu', 'B:gpu-0', 2, 1)!.subject).toBe('b');
  });

  it('releasing on shutdown counts nothing against the step', () => {
    q.start('episode', 'ep');
    const j = q.claim('io', 'A:io-0', 1, 4)!;
    expect(q.release(j.jobId, j.fence)).toBe(true);
    expect(db.prepare('SELECT state, attempts, recoveries FROM jobs').get()).toEqual({
      state: 'queued',
      attempts: 0,
      recoveries: 0,
    });
  });
});

describe('group commit (settle)', () => {
  // A step whose commit projection writes a row, and throws for one subject.
  const projected: WorkflowDef = {
    kind: 'proj',
    steps: [
      {
        name: 'only',
        lane: 'cpu',
        version: '1',
        run: noop,
        commit(ctx) {
          if (ctx.subject === 'bad') throw new Error('projection bug');
          ctx.db
            .prepare('INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)')
            .run(`p:${ctx.subject}`, '1', ctx.now);
        },
      },
    ],
  };

  it('commits every finished job in one transaction, and one whose projection throws alone is undone', () => {
    const { db, registry } = freshStore([projected]);
    const q = new Queue(db, registry, new ManualClock(), { leaseMs: 10_000 });
    q.startMany(['a', 'bad', 'b', 'next'].map((subject) => ({ kind: 'proj', subject })));
    const req = { lane: 'cpu' as const, owner: 'boot:w', pid: process.pid, limit: 3 };
    const first = q.settle([], [req, req, req, req]);
    const held = first.claimed.filter((j) => j !== null);
    // The limit holds within one settle: three claimed, the fourth not.
    expect(held.map((j) => j.subject)).toEqual(['a', 'bad', 'b']);
    const { outcomes, claimed } = q.settle(
      held.map((j) => ({ jobId: j.jobId, fence: j.fence, output: null })),
      [req],
    );
    expect(outcomes[0]).toMatchObject({ kind: 'committed', workflowDone: true });
    expect(outcomes[1]).toBeInstanceOf(Error);
    expect((outcomes[1] as Error).message).toBe('projection bug');
    expect(outcomes[2]).toMatchObject({ kind: 'committed', workflowDone: true });
    // The two good projections are saved, the bad one left nothing, and its job is still held.
    expect(db.prepare(`SELECT key FROM settings WHERE key LIKE 'p:%' ORDER BY key`).pluck().all()).toEqual([
      'p:a',
      'p:b',
    ]);
    expect(
      db
        .prepare(
          `SELECT w.subject, w.status, j.state FROM workflows w JOIN jobs j ON j.wf_seq = w.seq ORDER BY w.seq`,
        )
        .all(),
    ).toEqual([
      { subject: 'a', status: 'completed', state: 'done' },
      { subject: 'bad', status: 'running', state: 'running' },
      { subject: 'b', status: 'completed', state: 'done' },
      { subject: 'next', status: 'running', state: 'running' },
    ]);
    // The claim in the same transaction went ahead: two slots were freed, one asked for.
    expect(claimed.map((j) => j?.subject)).toEqual(['next']);
  });

  it('a workflow whose input cannot be read fails its claim without undoing the commits beside it', () => {
    const { db, registry } = freshStore([projected]);
    const q = new Queue(db, registry, new ManualClock(), { leaseMs: 10_000 });
    q.startMany(['a', 'b'].map((subject) => ({ kind: 'proj', subject })));
    const req = { lane: 'cpu' as const, owner: 'boot:w', pid: process.pid, limit: 1 };
    const [a] = q.settle([], [req]).claimed;
    db.prepare(`UPDATE workflows SET input = '{broken' WHERE subject = 'b'`).run();
    const r = q.settle([{ jobId: a!.jobId, fence: a!.fence, output: null }], [req]);
    expect(r.outcomes[0]).toMatchObject({ kind: 'committed' });
    expect(r.claimed).toEqual([null]);
    expect(r.claimErrors).toHaveLength(1);
    // Nothing of the failed claim was written: b's job is still queued, its step pending.
    expect(
      db
        .prepare(
          `SELECT w.status, j.state, s.status AS step FROM workflows w JOIN jobs j ON j.wf_seq = w.seq
           JOIN steps s ON s.wf_seq = w.seq WHERE w.subject = 'b'`,
        )
        .get(),
    ).toEqual({ status: 'queued', state: 'queued', step: 'pending' });
    expect(db.prepare(`SELECT value FROM settings WHERE key = 'p:a'`).pluck().get()).toBe('1');
  });
});
