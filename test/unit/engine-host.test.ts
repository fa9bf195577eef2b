import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startEngine } from '../../electron/main/engine-host.ts';
import { createProcessingSwitch } from '../../electron/main/processing.ts';
import { invokeChannel } from '../../electron/shared/bridge.ts';
import { NodeWorkerHost } from '../../pipeline/engine/worker-host.ts';
import { fixtureWorkflowsModule, tempDir } from '../helpers/env.ts';

type Handler = (
  event: { senderFrame: { url: string; parent: null } },
  ...args: unknown[]
) => Promise<unknown>;

describe('desktop engine wiring (electron mocked by plain objects)', () => {
  it('answers the typed API over IPC, maps tray pause and battery onto lanes, and runs work', async () => {
    const mainDir = tempDir('earshot-main-');
    fs.writeFileSync(
      path.join(mainDir, 'workflows.js'),
      `export * from ${JSON.stringify(fixtureWorkflowsModule)};\n`,
    );
    const handlers = new Map<string, Handler>();
    const ipcMain = {
      handle: (channel: string, h: Handler) => void handlers.set(channel, h),
      removeHandler: (channel: string) => void handlers.delete(channel),
    };
    const processing = createProcessingSwitch();
    const sent: [string, unknown][] = [];
    const window = {
      send: (channel: string, payload: unknown) => void sent.push([channel, payload]),
      isDestroyed: () => false,
    };
    const running = await startEngine({
      ipcMain: ipcMain as never,
      host: new NodeWorkerHost(),
      dataDir: tempDir(),
      mainDir,
      processing,
      isTrustedSender: (url) => url.startsWith('app://earshot'),
      eventTargets: () => [window],
    });
    const call = (name: string, url = 'app://earshot/index.html', ...args: unknown[]) =>
      handlers.get(invokeChannel(name))!({ senderFrame: { url, parent: null } }, ...args) as Promise<{
        ok: boolean;
        value?: { lanes: { lane: string; paused: boolean }[] };
        error?: { message: string };
      }>;
    try {
      const status = await call('status');
      expect(status.ok).toBe(true);
      expect(status.value!.lanes.map((l) => l.paused)).toEqual([false, false, false]);
      expect((await call('status', 'https://evil.example/')).error!.message).toMatch(/not Earshot's/);
      expect((await call('pauseLane', undefined, 'warp')).error!.message).toBe(
        '"warp" is not a lane; the lanes are gpu, cpu and io.',
      );

      processing.setOnBattery(true);
      expect((await call('status')).value!.lanes.map((l) => [l.lane, l.paused])).toEqual([
        ['gpu', true],
        ['cpu', false],
        ['io', false],
      ]);
      processing.setUserPaused(true);
      expect((await call('status')).value!.lanes.every((l) => l.paused)).toBe(true);
      processing.setUserPaused(false);
      processing.setOnBattery(false);
      expect((await call('status')).value!.lanes.some((l) => l.paused)).toBe(false);

      const id = running.engine.queue.start('ledger', 'desktop-episode');
      await running.engine.untilIdle();
      expect((await running.app.workflow(id)).status).toBe('completed');
      // The window saw the job run, as a browser on `earshot serve` would.
      const jobEvents = sent.filter(([, p]) => (p as { workflowId?: string }).workflowId === id);
      expect(jobEvents.map(([channel]) => channel)).toEqual(
        expect.arrayContaining(['earshot:event:onJobStarted', 'earshot:event:onJobFinished']),
      );
      running.app.events.emit('onModelProgress', { id: 'whisper-tiny', bytes: 1, total: 2 });
      expect(sent.at(-1)).toEqual([
        'earshot:event:onModelProgress',
        { id: 'whisper-tiny', bytes: 1, total: 2 },
      ]);
    } finally {
      await running.stop(100);
    }
    expect(handlers.size).toBe(0);
    // Stopped: nothing more reaches the window.
    const before = sent.length;
    running.app.events.emit('onModelProgress', { id: 'whisper-tiny', bytes: 2, total: 2 });
    expect(sent).toHaveLength(before);
  });
});
