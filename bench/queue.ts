/**
 * Queue benchmark (`npm run bench:queue`): no-op jobs through Earshot's durable queue, in one
 * process and through the Engine's worker processes, enqueue-to-start latency, and the same
 * one-process workload on plainjob (a SQLite job queue on better-sqlite3) as a baseline.
 *
 * Every database is a fresh file-backed WAL database (synchronous = NORMAL, busy_timeout 5000,
 * one transaction per enqueue, claim and completion on both sides) under bench/.tmp/, removed
 * at the end. Sizes can be changed with BENCH_N, BENCH_ROUNDS, BENCH_ENGINE_N,
 * BENCH_LATENCY_N and BENCH_HISTORY_N. The last line printed is one JSON object with the figures.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { better, defineQueue, defineWorker, JobStatus, type Logger } from 'plainjob';
import { openDatabase, type Db } from '../pipeline/store/db.ts';
import { Queue } from '../pipeline/engine/queue.ts';
import { startCheckpointer } from '../pipeline/store/checkpointer.ts';
import { Engine } from '../pipeline/engine/engine.ts';
import { Registry } from '../pipeline/engine/workflow.ts';
import { systemClock } from '../pipeline/engine/clock.ts';
import { NOOP_KIND, workflows } from './noop-workflows.ts';

const N = intEnv('BENCH_N', 20_000);
const ROUNDS = intEnv('BENCH_ROUNDS', 2);
const WARMUP_N = Math.min(2_000, N);
const ENGINE_N = intEnv('BENCH_ENGINE_N', 2_000);
const ENGINE_WARMUP_N = 200;
const LATENCY_N = intEnv('BENCH_LATENCY_N', 200);
/** Gap between enqueues in the latency run: uniform in this range (ms), so it never locks to the poll. */
const LATENCY_GAP_MS: [number, number] = [5, 35];
/** Enqueues timed once more after a round's N workflows have completed (a library with history). */
const HISTORY_N = intEnv('BENCH_HISTORY_N', 200);
/** Workflows per enqueue transaction in the batched runs. */
const ENQUEUE_BATCH = intEnv('BENCH_ENQUEUE_BATCH', 100);
/** Jobs finishing together in the group-commit run with several workers. */
const GROUP = intEnv('BENCH_GROUP', 16);

const here = path.dirname(fileURLToPath(import.meta.url));
const registryModule = path.join(here, 'noop-workflows.ts');
const registry = new Registry(workflows);
const tmpParent = path.join(here, '.tmp');
const tmpRoot = path.join(tmpParent, `queue-${process.pid}`);

function intEnv(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0)
    throw new Error(`${name} should be a positive whole number, not "${v}"`);
  return n;
}

let fileCounter = 0;
function freshDbFile(label: string): string {
  const dir = path.join(tmpRoot, `${String(++fileCounter).padStart(2, '0')}-${label}`);
  fs.mkdirSync(dir, { recursive: true });
  return path.join(dir, 'library.db');
}

function removeDbFiles(file: string): void {
  fs.rmSync(path.dirname(file), { recursive: true, force: true });
}

