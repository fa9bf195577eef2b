import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { Registry } from '../../pipeline/engine/workflow.ts';
import { databasePath, openDatabase } from '../../pipeline/store/index.ts';
import { ManualClock } from '../../pipeline/engine/clock.ts';
import { Queue } from '../../pipeline/engine/queue.ts';
import { LaneHolds } from '../../pipeline/engine/holds.ts';
import { isProcessAlive } from '../../pipeline/engine/process-alive.ts';
import { ADVISE_HOLD, App, openApp, type AppContext } from '../../pipeline/api/app.ts';
import { validated } from '../../pipeline/api/dispatch.ts';
import { childEnv, cliPath, freshStore, fixtureWorkflowsModule, tempDir } from '../helpers/env.ts';

describe('lane holds: live state, apart from the user pause', () => {
  it('a hold stops claims in any process while it lasts, leaves the user pause alone, and ends with its lease or its process', () => {
    const { db, registry } = freshStore();
    const clock = new ManualClock();
    const q = new Queue(db, registry, clock, { leaseMs: 10_000 });
    q.start('gpu-only', 'a');
    const holder = { id: 'app-1', hostname: 'this-host', pid: 999_999_999 };
    q.hold('gpu', 'on battery', holder, 10_000);
    expect(q.holds('gpu')).toEqual(['on battery']);
    expect(q.isPaused('gpu')).toBe(false);
    expect(q.isHeld('gpu')).toBe(true);
    expect(q.claim('gpu', 'other-engine:gpu-0', process.pid, 1)).toBeNull();
    // The user pauses and resumes meanwhile: the hold is untouched, and so is their choice by it.
    q.setPaused('gpu', true);
    q.setPaused('gpu', false);
    expect(q.holds('gpu')).toEqual(['on battery']);
    // Not renewed (its holder stopped): void after its lease, without anyone clearing it.
    clock.advance(10_001);
    expect(q.holds('gpu')).toEqual([]);
    expect(q.claim('gpu', 'other-engine:gpu-0', process.pid, 1)).not.toBeNull();

    // A hold of a process on this machine that is gone is dropped at once (an app killed on battery).
    q.hold('cpu', 'on battery', holder, 60_000);
    q.hold('io', 'elsewhere', { id: 'x', hostname: 'another-host', pid: 999_999_999 }, 60_000);
    expect(q.dropDeadHolds('this-host', isProcessAlive)).toEqual(['cpu']);
    expect(q.holds('cpu')).toEqual([]);
    expect(q.holds('io')).toEqual(['elsewhere']);
    db.close();
  });

  it('LaneHolds renews its holds while its process lives and releases them when it stops', async () => {
    const { db, registry } = freshStore();
    const q = new Queue(db, registry, { now: () => Date.now() }, { leaseMs: 150 });
    const holds = new LaneHolds(q);
    expect(holds.set('gpu', 'on battery', true)).toBe(true);
    expect(holds.set('gpu', 'on battery', true)).toBe(false);
    // Three leases later it still holds: it was renewed.
    await new Promise((r) => setTimeout(r, 450));
    expect(q.holds('gpu')).toEqual(['on battery']);
    await holds.during('gpu', 'measuring', async () => {
      expect(q.holds('gpu')).toEqual(['on battery', 'measuring']);
    });
    expect(q.holds('gpu')).toEqual(['on battery']);
    holds.close();
    expect(q.holds('gpu')).toEqual([]);
    db.close();
  });
});

describe('earshot status shows holds apart from the user pause', () => {
  it('"paused: on battery" while a live process holds the lane; "paused" for the user; both', () => {
    const dataDir = tempDir();
    const earshot = (...args: string[]) =>
      spawnSync(process.execPath, [cliPath, '--data-dir', dataDir, ...args], {
        env: childEnv(),
        encoding: 'utf8',
        timeout: 60_000,
      });
    expect(earshot('status').status).toBe(0);
    const db = openDatabase(databasePath(dataDir));
    try {
      const q = new Queue(db, new Registry([]), { now: () => Date.now() });
      // This test process stands for the desktop app on battery.
      q.hold('gpu', 'on battery', { id: 'desktop', hostname: os.hostname(), pid: process.pid }, 60_000);
      const lane = (out: string, name: string) => out.split('\n').find((l) => l.startsWith(`${name} `))!;
      expect(lane(earshot('status').stdout, 'gpu')).toMatch(/^gpu\s+paused: on battery\s/);
      expect(lane(earshot('status').stdout, 'cpu')).toMatch(/^cpu\s+active\s/);
      expect(earshot('pause', 'gpu').stdout).toBe('The gpu lane is paused.\n');
      expect(lane(earshot('status').stdout, 'gpu')).toMatch(/^gpu\s+paused \(by you\); on battery\s/);
      expect(earshot('resume', 'gpu').stdout).toBe('The gpu lane is resumed, but waits while: on battery.\n');
      const json = JSON.parse(earshot('--json', 'status').stdout) as {
        lanes: { lane: string; paused: boolean; holds: string[] }[];
      };
      expect(json.lanes[0]).toMatchObject({ lane: 'gpu', paused: false, holds: ['on battery'] });
    } finally {
      db.close();
    }
  });
});

describe('models advise measures through the gpu lane', () => {
  let ctx: AppContext | null = null;
  const env = process.env.EARSHOT_ADVISE_SIZES;
  afterEach(() => {
    ctx?.db.close();
    ctx = null;
    if (env === undefined) delete process.env.EARSHOT_ADVISE_SIZES;
    else process.env.EARSHOT_ADVISE_SIZES = env;
  });

  it('holds the lane, waits for the job running on it to end, measures, then lets the lane go', async () => {
    ctx = await openApp(tempDir(), { registryModule: fixtureWorkflowsModule });
    const app = validated(new App(ctx));
    const lanes: [boolean, string[]][] = [];
    app.events.on('onLaneChanged', (l) => lanes.push([l.paused, l.holds]));
    process.env.EARSHOT_ADVISE_SIZES = 'tiny.en';
    // Another engine's job has the GPU.
    ctx.queue.start('gpu-only', 'busy');
    ctx.queue.start('gpu-only', 'next');
    const running = ctx.queue.claim('gpu', 'other-engine:gpu-0', process.pid, 1)!;
    let answered = false;
    const advice = app.adviseModels({ seconds: 5 }).then((a) => {
      answered = true;
      return a;
    });
    await new Promise((r) => setTimeout(r, 600));
    // Held: the next gpu job is not handed out; nothing measured while the lane is busy.
    expect(ctx.queue.holds('gpu')).toEqual([ADVISE_HOLD]);
    expect(ctx.queue.claim('gpu', 'other-engine:gpu-0', process.pid, 2)).toBeNull();
    expect(answered).toBe(false);
    ctx.queue.complete(running.jobId, running.fence, null);
    const a = await advice;
    expect(a.trials.map((t) => t.size)).toEqual(['tiny.en']);
    expect(ctx.queue.holds('gpu')).toEqual([]);
    expect(lanes).toEqual([
      [false, [ADVISE_HOLD]],
      [false, []],
    ]);
    expect(ctx.queue.claim('gpu', 'other-engine:gpu-0', process.pid, 1)).not.toBeNull();
  });
});
