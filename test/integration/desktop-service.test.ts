/**
 * The desktop app's process model, run for real with Electron faked by Node processes
 * (helpers/fake-electron.ts): main (this test process, through electron/main/service-host.ts)
 * forks the library service (electron/service/index.ts) and the workers it asks for, and brokers
 * ports; a "window" here talks to the service over its port. Processes are really started,
 * really killed, and their ports really break.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startServiceHost, type PortTarget, type ServiceHost } from '../../electron/main/service-host.ts';
import { rpcPortOf, type PortMainLike } from '../../electron/service/ports.ts';
import { BATTERY_HOLD } from '../../electron/shared/service-protocol.ts';
import { rpcClient, type RpcClient } from '../../pipeline/api/rpc.ts';
import { Queue } from '../../pipeline/engine/queue.ts';
import { Registry } from '../../pipeline/engine/workflow.ts';
import { systemClock } from '../../pipeline/engine/clock.ts';
import { databasePath, openDatabase } from '../../pipeline/store/index.ts';
import { isProcessAlive } from '../../pipeline/engine/process-alive.ts';
import { workflows } from '../fixtures/workflows.ts';
import {
  FakeMessageChannelMain,
  fakeUtilityProcess,
  type FakeUtilityProcess,
} from '../helpers/fake-electron.ts';
import { fixtureWorkflowsModule, repoRoot, tempDir } from '../helpers/env.ts';

const serviceEntry = path.join(repoRoot, 'electron/service/index.ts');
const workerEntry = path.join(repoRoot, 'electron/main/worker.ts');

interface Desktop {
  host: ServiceHost;
  forked: FakeUtilityProcess[];
  /** Resolves at the next time the service says it is ready. */
  ready(): Promise<void>;
  /** A window's client of the API, over the port main brokered to it. */
  window: RpcClient;
}

const running: ServiceHost[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((h) => h.stop(500)));
});

function desktop(dataDir: string, power: { onBattery: boolean }): Desktop {
  const forked: FakeUtilityProcess[] = [];
  const readyWaiters: (() => void)[] = [];
  const host = startServiceHost({
    utilityProcess: fakeUtilityProcess({ forked }),
    MessageChannelMain: FakeMessageChannelMain,
    serviceEntry,
    workerEntry,
    boot: () => ({
      dataDir,
      registryModule: fixtureWorkflowsModule,
      holds: power.onBattery ? [{ lane: 'gpu', reason: BATTERY_HOLD }] : [],
      lanes: { gpu: 1, cpu: 1, io: 1 },
    }),
    maxRestartDelayMs: 200,
    onError: () => {},
    onReady: () => {
      for (const w of readyWaiters.splice(0)) w();
    },
  });
  running.push(host);
  const window = rpcClient();
  const target: PortTarget = {
    postMessage: (_channel, _message, [port]) => window.attach(rpcPortOf(port as PortMainLike)),
    isDestroyed: () => false,
  };
  host.connect(target);
  return {
    host,
    forked,
    window,
    ready: () => new Promise<void>((resolve) => readyWaiters.push(resolve)),
  };
}

/** Work put into the library from outside, as a feed refresh in another process would. */
function enqueue(dataDir: string, kind: string, subject: string): string {
  const db = openDatabase(databasePath(dataDir));
  try {
    return new Queue(db, new Registry(workflows), systemClock).start(kind, subject);
  } finally {
    db.close();
  }
}

async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const lane = async (client: RpcClient, name: 'gpu' | 'cpu' | 'io') =>
  (await client.invoke('status')).lanes.find((l) => l.lane === name)!;

