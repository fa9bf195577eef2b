import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { Queue } from '../../pipeline/engine/queue.ts';
import { systemClock } from '../../pipeline/engine/clock.ts';
import { childEnv, cliPath, freshStore, tempDir } from '../helpers/env.ts';

function earshot(dataDir: string | null, args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [cliPath, ...(dataDir ? ['--data-dir', dataDir] : []), ...args], {
    env: childEnv(env),
    encoding: 'utf8',
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('earshot CLI', () => {
  it('status on a new library: lanes, no workers, no dead letters', () => {
    const dir = tempDir();
    const r = earshot(dir, ['--json', 'status']);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.dataDir).toBe(dir);
    expect(s.lanes.map((l: { lane: string }) => l.lane)).toEqual(['gpu', 'cpu', 'io']);
    expect(s.lanes[0]).toMatchObject({ lane: 'gpu', concurrency: 1, paused: false, queued: 0, running: 0 });
    expect(s.workers).toEqual([]);
    expect(s.deadLetters).toEqual([]);
    expect(fs.existsSync(path.join(dir, 'earshot.db'))).toBe(true);
    const human = earshot(dir, ['status']);
    expect(human.stdout).toContain('No engine is running (start one with `earshot run`).');
  });

  it('doctor reports the hardware, what each lane uses, and the decoder', () => {
    const dir = tempDir();
    const r = earshot(dir, ['--json', 'doctor']);
    expect(r.stderr).toBe('');
    const d = JSON.parse(r.stdout);
    expect(d.hardware.cpu.cores).toBeGreaterThan(0);
    expect(d.hardware.backends.cpu).toBe(true);
    expect(d.lanes.gpu).toMatchObject({
      concurrency: expect.any(Number),
      uses: expect.any(String),
      configured: 1,
    });
    // A maintained FFmpeg (6 or newer), from this platform's npm package, not a 2018 snapshot.
    expect(d.decoder).toMatchObject({
      ok: true,
      name: 'FFmpeg (node-av)',
      version: expect.stringMatching(/^\d+\.\d+/),
      source: expect.stringMatching(/^npm package @seydx\/node-av-/),
    });
    expect((d.decoder as { major: number }).major).toBeGreaterThanOrEqual(6);
    expect(d.modelsDir).toBe(path.join(dir, 'models'));
    if (d.hardware.gpus.length === 0) expect(d.lanes.gpu.uses).toMatch(/^CPU/);
  });

  it('honours EARSHOT_DATA_DIR when --data-dir is not given', () => {
    const dir = tempDir();
    const r = earshot(null, ['--json', 'status'], { EARSHOT_DATA_DIR: dir });
    expect(JSON.parse(r.stdout).dataDir).toBe(dir);
  });

  it('pauses and resumes a lane', () => {
    const dir = tempDir();
    expect(earshot(dir, ['pause', 'gpu']).stdout).toBe('The gpu lane is paused.\n');
    const s = JSON.parse(earshot(dir, ['--json', 'status']).stdout);
    expect(s.lanes[0].paused).toBe(true);
    expect(JSON.parse(earshot(dir, ['--json', 'resume', 'gpu']).stdout)).toMatchObject({
      lane: 'gpu',
      paused: false,
    });
  });

  it('bad input exits non-zero with one clear line and leaves the library usable', () => {
    const dir = tempDir();
    const bad = earshot(dir, ['pause', 'turbo']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe('earshot: "turbo" is not a lane; the lanes are gpu, cpu and io.\n');
    const missing = earshot(dir, ['workflow', 'show', 'nope']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('earshot: There is no workflow with id nope; `earshot jobs` lists them.\n');
    expect(earshot(dir, ['process'])).toMatchObject({
      code: 1,
      stderr: 'earshot: Name one or more episode ids, or use --all.\n',
    });
    expect(earshot(dir, ['process', 'seven']).stderr).toBe(
      'earshot: "seven" is not an episode id (see `earshot episodes`).\n',
    );
    const unknown = earshot(dir, ['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command 'frobnicate'/);
    // A value that is not valid is a bad input (1) whichever parser finds it; usage mistakes are 2.
    const lanes = earshot(dir, ['run', '--lanes', 'gpu=two']);
    expect(lanes.code).toBe(1);
    expect(lanes.stderr).toMatch(/"gpu=two" should look like gpu=1/);
    expect(earshot(dir, ['--json', 'status']).code).toBe(0);
  });

  it('a library file that is not a database is a clear error, and the file is left alone', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'earshot.db'), 'garbage'.repeat(1000));
    const r = earshot(dir, ['status']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^earshot: The library database is damaged or is not an Earshot database/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(fs.readFileSync(path.join(dir, 'earshot.db'), 'utf8').startsWith('garbage')).toBe(true);
  });

  it('run --until-idle processes the queue and exits 0; jobs and workflow show report it', () => {
    const { dataDir, db, registry } = freshStore();
    const q = new Queue(db, registry, systemClock);
    const ok = q.start('ledger', 'ep-ok');
    const failing = q.start('single', 'ep-bad', { fail: { step: 'only', times: 9, permanent: true } });
    const queued = JSON.parse(earshot(dataDir, ['--json', 'jobs']).stdout);
    expect(
      queued.map((j: { workflowId: string; step: string; state: string }) => [j.workflowId, j.step, j.state]),
    ).toEqual([
      [ok, 'fetch', 'queued'],
      [failing, 'only', 'queued'],
    ]);
    const run = earshot(dataDir, ['run', '--until-idle']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);

    const show = JSON.parse(earshot(dataDir, ['--json', 'workflow', 'show', ok]).stdout);
    expect(show.status).toBe('completed');
    expect(show.steps.map((s: { name: string; status: string }) => `${s.name}:${s.status}`)).toEqual([
      'fetch:completed',
      'transcode:completed',
      'analyze:completed',
      'index:completed',
    ]);
    expect(show.steps.every((s: { durationMs: number | null }) => typeof s.durationMs === 'number')).toBe(
      true,
    );
    const dead = JSON.parse(earshot(dataDir, ['--json', 'workflow', 'show', failing]).stdout);
    expect(dead).toMatchObject({
      status: 'dead',
      deadReason: 'Step "only" failed and retrying will not help: only cannot work on this input',
    });
    const human = earshot(dataDir, ['workflow', 'show', failing]).stdout;
    expect(human).toContain('status: dead — Step "only" failed and retrying will not help');
    const failedJobs = JSON.parse(earshot(dataDir, ['--json', 'jobs', '--state', 'failed']).stdout);
    expect(failedJobs).toEqual([
      expect.objectContaining({
        workflowId: failing,
        attempts: 1,
        lastError: 'only cannot work on this input',
      }),
    ]);
    const bad = earshot(dataDir, ['retry', ok, '--from-step', 'nope']);
    expect(bad.stderr).toBe(
      `earshot: Workflow ${ok} has no step "nope"; its steps are: fetch, transcode, analyze, index.\n`,
    );
    const again = earshot(dataDir, ['--json', 'retry', ok, '--from-step', 'analyze']);
    expect(JSON.parse(again.stdout).steps.map((s: { status: string }) => s.status)).toEqual([
      'completed',
      'completed',
      'pending',
      'pending',
    ]);
  });

  it('workflow show reports a step running from its claim, and its time once committed', () => {
    const { dataDir, db, registry } = freshStore();
    const q = new Queue(db, registry, systemClock);
    const id = q.start('ledger', 'ep-run');
    const job = q.claim('io', 'boot:w', process.pid, 1)!;
    const claimedAt = db.prepare('SELECT claimed_at FROM jobs WHERE id = ?').pluck().get(job.jobId);
    const running = JSON.parse(earshot(dataDir, ['--json', 'workflow', 'show', id]).stdout);
    expect(running.status).toBe('running');
    expect(running.steps.map((s: { status: string }) => s.status)).toEqual([
      'running',
      'pending',
      'pending',
      'pending',
    ]);
    expect(running.steps[0]).toMatchObject({ name: 'fetch', startedAt: claimedAt, durationMs: null });
    expect(q.complete(job.jobId, job.fence, null)).toMatchObject({ kind: 'committed' });
    const after = JSON.parse(earshot(dataDir, ['--json', 'workflow', 'show', id]).stdout);
    expect(after.steps[0]).toMatchObject({ status: 'completed', startedAt: claimedAt });
    expect(after.steps[0].durationMs).toBeGreaterThanOrEqual(0);
    expect(after.steps[1].status).toBe('pending');
  });

  it('run exits cleanly on SIGTERM, giving the running step back for the next run', async () => {
    const { dataDir, db, registry } = freshStore();
    const q = new Queue(db, registry, systemClock);
    const id = q.start('single', 'long', { slow: { step: 'only', ms: 60_000 } });
    const child = spawn(process.execPath, [cliPath, '--data-dir', dataDir, 'run', '--grace', '200'], {
      env: childEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // Wait until the step has really started (its first act is to log the run).
    await new Promise<void>((resolve) => {
      const watcher = fs.watch(dataDir, () => {
        if (fs.existsSync(path.join(dataDir, 'runs.log'))) {
          watcher.close();
          resolve();
        }
      });
    });
    const live = JSON.parse(earshot(dataDir, ['--json', 'status']).stdout);
    const jobId = (db.prepare('SELECT id FROM jobs WHERE workflow_id = ?').get(id) as { id: number }).id;
    expect(live.workers.filter((w: { state: string }) => w.state === 'busy')).toEqual([
      expect.objectContaining({ lane: 'io', jobId, pid: expect.any(Number) }),
    ]);
    expect(live.lanes[2]).toMatchObject({ lane: 'io', running: 1 });
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(db.prepare('SELECT state, attempts, recoveries FROM jobs WHERE workflow_id = ?').get(id)).toEqual({
      state: 'queued',
      attempts: 0,
      recoveries: 0,
    });
    expect(db.prepare('SELECT count(*) AS n FROM engines WHERE stopped_at IS NULL').get()).toEqual({ n: 0 });
  });
});
