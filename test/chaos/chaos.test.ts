/**
 * Chaos: hundreds of four-step workflows (real file and database work, one step on the gpu
 * lane) while a driver SIGKILLs random workers and the engine process itself every 0.5–2 s and
 * restarts it. Afterwards every workflow must be completed or dead-lettered with a reason,
 * every step's side effect committed exactly once, the gpu lane never shared, and the
 * database intact.
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { Queue } from '../../pipeline/engine/queue.ts';
import { systemClock } from '../../pipeline/engine/clock.ts';
import { childEnv, cliPath, freshStore, ledgerCounts } from '../helpers/env.ts';

const WORKFLOWS = Number(process.env.EARSHOT_CHAOS_WORKFLOWS ?? 300);
const CHAOS_MS = Number(process.env.EARSHOT_CHAOS_MS ?? 90_000);
const STEPS = ['fetch', 'transcode', 'analyze', 'index'];

const random = (lo: number, hi: number) => lo + Math.random() * (hi - lo);
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('chaos', () => {
  it(`${WORKFLOWS} workflows survive random SIGKILLs of workers and of the engine`, async () => {
    const { dataDir, db, registry } = freshStore();
    const queue = new Queue(db, registry, systemClock);
    const ids = db.transaction(() =>
      Array.from({ length: WORKFLOWS }, (_, i) => queue.start('ledger', `episode-${i}`)),
    )();
    const env = childEnv({
      EARSHOT_LEASE_MS: '1500',
      EARSHOT_TEST_SLEEP_MS: process.env.EARSHOT_CHAOS_STEP_MS ?? '80',
      EARSHOT_TEST_MAX_RECOVERIES: '25',
    });
    const args = [cliPath, '--data-dir', dataDir, 'run', '--lanes', 'gpu=1,cpu=1,io=3', '--grace', '500'];

    let engine: ChildProcess | null = null;
    let engineLog = '';
    const launch = () => {
      const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
      child.stderr!.on('data', (d: Buffer) => (engineLog += d.toString()));
      engine = child;
    };
    const exited = (c: ChildProcess) =>
      new Promise<void>((r) =>
        c.exitCode !== null || c.signalCode !== null ? r() : c.once('exit', () => r()),
      );
    const terminal = () =>
      (
        db.prepare(`SELECT count(*) AS n FROM workflows WHERE status IN ('completed', 'dead')`).get() as {
          n: number;
        }
      ).n;

    const kills = { workers: 0, engines: 0 };
    launch();
    const until = Date.now() + CHAOS_MS;
    while (Date.now() < until && terminal() < WORKFLOWS) {
      await pause(random(500, 2000));
      const current = engine as ChildProcess | null;
      if (!current) break;
      if (Math.random() < 0.35) {
        current.kill('SIGKILL');
        await exited(current);
        kills.engines++;
        launch();
      } else {
        const workers = db
          .prepare(
            `SELECT w.pid FROM workers w JOIN engines e ON e.boot_id = w.boot_id
             WHERE e.pid = ? AND w.pid IS NOT NULL AND w.state IN ('busy', 'idle')`,
          )
          .all(current.pid) as { pid: number }[];
        const victim = workers[Math.floor(Math.random() * workers.length)];
        if (victim) {
          try {
            process.kill(victim.pid, 'SIGKILL');
            kills.workers++;
          } catch {
            /* it had just exited */
          }
        }
      }
    }
    // Calm: let the engine finish without interference, then stop it the way a user would.
    const last = engine as ChildProcess | null;
    if (last) {
      last.kill('SIGTERM');
      await exited(last);
    }
    const finisher = spawn(
      process.execPath,
      [...args.slice(0, -4), '--until-idle', '--lanes', 'gpu=1,cpu=1,io=3'],
      {
        env,
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
    const code = await new Promise<number | null>((r) => finisher.on('exit', (c) => r(c)));
    expect(code).toBe(0);

    const statuses = db.prepare('SELECT status, count(*) AS n FROM workflows GROUP BY status').all() as {
      status: string;
      n: number;
    }[];
    const byStatus = Object.fromEntries(statuses.map((s) => [s.status, s.n]));
    expect((byStatus.completed ?? 0) + (byStatus.dead ?? 0)).toBe(WORKFLOWS);
    const deadWithoutReason = db
      .prepare(
        `SELECT count(*) AS n FROM workflows WHERE status = 'dead' AND (dead_reason IS NULL OR dead_reason = '')`,
      )
      .get() as { n: number };
    expect(deadWithoutReason.n).toBe(0);

    const ledger = ledgerCounts(db);
    const completed = new Set(
      (db.prepare(`SELECT id FROM workflows WHERE status = 'completed'`).all() as { id: string }[]).map(
        (r) => r.id,
      ),
    );
    for (const id of ids) {
      for (const step of STEPS) {
        const n = ledger.get(`${id}/${step}`) ?? 0;
        if (completed.has(id)) expect(n, `${id}/${step}`).toBe(1);
        else expect(n, `${id}/${step}`).toBeLessThanOrEqual(1);
      }
      if (completed.has(id)) {
        for (const step of STEPS)
          expect(fs.existsSync(path.join(dataDir, 'out', id, `${step}.json`))).toBe(true);
      }
    }
    const violations = path.join(dataDir, 'gpu-violations.log');
    expect(fs.existsSync(violations) ? fs.readFileSync(violations, 'utf8') : '').toBe('');
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');

    const runs = fs.readFileSync(path.join(dataDir, 'runs.log'), 'utf8').trim().split('\n').length;
    const summary = {
      workflows: WORKFLOWS,
      ...byStatus,
      kills,
      stepRuns: runs,
      stepsCommitted: [...ledger.values()].length,
    };
    console.log(`chaos: ${JSON.stringify(summary)}`);
    expect(kills.engines + kills.workers).toBeGreaterThan(0);
    expect(runs).toBeGreaterThan(ledger.size); // the kills really interrupted steps that then re-ran
    expect(engineLog).not.toMatch(/TypeError|ReferenceError/);
  });
});
