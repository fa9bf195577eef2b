import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { logFile } from '../../pipeline/base/log.ts';
import { fixtureEngine } from '../helpers/engine.ts';
import { tempDir } from '../helpers/env.ts';

describe('structured logs', () => {
  it('the engine and its workers write JSON lines, each line about a job naming the job and its workflow', async () => {
    const dataDir = tempDir();
    const { engine, db } = fixtureEngine(dataDir, {
      backoff: { baseMs: 10, capMs: 20, factor: 2, jitter: 0 },
    });
    engine.start();
    let id = '';
    try {
      id = engine.queue.start('ledger', 'logged', { fail: { step: 'analyze', times: 1 } });
      await engine.untilIdle();
    } finally {
      await engine.stop(1000);
      db.close();
    }
    // Workers flush when they stop; the engine when it stops.
    const lines = fs
      .readFileSync(logFile(dataDir), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const about = lines.filter((l) => l.step !== undefined);
    expect(about.length).toBeGreaterThanOrEqual(9);
    for (const l of about) {
      expect(l.jobId, JSON.stringify(l)).toEqual(expect.any(Number));
      expect(l.workflowId, JSON.stringify(l)).toBe(id);
    }
    const msgs = about.map((l) => `${String(l.component)}:${String(l.msg)}:${String(l.step)}`);
    expect(msgs).toEqual(
      expect.arrayContaining([
        'engine:step started:fetch',
        'engine:step finished:index',
        'worker:step failed:analyze',
        'engine:step will run again:analyze',
      ]),
    );
    expect(lines.find((l) => l.msg === 'engine started')).toMatchObject({ component: 'engine' });
  });
});
