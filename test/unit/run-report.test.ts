import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { Engine } from '../../pipeline/engine/engine.ts';
import { Queue } from '../../pipeline/engine/queue.ts';
import { ManualClock } from '../../pipeline/engine/clock.ts';
import { RunReport, type RunReportOptions } from '../../pipeline/commands/run-report.ts';
import { freshStore } from '../helpers/env.ts';

/** The run report on a terminal: a bar redrawn in place, episode lines above it, a summary. */
function library() {
  const { db, registry } = freshStore([
    { kind: 'episode', steps: [{ name: 'only', lane: 'io', version: '1', run: async () => null }] },
    { kind: 'digest', steps: [{ name: 'digest', lane: 'cpu', version: '1', run: async () => null }] },
  ]);
  const clock = new ManualClock();
  const q = new Queue(db, registry, clock);
  db.prepare(
    `INSERT INTO feeds (id, url, title, created_at) VALUES (1, 'http://x/feed', 'Talk Lab', 0)`,
  ).run();
  db.prepare(
    `INSERT INTO episodes (id, feed_id, key, title, status, created_at) VALUES (7, 1, 'f1-ep', 'Useful failures', 'processing', 0)`,
  ).run();
  const workflowId = q.start('episode', 'f1-ep');
  const digestId = q.start('digest', 'digest-2026-11-30');
  return { db, workflowId, digestId };
}

/** A report attached to a stand-in engine, writing into `log.out` (plain lines unless `tty`). */
function attached(db: ReturnType<typeof library>['db'], options: Partial<RunReportOptions> = {}) {
  const log = { out: '' };
  const report = new RunReport({
    db,
    dataDir: '/lib',
    lanes: { gpu: 1, cpu: 1, io: 2 },
    write: (s) => (log.out += s),
    tty: false,
    json: false,
    untilIdle: false,
    ...options,
  });
  const engine = new EventEmitter();
  report.attach(engine as unknown as Engine);
  return { report, engine, log };
}

describe('run report', () => {
  it('draws a bar in place on a terminal, prints finished episodes above it, and sums up', () => {
    const { db, workflowId } = library();
    let t = 0;
    const { report, engine, log } = attached(db, {
      tty: true,
      untilIdle: true,
      columns: 100,
      now: () => (t += 1000),
    });
    report.start();
    expect(log.out).toBe(
      'Earshot is working on /lib: 1 episode to process (workers: gpu 1, cpu 1, io 2). It stops when nothing is left.\n' +
        '\r[--------------------]   0%  0 of 1 episode\x1b[K',
    );
    log.out = '';
    engine.emit('started', { jobId: 1, workflowId, step: 'transcribe', lane: 'gpu', workerId: 'gpu-0' });
    engine.emit('progress', { jobId: 1, workflowId, step: 'transcribe', fraction: 0.37 });
    expect(log.out.split('\r').at(-1)).toBe(
      '[--------------------]   0%  0 of 1 episode · transcribing Useful failures — Talk Lab 37%\x1b[K',
    );
    log.out = '';
    db.prepare(`UPDATE workflows SET status = 'completed'`).run();
    engine.emit('finished', {
      jobId: 1,
      workflowId,
      step: 'transcribe',
      outcome: { kind: 'committed', workflowDone: true },
    });
    // The bar is cleared, the line printed, the bar drawn again below it.
    expect(log.out).toBe(
      '\r\x1b[K✓ Useful failures — Talk Lab\n\r[####################] 100%  1 of 1 episode\x1b[K',
    );
    log.out = '';
    report.summary([{ resource: 'model:whisper', what: 'a Whisper model', episodes: 3 }], new Map());
    expect(log.out).toBe('\r\x1b[K1 episode done, 3 waiting for a Whisper model.\n');
  });

  it('counts failures and points to earshot failures', () => {
    const { db, workflowId } = library();
    const { report, engine, log } = attached(db);
    engine.emit('finished', {
      jobId: 1,
      workflowId,
      step: 'only',
      outcome: { kind: 'dead', reason: 'Step "only" failed and retrying will not help: gone.' },
    });
    report.summary([], new Map());
    expect(log.out).toBe(
      '✗ Useful failures — Talk Lab: Step "only" failed and retrying will not help: gone.\n' +
        '0 episodes done, 1 failed — see `earshot failures`.\n',
    );
  });

  it('does not count the digest as an episode; says when it could not be made', () => {
    const { db, workflowId, digestId } = library();
    const { report, engine, log } = attached(db, { untilIdle: true });
    report.start();
    expect(log.out).toMatch(/: 1 episode to process /);
    log.out = '';
    const done = { kind: 'committed', workflowDone: true };
    engine.emit('finished', { jobId: 1, workflowId, step: 'only', outcome: done });
    engine.emit('finished', { jobId: 2, workflowId: digestId, step: 'digest', outcome: done });
    engine.emit('finished', {
      jobId: 3,
      workflowId: digestId,
      step: 'digest',
      outcome: { kind: 'dead', reason: 'The disk is full.' },
    });
    report.summary([], new Map());
    expect(log.out).toBe(
      '✓ Useful failures — Talk Lab\n' +
        '✗ The digest could not be made: The disk is full.\n' +
        '1 episode done.\n',
    );
  });
});