function cleanup(): void {
  fs.rmSync(tmpRoot, { recursive: true, force: true });
  try {
    fs.rmdirSync(tmpParent); // only if nothing else is left there
  } catch {
    // not empty, or already gone
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Nearest-rank percentile. */
function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

const rate = (n: number, ms: number) => (n * 1000) / ms;
const fmtRate = (r: number) => `${Math.round(r).toLocaleString('en-US')} jobs/s`;
const fmtMs = (ms: number) => `${ms.toFixed(ms < 10 ? 2 : 1)} ms`;
const round1 = (x: number) => Math.round(x * 10) / 10;
const round2 = (x: number) => Math.round(x * 100) / 100;

function count(db: Db, sql: string): number {
  return (db.prepare(sql).get() as { n: number }).n;
}

interface Round {
  enqueueMs: number;
  drainMs: number;
  /** Time for HISTORY_N more enqueues after the N have completed, when asked for. */
  historyEnqueueMs?: number;
}

function summarize(n: number, rounds: Round[]) {
  return {
    enqueue: median(rounds.map((r) => rate(n, r.enqueueMs))),
    drain: median(rounds.map((r) => rate(n, r.drainMs))),
    total: median(rounds.map((r) => rate(n, r.enqueueMs + r.drainMs))),
  };
}

// ---------------------------------------------------------------------------------------------
// 1. Earshot, one process: enqueue N one-step workflows, then claim + complete until empty.

function earshotRound(n: number, history = 0): Round {
  const file = freshDbFile('earshot');
  const db = openDatabase(file);
  try {
    const queue = new Queue(db, registry, systemClock, { leaseMs: 30_000 });
    const owner = `bench:${process.pid}`;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) queue.start(NOOP_KIND, `subject-${i}`, {});
    const t1 = performance.now();
    let done = 0;
    for (;;) {
      const job = queue.claim('cpu', owner, process.pid, 1);
      if (!job) break;
      const outcome = queue.complete(job.jobId, job.fence, null);
      if (outcome.kind !== 'committed') throw new Error(`job ${job.jobId}: ${outcome.kind}, not committed`);
      done++;
    }
    const t2 = performance.now();
    const completed = count(db, `SELECT count(*) AS n FROM workflows WHERE status = 'completed'`);
    if (done !== n || completed !== n) {
      throw new Error(`Earshot: ${done} claimed+completed and ${completed} workflows completed, of ${n}`);
    }
    const t3 = performance.now();
    for (let i = 0; i < history; i++) queue.start(NOOP_KIND, `later-${i}`, {});
    const historyEnqueueMs = history ? performance.now() - t3 : undefined;
    return { enqueueMs: t1 - t0, drainMs: t2 - t1, historyEnqueueMs };
  } finally {
    db.close();
    removeDbFiles(file);
  }
}

// ---------------------------------------------------------------------------------------------
// 1b. Earshot, one process, the way the engine commits: enqueue in batches (startMany), and each
// commit of finished jobs also claims the next ones (settle = group commit). `batch` jobs finish
// together (1 = a single worker; more = several workers finishing in the same tick).

async function earshotGroupRound(n: number, batch: number): Promise<Round> {
  const file = freshDbFile('earshot-group');
  const db = openDatabase(file);
  // As the Engine runs it: the WAL is copied into the database file by a background thread.
  const checkpointer = startCheckpointer(db);
  try {
    const queue = new Queue(db, registry, systemClock, { leaseMs: 30_000 });
    const owner = `bench:${process.pid}`;
    const t0 = performance.now();
    for (let i = 0; i < n; i += ENQUEUE_BATCH) {
      queue.startMany(
        Array.from({ length: Math.min(ENQUEUE_BATCH, n - i) }, (_, k) => ({
          kind: NOOP_KIND,
          subject: `subject-${i + k}`,
        })),
      );
    }
    const t1 = performance.now();
    const req = { lane: 'cpu' as const, owner, pid: process.pid, limit: batch };
    let held = queue
      .settle(
        [],
        Array.from({ length: batch }, () => req),
      )
      .claimed.filter((j) => j !== null);
    let done = 0;
    while (held.length > 0) {
      const { outcomes, claimed } = queue.settle(
        held.map((j) => ({ jobId: j.jobId, fence: j.fence, output: null })),
        Array.from({ length: batch }, () => req),
      );
      for (const o of outcomes)
        if (o instanceof Error || o.kind !== 'committed') throw new Error(`not committed: ${String(o)}`);
      done += held.length;
      held = claimed.filter((j) => j !== null);
    }
    const t2 = performance.now();
    const completed = count(db, `SELECT count(*) AS n FROM workflows WHERE status = 'completed'`);
    if (done !== n || completed !== n)
      throw new Error(`Earshot group commit: ${done} done, ${completed} completed, of ${n}`);
    return { enqueueMs: t1 - t0, drainMs: t2 - t1 };
  } finally {
    await checkpointer?.stop();
    db.close();
    removeDbFiles(file);
  }
}

/**
 * plainjob with its batch enqueue (addMany); it has no batch claim or completion. With
 * `checkpointer`, Earshot's background checkpointer runs on its database too, so the
 * comparison shows what the thread alone is worth.
 */
async function plainjobBatchRound(n: number, checkpointer = false): Promise<Round> {
  const file = freshDbFile('plainjob-batch');
  const { queue, db } = openPlainjobWithDb(file);
  const cp = checkpointer ? startCheckpointer(db) : null;
  try {
    const t0 = performance.now();
    for (let i = 0; i < n; i += ENQUEUE_BATCH) {
      queue.addMany(
        'noop',
        Array.from({ length: Math.min(ENQUEUE_BATCH, n - i) }, (_, k) => ({ subject: `subject-${i + k}` })),
      );
    }
    const t1 = performance.now();
    for (;;) {
      const claimed = queue.getAndMarkJobAsProcessing('noop');
      if (!claimed) break;
      queue.markJobAsDone(claimed.id);
    }
    const t2 = performance.now();
    return { enqueueMs: t1 - t0, drainMs: t2 - t1 };
  } finally {
    await cp?.stop();
    queue.close();
    removeDbFiles(file);
  }
}

// ---------------------------------------------------------------------------------------------
// 4. Baseline, plainjob, one process: the same workload through its queue API, each add, claim
// (getAndMarkJobAsProcessing + getJobById, what its worker does) and markJobAsDone one
// transaction, as on Earshot's side. Its database settings match openDatabase's.

const silent: Logger = { error: () => {}, warn: () => {}, info: () => {}, debug: () => {} };

function openPlainjobWithDb(file: string) {
  const db = new Database(file);
  db.pragma('foreign_keys = ON'); // as openDatabase does; plainjob sets WAL, NORMAL and busy_timeout
  return { db, queue: defineQueue({ connection: better(db), logger: silent }) };
}

function openPlainjob(file: string) {
  return openPlainjobWithDb(file).queue;
}

function plainjobRound(n: number, history = 0): Round {
  const file = freshDbFile('plainjob');
  const queue = openPlainjob(file);
  try {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) queue.add('noop', { subject: `subject-${i}` });
    const t1 = performance.now();
    let done = 0;
    for (;;) {
      const claimed = queue.getAndMarkJobAsProcessing('noop');
      if (!claimed) break;
      const job = queue.getJobById(claimed.id);
      if (!job) throw new Error(`plainjob lost job ${claimed.id}`);
      queue.markJobAsDone(job.id);
      done++;
    }
    const t2 = performance.now();
    const completed = queue.countJobs({ status: JobStatus.Done });
    if (done !== n || completed !== n) {
      throw new Error(`plainjob: ${done} claimed+completed and ${completed} done, of ${n}`);
    }
    const t3 = performance.now();
    for (let i = 0; i < history; i++) queue.add('noop', { subject: `later-${i}` });
    const historyEnqueueMs = history ? performance.now() - t3 : undefined;
    return { enqueueMs: t1 - t0, drainMs: t2 - t1, historyEnqueueMs };
  } finally {
    queue.close();
    removeDbFiles(file);
  }
}

