import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Queue } from '../../pipeline/engine/queue.ts';
import { systemClock } from '../../pipeline/engine/clock.ts';
import { freshStore, repoRoot } from '../helpers/env.ts';
import { databasePath } from '../../pipeline/store/index.ts';

function runClaimer(file: string, name: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(repoRoot, 'test/helpers/claimer.ts'), file, name], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) =>
      code === 0 ? resolve(out.split('\n').filter(Boolean)) : reject(new Error(`claimer exited ${code}`)),
    );
  });
}

describe('claiming across processes', () => {
  it('several processes racing to claim never claim the same job twice', async () => {
    const { dataDir, db, registry } = freshStore();
    const q = new Queue(db, registry, systemClock);
    const N = 600;
    db.transaction(() => {
      for (let i = 0; i < N; i++) q.start('single', `s${i}`);
    })();
    const results = await Promise.all([1, 2, 3, 4].map((i) => runClaimer(databasePath(dataDir), `p${i}`)));
    const all = results.flat();
    const ids = all.map((l) => l.split(' ')[0]);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBe(N);
    expect(results.filter((r) => r.length > 0).length).toBeGreaterThan(1); // it really was a race
    expect(all.every((l) => l.endsWith(' 1'))).toBe(true); // each job was claimed exactly once (fence 1)
    expect(db.prepare(`SELECT state, count(*) AS n FROM jobs GROUP BY state`).all()).toEqual([
      { state: 'done', n: N },
    ]);
  });
});
