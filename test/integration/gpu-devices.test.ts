/**
 * One job per GPU device, each gpu-lane worker bound to its own: an engine told of two GPUs (fake
 * ones: nothing here runs on a GPU) runs two gpu-lane jobs at once, each in a worker whose process
 * sees only its device (CUDA_VISIBLE_DEVICES), and never two on one device.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixtureEngine } from '../helpers/engine.ts';
import { tempDir } from '../helpers/env.ts';

interface Interval {
  workflow: string;
  device: string;
  visible: string;
  start: number;
  end: number;
}

function intervals(dataDir: string): Interval[] {
  const open = new Map<string, Interval>();
  const done: Interval[] = [];
  for (const line of fs.readFileSync(path.join(dataDir, 'gpu-devices.log'), 'utf8').trim().split('\n')) {
    const [workflow, device, visible, what, at] = line.split(' ') as [string, string, string, string, string];
    if (what === 'start') open.set(workflow, { workflow, device, visible, start: Number(at), end: NaN });
    else {
      const i = open.get(workflow)!;
      i.end = Number(at);
      done.push(i);
    }
  }
  return done;
}

describe('the gpu lane on a machine with two GPUs', () => {
  it('runs two jobs at once, one per device, each worker bound to its device, never two on one', async () => {
    const dataDir = tempDir();
    const { engine, db } = fixtureEngine(dataDir, {
      lanes: { gpu: 2, cpu: 1, io: 1 },
      devices: [
        { backend: 'cuda', index: 0, name: 'Fake GPU A' },
        { backend: 'cuda', index: 1, name: 'Fake GPU B' },
      ],
    });
    const started: (string | null)[] = [];
    engine.on('started', (e) => started.push(e.device));
    engine.start();
    try {
      for (let i = 0; i < 8; i++)
        engine.queue.start('gpu-only', `clip-${i}`, { slow: { step: 'render', ms: 300 } });
      await engine.untilIdle();
    } finally {
      await engine.stop(1000);
      db.close();
    }
    const runs = intervals(dataDir);
    expect(runs).toHaveLength(8);
    // Each job knew its device, and its process could see that device only.
    for (const r of runs) {
      expect(['cuda:0', 'cuda:1']).toContain(r.device);
      expect(r.visible).toBe(r.device.split(':')[1]);
    }
    expect(new Set(runs.map((r) => r.device))).toEqual(new Set(['cuda:0', 'cuda:1']));
    expect(started.sort()).toEqual([...Array(4).fill('cuda:0'), ...Array(4).fill('cuda:1')].sort());
    const overlap = (a: Interval, b: Interval) => a.start < b.end && b.start < a.end;
    // Two at once: some job on one device overlapped a job on the other.
    const pairs = runs.flatMap((a, i) => runs.slice(i + 1).map((b) => [a, b] as const));
    expect(pairs.some(([a, b]) => a.device !== b.device && overlap(a, b))).toBe(true);
    // Never two on one device (and the per-device lock saw no overlap either).
    expect(pairs.filter(([a, b]) => a.device === b.device && overlap(a, b))).toEqual([]);
    expect(fs.existsSync(path.join(dataDir, 'gpu-violations.log'))).toBe(false);
  });
});