/** plainjob's own worker loop (it also polls for cron jobs, one more transaction per job). */
async function plainjobWorkerDrainMs(n: number): Promise<number> {
  const file = freshDbFile('plainjob-worker');
  const queue = openPlainjob(file);
  try {
    queue.addMany(
      'noop',
      Array.from({ length: n }, (_, i) => ({ subject: `subject-${i}` })),
    );
    let done = 0;
    let finish!: () => void;
    const allDone = new Promise<void>((resolve) => (finish = resolve));
    const worker = defineWorker('noop', () => {}, {
      queue,
      logger: silent,
      onCompleted: () => {
        if (++done === n) finish();
      },
    });
    const t0 = performance.now();
    const running = worker.start();
    await allDone;
    const t1 = performance.now();
    await worker.stop();
    await running;
    return t1 - t0;
  } finally {
    queue.close();
    removeDbFiles(file);
  }
}

// ---------------------------------------------------------------------------------------------
// 2 and 3. Through the Engine: two worker processes on the cpu lane.

async function untilWorkersReady(engine: Engine, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!engine.workers().every((w) => w.state === 'idle')) {
    if (Date.now() > deadline) {
      throw new Error(`Engine workers not ready after ${timeoutMs} ms: ${JSON.stringify(engine.workers())}`);
    }
    await sleep(10);
  }
}