describe('desktop: a thin main process and the library service in its own process', () => {
  it('answers a window over the port main brokered, runs steps in workers main forked, and comes back after a crash', async () => {
    const dataDir = tempDir();
    const d = desktop(dataDir, { onBattery: false });
    const status = await d.window.invoke('status');
    expect(status.dataDir).toBe(dataDir);
    expect(status.lanes.map((l) => [l.lane, l.paused, l.holds])).toEqual([
      ['gpu', false, []],
      ['cpu', false, []],
      ['io', false, []],
    ]);
    // Validated where the call enters the service, with the contract's own words.
    await expect(d.window.invoke('pauseLane', 'warp' as never)).rejects.toMatchObject({
      name: 'ApiInputError',
      message: '"warp" is not a lane; the lanes are gpu, cpu and io.',
    });

    const finished: string[] = [];
    d.window.on('onJobFinished', (e) => finished.push(`${e.workflowId}/${e.step}`));
    const id = enqueue(dataDir, 'ledger', 'desktop-episode');
    const wf = await until(
      () => d.window.invoke('workflow', id),
      (w) => w.status === 'completed',
      'the workflow to complete',
    );
    expect(wf.steps.map((s) => [s.name, s.lane, s.status])).toEqual([
      ['fetch', 'io', 'completed'],
      ['transcode', 'gpu', 'completed'],
      ['analyze', 'cpu', 'completed'],
      ['index', 'io', 'completed'],
    ]);
    // The window heard every step finish, over its port.
    await until(
      async () => finished.length,
      (n) => n >= 4,
      'the events',
    );
    expect(finished).toEqual(expect.arrayContaining([`${id}/fetch`, `${id}/index`]));

    // Every step ran in a worker main forked for the service: not in main, not in the service.
    const servicePid = d.host.pid!;
    const workerPids = d.forked.map((f) => f.pid).filter((p) => p !== servicePid);
    const ranIn = fs
      .readFileSync(path.join(dataDir, 'runs.log'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => Number(l.split(' ')[2]));
    expect(ranIn).toHaveLength(4);
    for (const pid of ranIn) {
      expect(pid).not.toBe(process.pid);
      expect(pid).not.toBe(servicePid);
      expect(workerPids).toContain(pid);
    }

    // A native crash in the service: main restarts it; the window's calls go to the new one.
    const back = d.ready();
    process.kill(servicePid, 'SIGKILL');
    await back;
    expect(d.host.pid).not.toBe(servicePid);
    expect(isProcessAlive(servicePid)).toBe(false);
    // The dead service's workers were stopped with it (nobody could commit their work).
    await until(
      async () => workerPids.filter((p) => isProcessAlive(p)).length,
      (n) => n === 0,
      'the old workers to go',
    );
    expect((await d.window.invoke('workflow', id)).status).toBe('completed');

    const restarted = d.host.pid!;
    await d.host.stop(500);
    expect(isProcessAlive(restarted)).toBe(false);
  });

  it('a battery hold is live: killed on battery, restarted on AC, the gpu lane runs; a user pause survives restarts on both', async () => {
    const dataDir = tempDir();
    const power = { onBattery: true };
    const first = desktop(dataDir, power);
    const gpu = await lane(first.window, 'gpu');
    expect(gpu).toMatchObject({ paused: false, holds: [BATTERY_HOLD] });

    const gpuJob = enqueue(dataDir, 'gpu-only', 'while on battery');
    const ioJob = enqueue(dataDir, 'single', 'meanwhile');
    // The engine runs (the io workflow completes) but starts nothing on the held gpu lane.
    await until(
      () => first.window.invoke('workflow', ioJob),
      (w) => w.status === 'completed',
      'the io workflow',
    );
    expect((await first.window.invoke('workflow', gpuJob)).status).toBe('queued');

    // The app dies on battery (its hold is still in the library), and starts again on AC.
    power.onBattery = false;
    const back = first.ready();
    process.kill(first.host.pid!, 'SIGKILL');
    await back;
    await until(
      () => first.window.invoke('workflow', gpuJob),
      (w) => w.status === 'completed',
      'the gpu workflow to run on AC',
    );
    expect(await lane(first.window, 'gpu')).toMatchObject({ paused: false, holds: [] });

    // The user pauses the gpu lane; the app restarts on battery, then on AC: still paused.
    expect(await first.window.invoke('pauseLane', 'gpu')).toMatchObject({ paused: true, holds: [] });
    await first.host.stop(500);
    power.onBattery = true;
    const second = desktop(dataDir, power);
    expect(await lane(second.window, 'gpu')).toMatchObject({ paused: true, holds: [BATTERY_HOLD] });
    await second.host.stop(500);
    power.onBattery = false;
    const third = desktop(dataDir, power);
    expect(await lane(third.window, 'gpu')).toMatchObject({ paused: true, holds: [] });
    const paused = enqueue(dataDir, 'gpu-only', 'paused by the user');
    const other = enqueue(dataDir, 'single', 'still running');
    await until(
      () => third.window.invoke('workflow', other),
      (w) => w.status === 'completed',
      'the io workflow',
    );
    expect((await third.window.invoke('workflow', paused)).status).toBe('queued');
    // Power changes live while it runs: a hold comes and goes without touching the user's pause.
    third.host.setHold('gpu', BATTERY_HOLD, true);
    await until(
      () => lane(third.window, 'gpu'),
      (l) => l.holds.length === 1,
      'the hold',
    );
    third.host.setHold('gpu', BATTERY_HOLD, false);
    expect(
      await until(
        () => lane(third.window, 'gpu'),
        (l) => l.holds.length === 0,
        'the hold to go',
      ),
    ).toMatchObject({ paused: true });
    await third.window.invoke('resumeLane', 'gpu');
    await until(
      () => third.window.invoke('workflow', paused),
      (w) => w.status === 'completed',
      'the gpu workflow after resume',
    );
  });
});
