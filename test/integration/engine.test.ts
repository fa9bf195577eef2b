import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { spawn, spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import type { Engine } from '../../pipeline/engine/engine.ts';
import { Queue } from '../../pipeline/engine/queue.ts';
import { Registry } from '../../pipeline/engine/workflow.ts';
import { systemClock } from '../../pipeline/engine/clock.ts';
import { openDatabase, databasePath } from '../../pipeline/store/index.ts';
import { workflows } from '../fixtures/workflows.ts';
import { fixtureEngine, next } from '../helpers/engine.ts';
import { childEnv, cliPath, ledgerCounts, runCount, tempDir } from '../helpers/env.ts';

const running: Engine[] = [];
function start(dataDir: string, options: Parameters<typeof fixtureEngine>[1] = {}) {
  const e = fixtureEngine(dataDir, options);
  running.push(e.engine);
  e.engine.start();
  return e;
}
afterEach(async () => {
  await Promise.all(running.splice(0).map((e) => e.stop(100)));
});

const STEPS = ['fetch', 'transcode', 'analyze', 'index'];

function jobOf(db: ReturnType<typeof openDatabase>, workflowId: string, step: string) {
  return db.prepare('SELECT * FROM jobs WHERE workflow_id = ? AND step = ?').get(workflowId, step) as {
    id: number;
    state: string;
    attempts: number;
    recoveries: number;
    fence: number;
    crash_reason: string | null;
  };
}

describe('engine with real worker processes', () => {
  it('SIGKILL of a worker mid-step: resumes that step in a new worker; earlier steps do not re-run', async () => {
    const dataDir = tempDir();
    const { engine, db } = start(dataDir);
    const id = engine.queue.start('ledger', 'ep-1', { slow: { step: 'transcode', ms: 1500 } });
    const [started] = await next(engine, 'started', (e) => e.step === 'transcode');
    await next(engine, 'progress', (p) => p.jobId === started.jobId && p.detail === 'begun');
    const victim = engine.workers().find((w) => w.workerId === started.workerId)!;
    process.kill(victim.pid!, 'SIGKILL');
    const [crash] = await next(engine, 'crashed');
    expect(crash.reason).toBe('the worker process was killed by SIGKILL');
    await engine.untilIdle();

    expect(db.prepare('SELECT status FROM workflows WHERE id = ?').get(id)).toEqual({ status: 'completed' });
    expect(STEPS.map((s) => runCount(dataDir, id, s))).toEqual([1, 2, 1, 1]);
    expect(STEPS.map((s) => ledgerCounts(db).get(`${id}/${s}`))).toEqual([1, 1, 1, 1]);
    expect(jobOf(db, id, 'transcode')).toMatchObject({ state: 'done', recoveries: 1, attempts: 0 });
    const newPid = engine.workers().find((w) => w.workerId === started.workerId)!.pid;
    expect(newPid).not.toBe(victim.pid);
  });

  it('a crash between a side effect and its checkpoint re-runs the step, which stays idempotent', async () => {
    const dataDir = tempDir();
    const { engine, db } = start(dataDir);
    const id = engine.queue.start('ledger', 'ep-2', {
      crash: { step: 'analyze', times: 1, afterEffect: true },
    });
    await engine.untilIdle();
    expect(runCount(dataDir, id, 'analyze')).toBe(2);
    expect(ledgerCounts(db).get(`${id}/analyze`)).toBe(1);
    const files = fs.readdirSync(path.join(dataDir, 'out', id)).sort();
    expect(files).toEqual(['analyze.json', 'fetch.json', 'index.json', 'transcode.json']);
    expect(JSON.parse(fs.readFileSync(path.join(dataDir, 'out', id, 'analyze.json'), 'utf8'))).toEqual({
      workflow: id,
      step: 'analyze',
      prev: 2,
    });
  });

  it('recovers jobs left running by an engine that died, at once, without waiting for the lease', async () => {
    const dataDir = tempDir();
    const db = openDatabase(databasePath(dataDir));
    const q = new Queue(db, new Registry(workflows), systemClock, { leaseMs: 600_000 });
    const id = q.start('ledger', 'ep-3');
    const dead = spawnSync(process.execPath, ['-e', '0']).pid;
    db.prepare(
      'INSERT INTO engines (boot_id, pid, hostname, started_at, heartbeat_at) VALUES (?, ?, ?, 0, 0)',
    ).run('old-boot', dead, os.hostname());
    const claimed = q.claim('io', 'old-boot:io-0', dead, 2)!;
    expect(claimed.step).toBe('fetch');
    const { engine } = start(dataDir, { db });
    await engine.untilIdle();
    expect(db.prepare('SELECT status FROM workflows WHERE id = ?').get(id)).toEqual({ status: 'completed' });
    expect(jobOf(db, id, 'fetch')).toMatchObject({
      recoveries: 1,
      crash_reason: 'Earshot stopped unexpectedly while this step ran',
    });
  });

  it('leaves a live holder alone inside its lease; past it, stops the holder and takes the job back', async () => {
    const dataDir = tempDir();
    const db = openDatabase(databasePath(dataDir));
    const q = new Queue(db, new Registry(workflows), systemClock, { leaseMs: 600_000 });
    const id = q.start('single', 'held');
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    const holderExit = new Promise<string | null>((r) => holder.on('exit', (_c, sig) => r(sig)));
    // A live engine, heartbeating: only then is its worker's pid trusted enough to stop.
    db.prepare(
      'INSERT INTO engines (boot_id, pid, hostname, started_at, heartbeat_at) VALUES (?, ?, ?, 0, ?)',
    ).run('other-boot', process.pid, os.hostname(), Date.now());
    const claimed = q.claim('io', 'other-boot:io-0', holder.pid!, 2)!;
    const { engine } = start(dataDir, { db, sweepMs: 20 });
    engine.sweep();
    expect(jobOf(db, id, 'only')).toMatchObject({ state: 'running', recoveries: 0 });
    db.prepare('UPDATE jobs SET lease_expires_at = ? WHERE id = ?').run(Date.now() - 1, claimed.jobId);
    expect(await holderExit).toBe('SIGKILL');
    await next(engine, 'finished', (e) => e.jobId === claimed.jobId && e.outcome.kind === 'committed');
    expect(jobOf(db, id, 'only')).toMatchObject({ state: 'done', recoveries: 1 });
  });

  it('after a reboot, a leftover pid is not trusted: the job is taken back without stopping that process', async () => {
    const dataDir = tempDir();
    const db = openDatabase(databasePath(dataDir));
    const q = new Queue(db, new Registry(workflows), systemClock, { leaseMs: 600_000 });
    const id = q.start('single', 'rebooted');
    // Some unrelated program that happens to have the pid the old worker had.
    const stranger = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    let strangerKilled = false;
    stranger.on('exit', () => (strangerKilled = true));
    db.prepare(
      'INSERT INTO engines (boot_id, pid, hostname, started_at, heartbeat_at) VALUES (?, ?, ?, 0, 0)',
    ).run('before-reboot', spawnSync(process.execPath, ['-e', '0']).pid, os.hostname());
    const claimed = q.claim('io', 'before-reboot:io-0', stranger.pid!, 2)!;
    db.prepare('UPDATE jobs SET lease_expires_at = ? WHERE id = ?').run(Date.now() - 1, claimed.jobId);
    const { engine } = start(dataDir, { db, sweepMs: 20 });
    await next(engine, 'finished', (e) => e.jobId === claimed.jobId && e.outcome.kind === 'committed');
    expect(jobOf(db, id, 'only')).toMatchObject({ state: 'done', recoveries: 1 });
    expect(strangerKilled).toBe(false);
    stranger.kill();
  });

  it('heartbeats keep a long step alive well past its first lease', async () => {
    const dataDir = tempDir();
    const { engine, db } = start(dataDir, { leaseMs: 300 });
    const id = engine.queue.start('single', 'long', { slow: { step: 'only', ms: 1500 } });
    await engine.untilIdle();
    expect(jobOf(db, id, 'only')).toMatchObject({ state: 'done', recoveries: 0, attempts: 0, fence: 1 });
    expect(runCount(dataDir, id, 'only')).toBe(1);
  });

  it('a pause of the whole engine (a laptop asleep) does not make its healthy workers look hung', async () => {
    const dataDir = tempDir();
    const { engine, db } = start(dataDir, { leaseMs: 300, sweepMs: 50 });
    const id = engine.queue.start('single', 'sleepy', { slow: { step: 'only', ms: 1500 } });
    const [started] = await next(engine, 'started');
    await next(engine, 'progress', (p) => p.jobId === started.jobId && p.detail === 'begun');
    const until = performance.now() + 1200; // this process (the engine) stops for four leases
    while (performance.now() < until) {
      /* asleep */
    }
    await engine.untilIdle();
    expect(jobOf(db, id, 'only')).toMatchObject({ state: 'done', recoveries: 0, attempts: 0 });
    expect(runCount(dataDir, id, 'only')).toBe(1);
  });

  it('a hung worker (no heartbeats) is caught by its lease, killed and replaced', async () => {
    const dataDir = tempDir();
    const { engine, db } = start(dataDir, { leaseMs: 300 });
    const id = engine.queue.start('single', 'hang', { hang: { step: 'only', ms: 20_000 } });
    const [crash] = await next(engine, 'crashed');
    expect(crash.reason).toBe(
      'its lease expired without a heartbeat (the step hung), so Earshot stopped its worker',
    );
    await engine.untilIdle();
    expect(jobOf(db, id, 'only')).toMatchObject({ state: 'done', recoveries: 1 });
    expect(jobOf(db, id, 'only').crash_reason).toMatch(/lease expired/);
    expect(runCount(dataDir, id, 'only')).toBe(2);
  });

  it('a step that runs past its time limit is stopped, and dead-lettered when it keeps doing so', async () => {
    const dataDir = tempDir();
    const { engine, db } = start(dataDir, { leaseMs: 60_000 });
    // Heartbeats keep flowing while it waits forever: only the time limit can end it.
    const id = engine.queue.start('bounded', 'stuck', { slow: { step: 'only', ms: 600_000 } });
    const [crash] = await next(engine, 'crashed');
    expect(crash.reason).toBe('it ran longer than its limit of 0.3 s, so Earshot stopped it');
    await engine.untilIdle();
    expect(db.prepare('SELECT status, dead_reason FROM workflows WHERE id = ?').get(id)).toEqual({
      status: 'dead',
      dead_reason:
        'Step "only" was interrupted 2 times and Earshot gave up on it (the last time: it ran longer than its limit of 0.3 s, so Earshot stopped it). Use retry to try again.',
    });
  });

  it('cancellation reaches the running step through its AbortSignal', async () => {
    const dataDir = tempDir();
    const { engine, db } = start(dataDir);
    const id = engine.queue.start('single', 'cancel-me', { slow: { step: 'only', ms: 60_000 } });
    await next(engine, 'started');
    const finished = next(engine, 'finished');
    expect(engine.cancel(id)).toBe(true);
    const [f] = await finished;
    expect(f.outcome).toEqual({ kind: 'stale' });
    expect(fs.readFileSync(path.join(dataDir, 'aborts.log'), 'utf8')).toBe(`${id} only cancelled\n`);
    expect(db.prepare('SELECT status FROM workflows WHERE id = ?').get(id)).toEqual({ status: 'cancelled' });
    expect(ledgerCounts(db).get(`${id}/only`)).toBeUndefined();
  });

  it('a cancel from another process reaches the step at its next heartbeat', async () => {
    const dataDir = tempDir();
    const { engine, db } = start(dataDir, { leaseMs: 600 });
    const id = engine.queue.start('single', 'cancel-cli', { slow: { step: 'only', ms: 60_000 } });
    await next(engine, 'started');
    const finished = next(engine, 'finished');
    const cli = spawnSync(process.execPath, [cliPath, '--data-dir', dataDir, 'cancel', id], {
      env: childEnv(),
      encoding: 'utf8',
    });
    expect(cli.stderr).toBe('');
    expect(cli.status).toBe(0);
    await finished;
    expect(fs.readFileSync(path.join(dataDir, 'aborts.log'), 'utf8')).toBe(`${id} only cancelled\n`);
    expect(db.prepare('SELECT status FROM workflows WHERE id = ?').get(id)).toEqual({ status: 'cancelled' });
  });

  it('graceful shutdown lets a short step finish and releases a long one for the next run', async () => {
    const dataDir = tempDir();
    const first = fixtureEngine(dataDir, { lanes: { gpu: 0, cpu: 0, io: 2 } });
    first.engine.start();
    const quick = first.engine.queue.start('single', 'quick', { slow: { step: 'only', ms: 300 } });
    const slow = first.engine.queue.start('single', 'slow', { slow: { step: 'only', ms: 60_000 } });
    await Promise.all([
      next(first.engine, 'started', (e) => e.workflowId === quick),
      next(first.engine, 'started', (e) => e.workflowId === slow),
    ]);
    await first.engine.stop(1000);
    const db = first.db;
    expect(jobOf(db, quick, 'only')).toMatchObject({ state: 'done' });
    expect(jobOf(db, slow, 'only')).toMatchObject({ state: 'queued', attempts: 0, recoveries: 0 });
    expect(fs.readFileSync(path.join(dataDir, 'aborts.log'), 'utf8')).toBe(
      `${slow} only Earshot is shutting down\n`,
    );

    db.prepare('UPDATE workflows SET input = ? WHERE id = ?').run('{}', slow);
    const { engine } = start(dataDir, { db });
    await engine.untilIdle();
    expect(jobOf(db, slow, 'only')).toMatchObject({ state: 'done', attempts: 0, recoveries: 0 });
    expect(ledgerCounts(db).get(`${slow}/only`)).toBe(1);
  });

  it('a crash-looping step is dead-lettered with its reason, and retry brings it back', async () => {
    const dataDir = tempDir();
    const { engine, db } = start(dataDir);
    const id = engine.queue.start('single', 'crashy', { crash: { step: 'only', times: 4 } });
    await engine.untilIdle();
    const wf = db.prepare('SELECT status, dead_reason FROM workflows WHERE id = ?').get(id) as {
      status: string;
      dead_reason: string;
    };
    expect(wf.status).toBe('dead');
    expect(wf.dead_reason).toBe(
      'Step "only" was interrupted 4 times and Earshot gave up on it (the last time: the worker process was killed by SIGKILL). Use retry to try again.',
    );
    const status = spawnSync(process.execPath, [cliPath, '--data-dir', dataDir, '--json', 'status'], {
      env: childEnv(),
      encoding: 'utf8',
    });
    expect(JSON.parse(status.stdout).deadLetters).toEqual([
      expect.objectContaining({ workflowId: id, reason: wf.dead_reason }),
    ]);

    const retry = spawnSync(process.execPath, [cliPath, '--data-dir', dataDir, 'retry', id], {
      env: childEnv(),
      encoding: 'utf8',
    });
    expect(retry.stdout).toBe(`${id} is queued again.\n`);
    engine.tick();
    await engine.untilIdle();
    expect(db.prepare('SELECT status FROM workflows WHERE id = ?').get(id)).toEqual({ status: 'completed' });
    expect(runCount(dataDir, id, 'only')).toBe(5);
    expect(ledgerCounts(db).get(`${id}/only`)).toBe(1);
  });

  it('two engines on one library never run two gpu jobs at once, even as gpu workers are killed', async () => {
    const dataDir = tempDir();
    const a = start(dataDir, { lanes: { gpu: 1, cpu: 0, io: 0 } });
    const b = start(dataDir, { lanes: { gpu: 1, cpu: 0, io: 0 } });
    const ids = Array.from({ length: 24 }, (_, i) =>
      a.engine.queue.start('gpu-only', `g${i}`, { sleepMs: 40 }),
    );
    let kills = 0;
    for (const e of [a.engine, b.engine]) {
      e.on('started', (s) => {
        if (kills < 4 && s.jobId % 5 === 0) {
          kills++;
          const pid = e.workers().find((w) => w.workerId === s.workerId)?.pid;
          if (pid) process.kill(pid, 'SIGKILL');
        }
      });
    }
    b.engine.tick();
    await Promise.all([a.engine.untilIdle(), b.engine.untilIdle()]);
    expect(fs.existsSync(path.join(dataDir, 'gpu-violations.log'))).toBe(false);
    const statuses = a.db.prepare(`SELECT status, count(*) AS n FROM workflows GROUP BY status`).all();
    expect(statuses).toEqual([{ status: 'completed', n: ids.length }]);
    expect(kills).toBeGreaterThan(0);
    const started = new Set(
      fs
        .readFileSync(path.join(dataDir, 'runs.log'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => l.split(' ')[2]),
    );
    expect(started.size).toBeGreaterThan(2); // both engines' workers and their replacements took part
  });

  it('a step whose projection throws fails like any step: retried, then dead-lettered, nothing half-saved', async () => {
    const dataDir = tempDir();
    const errors: string[] = [];
    const { engine, db } = fixtureEngine(dataDir, {
      backoff: { baseMs: 10, capMs: 20, factor: 2, jitter: 0 },
    });
    engine.removeAllListeners('error');
    engine.on('error', (e) => errors.push(e.message));
    running.push(engine);
    engine.start();
    const id = engine.queue.start('single', 'broken-projection', { breakCommit: 'only' });
    await engine.untilIdle();
    expect(db.prepare('SELECT status, dead_reason FROM workflows WHERE id = ?').get(id)).toEqual({
      status: 'dead',
      dead_reason:
        'Step "only" failed 3 times; the last error was: saving the step\'s result failed: the only projection does not fit the library',
    });
    expect(errors).toHaveLength(3);
    expect(db.prepare(`SELECT status, output FROM steps WHERE workflow_id = ?`).get(id)).toEqual({
      status: 'failed',
      output: null,
    });
    expect(ledgerCounts(db).get(`${id}/only`)).toBeUndefined();
  });
});