interface EngineFigures {
  workerStartMs: number;
  enqueueMs: number;
  runMs: number;
  latencyPolled: number[];
  latencyNudged: number[];
  pollMs: number;
  errors: string[];
}

async function engineBench(): Promise<EngineFigures> {
  const file = freshDbFile('engine');
  const dataDir = path.dirname(file);
  const db = openDatabase(file);
  // Another connection for enqueueing, as the API or CLI would have.
  const clientDb = openDatabase(file);
  const client = new Queue(clientDb, registry, systemClock);
  const engine = new Engine({ db, registry, registryModule, dataDir, lanes: { gpu: 0, cpu: 2, io: 0 } });
  const pollMs = 100; // Engine's default, which the CLI's engine uses
  const errors: string[] = [];
  engine.on('error', (err) => errors.push(err.message));
  let committed = 0;
  let notCommitted = 0;
  engine.on('finished', ({ outcome }) => {
    if (outcome.kind === 'committed') committed++;
    else notCommitted++;
  });
  let subject = 0;

  /** Enqueue `n` while the engine can not run (one synchronous loop), then time it to idle. */
  const batch = async (n: number) => {
    const before = committed;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) client.start(NOOP_KIND, `engine-${subject++}`, {});
    const t1 = performance.now();
    engine.tick();
    await engine.untilIdle();
    const t2 = performance.now();
    if (committed - before !== n) {
      throw new Error(
        `Engine committed ${committed - before} of ${n} (${notCommitted} not committed so far)`,
      );
    }
    return { enqueueMs: t1 - t0, runMs: t2 - t1 };
  };

  /** Enqueue one at a time at a modest rate; time queue.start to the engine's 'started'. */
  const latency = async (n: number, nudge: boolean) => {
    const enqueuedAt = new Map<string, number>();
    const samples: number[] = [];
    const onStarted = ({ workflowId }: { workflowId: string }) => {
      const t = enqueuedAt.get(workflowId);
      if (t === undefined) return;
      samples.push(performance.now() - t);
      enqueuedAt.delete(workflowId);
    };
    engine.on('started', onStarted);
    try {
      for (let i = 0; i < n; i++) {
        const t = performance.now();
        enqueuedAt.set(client.start(NOOP_KIND, `latency-${subject++}`, {}), t);
        if (nudge) engine.tick();
        const [lo, hi] = LATENCY_GAP_MS;
        await sleep(lo + Math.random() * (hi - lo));
      }
      await engine.untilIdle();
    } finally {
      engine.off('started', onStarted);
    }
    if (samples.length !== n) throw new Error(`Saw ${samples.length} starts of ${n} enqueued`);
    return samples;
  };

  const t0 = performance.now();
  engine.start();
  try {
    await untilWorkersReady(engine);
    const workerStartMs = performance.now() - t0;
    await batch(ENGINE_WARMUP_N);
    const run = await batch(ENGINE_N);
    const latencyPolled = await latency(LATENCY_N, false);
    const latencyNudged = await latency(LATENCY_N, true);
    return { workerStartMs, ...run, latencyPolled, latencyNudged, pollMs, errors };
  } finally {
    await engine.stop();
    db.close();
    clientDb.close();
    removeDbFiles(file);
  }
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const started = performance.now();
  console.log(
    `Queue benchmark: Node ${process.version}, ${process.platform}/${process.arch}, ` +
      `N=${N} x ${ROUNDS} rounds (median), engine N=${ENGINE_N}, latency samples=${LATENCY_N}`,
  );

  // Warm-up both (JIT, page cache, statement preparation paths), each on its own scratch file.
  earshotRound(WARMUP_N);
  plainjobRound(WARMUP_N);

  // Alternate the two so drift in the machine's state hits both alike.
  const earshotRounds: Round[] = [];
  const plainjobRounds: Round[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const history = r === ROUNDS - 1 ? HISTORY_N : 0;
    earshotRounds.push(earshotRound(N, history));
    plainjobRounds.push(plainjobRound(N, history));
  }
  const earshotHistory = rate(HISTORY_N, earshotRounds[ROUNDS - 1]!.historyEnqueueMs!);
  const plainHistory = rate(HISTORY_N, plainjobRounds[ROUNDS - 1]!.historyEnqueueMs!);
  const earshot = summarize(N, earshotRounds);
  const plain = summarize(N, plainjobRounds);
  const plainWorker = rate(N, await plainjobWorkerDrainMs(N));

  const line = (label: string, value: string) => console.log(`   ${label.padEnd(40)}${value}`);
  const p = (xs: number[], q: number) => percentile(xs, q);
  const lat = (xs: number[]) =>
    `p50 ${fmtMs(p(xs, 50))}   p99 ${fmtMs(p(xs, 99))}   max ${fmtMs(Math.max(...xs))}`;

  console.log(`\n1. Earshot queue, one process, ${N} one-step no-op workflows (median of ${ROUNDS}):`);
  line('enqueue (queue.start)', fmtRate(earshot.enqueue));
  line('claim + complete', fmtRate(earshot.drain));
  line('enqueue + claim + complete', fmtRate(earshot.total));
  line(`${HISTORY_N} more enqueues after ${N} completed`, fmtRate(earshotHistory));

  // Alternated, medians of ROUNDS, like section 1.
  const g1: Round[] = [];
  const gN: Round[] = [];
  const pb: Round[] = [];
  const pbc: Round[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    g1.push(await earshotGroupRound(N, 1));
    pb.push(await plainjobBatchRound(N));
    gN.push(await earshotGroupRound(N, GROUP));
    pbc.push(await plainjobBatchRound(N, true));
  }
  const group1 = summarize(N, g1);
  const groupN = summarize(N, gN);
  const plainBatch = summarize(N, pb);
  const plainBatchCp = summarize(N, pbc);
  console.log(
    `\n1b. Earshot, one process, as the engine commits (enqueue in batches of ${ENQUEUE_BATCH}, group commit,\n` +
      `    WAL checkpoints in a background thread as the Engine runs them; median of ${ROUNDS}):`,
  );
  line('enqueue (startMany)', fmtRate(group1.enqueue));
  line('complete + claim next, one worker', fmtRate(group1.drain));
  line('enqueue + run, one worker', fmtRate(group1.total));
  line(`complete + claim, ${GROUP} finishing together`, fmtRate(groupN.drain));
  line(`enqueue + run, ${GROUP} finishing together`, fmtRate(groupN.total));
  line('plainjob: addMany + claim + complete', fmtRate(plainBatch.total));
  line('plainjob, same + background checkpointer', fmtRate(plainBatchCp.total));
  console.log(
    `   Earshot / plainjob's best: one worker ${(group1.total / Math.max(plainBatch.total, plainBatchCp.total)).toFixed(2)}x, ` +
      `${GROUP} together ${(groupN.total / Math.max(plainBatch.total, plainBatchCp.total)).toFixed(2)}x`,
  );

  const eng = await engineBench();
  const engineRate = rate(ENGINE_N, eng.runMs);
  console.log(
    `\n2. Engine, cpu lane with 2 worker processes, ${ENGINE_N} no-op jobs (after ${ENGINE_WARMUP_N} warm-up):`,
  );
  line('workers ready after', fmtMs(eng.workerStartMs));
  line('enqueue (from another connection)', fmtRate(rate(ENGINE_N, eng.enqueueMs)));
  line('claim + run in worker + complete', fmtRate(engineRate));

  const perSec = Math.round(2000 / (LATENCY_GAP_MS[0] + LATENCY_GAP_MS[1]));
  console.log(
    `\n3. Enqueue-to-start latency through the Engine, ${LATENCY_N} jobs, one at a time at ~${perSec}/s:`,
  );
  line(`polled (pollMs ${eng.pollMs}, as the CLI runs it)`, lat(eng.latencyPolled));
  line('nudged (engine.tick() after enqueue)', lat(eng.latencyNudged));
  if (eng.errors.length) console.log(`   engine errors: ${eng.errors.join(' | ')}`);

  const ratio = earshot.total / plain.total;
  console.log(`\n4. Baseline: plainjob, same workload, one process, ${N} jobs (median of ${ROUNDS}):`);
  line('enqueue (add)', fmtRate(plain.enqueue));
  line('claim + complete', fmtRate(plain.drain));
  line('enqueue + claim + complete', fmtRate(plain.total));
  line(`${HISTORY_N} more enqueues after ${N} done`, fmtRate(plainHistory));
  line('its own worker loop (defineWorker)', fmtRate(plainWorker));
  console.log(
    `   Earshot / plainjob: ${ratio.toFixed(2)}x overall ` +
      `(enqueue ${(earshot.enqueue / plain.enqueue).toFixed(2)}x, ` +
      `claim+complete ${(earshot.drain / plain.drain).toFixed(2)}x, ` +
      `enqueue with history ${(earshotHistory / plainHistory).toFixed(2)}x)`,
  );
  console.log(`\nTotal time ${((performance.now() - started) / 1000).toFixed(1)} s`);

  console.log(
    JSON.stringify({
      bench: 'queue',
      n: N,
      rounds: ROUNDS,
      jobsPerSec: Math.round(earshot.total),
      enqueuePerSec: Math.round(earshot.enqueue),
      claimCompletePerSec: Math.round(earshot.drain),
      enqueueWithHistoryPerSec: Math.round(earshotHistory),
      engineN: ENGINE_N,
      engineJobsPerSec: Math.round(engineRate),
      latencyP50Ms: round1(p(eng.latencyPolled, 50)),
      latencyP99Ms: round1(p(eng.latencyPolled, 99)),
      latencyPollMs: eng.pollMs,
      nudgedLatencyP50Ms: round2(p(eng.latencyNudged, 50)),
      nudgedLatencyP99Ms: round2(p(eng.latencyNudged, 99)),
      baseline: 'plainjob',
      baselineJobsPerSec: Math.round(plain.total),
      baselineEnqueuePerSec: Math.round(plain.enqueue),
      baselineClaimCompletePerSec: Math.round(plain.drain),
      baselineEnqueueWithHistoryPerSec: Math.round(plainHistory),
      baselineWorkerLoopPerSec: Math.round(plainWorker),
      ratioVsBaseline: round2(ratio),
      engineErrors: eng.errors.length,
      batchedJobsPerSec: Math.round(group1.total),
      batchedGroupJobsPerSec: Math.round(groupN.total),
      groupSize: GROUP,
      baselineBatchedJobsPerSec: Math.round(plainBatch.total),
      baselineBatchedCheckpointerJobsPerSec: Math.round(plainBatchCp.total),
      batchedRatioVsBaseline: round2(group1.total / Math.max(plainBatch.total, plainBatchCp.total)),
      batchedGroupRatioVsBaseline: round2(groupN.total / Math.max(plainBatch.total, plainBatchCp.total)),
    }),
  );
}

process.once('SIGINT', () => {
  cleanup();
  process.exit(130);
});

try {
  await main();
} finally {
  cleanup();
}
