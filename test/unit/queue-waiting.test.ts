import { beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../pipeline/engine/clock.ts';
import { Queue } from '../../pipeline/engine/queue.ts';
import type { Json, WorkflowDef } from '../../pipeline/engine/workflow.ts';
import type { Db } from '../../pipeline/store/index.ts';
import { freshStore } from '../helpers/env.ts';

/**
 * Waiting is not failing: a step that needs what is not there (a model nobody chose) is parked
 * — never claimed, never counted as a failure, not keeping an engine busy — and goes on when
 * `wake` finds it there.
 */
const noop = async () => null;
const chosen = (db: Db): string | null =>
  (
    db.prepare(`SELECT value FROM settings WHERE key = 'model.active.whisper'`).get() as
      { value: string } | undefined
  )?.value ?? null;

const episode: WorkflowDef = {
  kind: 'episode',
  steps: [
    { name: 'download', lane: 'io', version: '1', run: noop },
    {
      name: 'transcribe',
      lane: 'gpu',
      version: '1',
      fingerprint: (input) => String((input as { model?: string | null }).model ?? 'none'),
      // A publisher's transcript (the download's output says so) needs no model.
      waitFor: (input, outputs) =>
        (input as { model?: string | null }).model || (outputs.download as { text?: boolean } | null)?.text
          ? null
          : { resource: 'model:whisper', what: 'a Whisper model' },
      run: noop,
    },
    { name: 'index', lane: 'cpu', version: '1', run: noop },
  ],
  refreshInput: (input: Json, db: Db) => ({ ...(input as Record<string, Json>), model: chosen(db) }),
};

/** A kind whose input never changes: only the step's own question decides. */
let gateOpen = false;
const gated: WorkflowDef = {
  kind: 'gated',
  steps: [
    {
      name: 'only',
      lane: 'cpu',
      version: '1',
      waitFor: () => (gateOpen ? null : { resource: 'gate', what: 'the gate' }),
      run: noop,
    },
  ],
};

describe('waiting workflows', () => {
  let db: Db;
  let clock: ManualClock;
  let q: Queue;

  beforeEach(() => {
    const s = freshStore([episode, gated]);
    db = s.db;
    clock = new ManualClock();
    q = new Queue(db, s.registry, clock, { leaseMs: 10_000 });
    gateOpen = false;
  });

  const run = (lane: 'io' | 'gpu' | 'cpu', output: Json = null) => {
    const job = q.claim(lane, 'boot:w', process.pid, 1);
    expect(job).not.toBeNull();
    expect(q.complete(job!.jobId, job!.fence, output)).toMatchObject({ kind: 'committed' });
    return job!;
  };
  const wf = (id: string) =>
    db.prepare('SELECT status, waiting_for, waiting_what, dead_reason FROM workflows WHERE id = ?').get(id);
  const choose = (model: string) =>
    db
      .prepare(
        `INSERT OR REPLACE INTO settings (key, value, updated_at) VALUES ('model.active.whisper', ?, 0)`,
      )
      .run(model);

  it('parks a step that waits: not claimable, not a failure, not pending work', () => {
    const id = q.start('episode', 'ep1', { model: null });
    run('io');
    expect(wf(id)).toEqual({
      status: 'waiting',
      waiting_for: 'model:whisper',
      waiting_what: 'a Whisper model',
      dead_reason: null,
    });
    expect(q.claim('gpu', 'boot:w', process.pid, 1)).toBeNull();
    expect(q.hasPendingWork()).toBe(false);
    expect(db.prepare(`SELECT state, attempts FROM jobs WHERE step = 'transcribe'`).get()).toEqual({
      state: 'waiting',
      attempts: 0,
    });
    expect(db.prepare(`SELECT status FROM steps WHERE name = 'transcribe'`).get()).toEqual({
      status: 'waiting',
    });
  });

  it('does not wait when the step does not need it (the publisher has a transcript)', () => {
    const id = q.start('episode', 'ep1', { model: null });
    run('io', { text: true });
    expect(wf(id)).toMatchObject({ status: 'running', waiting_for: null });
    expect(q.claim('gpu', 'boot:w', process.pid, 1)?.step).toBe('transcribe');
  });

  it('wakes with the model chosen since: a new workflow reusing the done steps replaces the waiting one', () => {
    const waiting = q.start('episode', 'ep1', { model: null }, { priority: 5 });
    run('io', { bytes: 1 });
    // Nothing chosen yet: waking changes nothing.
    expect(q.wake('model:whisper')).toEqual([]);
    expect(wf(waiting)).toMatchObject({ status: 'waiting' });

    choose('tiny');
    // Another resource's wake leaves it alone.
    expect(q.wake('gate')).toEqual([]);
    const [next] = q.wake('model:whisper');
    expect(next).toBeDefined();
    expect(next).not.toBe(waiting);
    expect(wf(waiting)).toMatchObject({ status: 'cancelled', waiting_for: null });
    expect((wf(waiting) as { dead_reason: string }).dead_reason).toMatch(/^Replaced by workflow episode-/);
    expect(
      db.prepare(`SELECT state FROM jobs WHERE workflow_id = ? AND step = 'transcribe'`).get(waiting),
    ).toEqual({
      state: 'cancelled',
    });
    // The download is reused, not run again; transcription is next, with the chosen model and
    // the waiting workflow's priority.
    expect(
      db
        .prepare(`SELECT status, reused_from FROM steps WHERE workflow_id = ? AND name = 'download'`)
        .get(next),
    ).toEqual({ status: 'completed', reused_from: waiting });
    const t = q.claim('gpu', 'boot:w', process.pid, 1)!;
    expect(t).toMatchObject({ workflowId: next, step: 'transcribe', input: { model: 'tiny' } });
    expect(db.prepare('SELECT priority FROM workflows WHERE id = ?').get(next)).toEqual({ priority: 5 });
    q.complete(t.jobId, t.fence, null);
    run('cpu');
    expect(wf(next!)).toMatchObject({ status: 'completed' });
    // Woken once: a second wake finds nothing waiting.
    expect(q.wake()).toEqual([]);
  });

  it('a start with what it lacked replaces the waiting workflow of the same subject', () => {
    const waiting = q.start('episode', 'ep1', { model: null });
    run('io');
    const asked = q.start('episode', 'ep1', { model: 'base' });
    expect(wf(waiting)).toMatchObject({ status: 'cancelled' });
    expect(q.claim('gpu', 'boot:w', process.pid, 1)?.workflowId).toBe(asked);
    // Other subjects' waiting workflows are not touched.
    const other = q.start('episode', 'ep2', { model: null });
    run('io');
    q.start('episode', 'ep3', { model: 'base' });
    expect(wf(other)).toMatchObject({ status: 'waiting' });
  });

  it('an unchanged input has its waiting step asked again, in place', () => {
    const id = q.start('gated', 'g1');
    expect(wf(id)).toMatchObject({ status: 'waiting', waiting_for: 'gate' });
    expect(q.wake()).toEqual([]);
    gateOpen = true;
    expect(q.wake('gate')).toEqual([id]);
    expect(wf(id)).toMatchObject({ status: 'queued', waiting_for: null });
    run('cpu');
    expect(wf(id)).toMatchObject({ status: 'completed' });
  });

  it('can be cancelled, and retried (which asks again)', () => {
    const id = q.start('gated', 'g1');
    expect(q.cancel(id)).toBe(true);
    expect(wf(id)).toMatchObject({ status: 'cancelled', waiting_for: null });
    expect(db.prepare('SELECT state FROM jobs WHERE workflow_id = ?').get(id)).toEqual({
      state: 'cancelled',
    });
    q.retry(id);
    expect(wf(id)).toMatchObject({ status: 'waiting' });
    gateOpen = true;
    q.retry(id);
    expect(wf(id)).toMatchObject({ status: 'queued' });
  });
});
