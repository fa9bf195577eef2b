/**
 * `npm run bench:shell`: how free the desktop app's main thread stays while the library works.
 * The main-process side of the app runs here in Node, with Electron faked by Node processes
 * (test/helpers/fake-electron.ts: real child processes, ports over sockets between them) and the
 * library service real. While a window (another process) asks, all at once, for a search that
 * must rebuild a BENCH_CHUNKS-chunk vector index (default 200,000), a refresh of a
 * BENCH_ITEMS-item feed (5,000), another search and the list of BENCH_EPISODES episodes
 * (10,000), this process measures its own event-loop delay (monitorEventLoopDelay, 1 ms
 * resolution: the figures include that 1 ms).
 *
 * The baseline, in the same run on a copy of the same library: today's design before the
 * service, the API and the engine in the main process, the same calls made in it.
 * Last line: JSON with mainLoopP99Ms (target < 20) and baselineMainLoopP99Ms.
 */
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { databasePath, openDatabase, writeTx } from '../pipeline/store/index.ts';
import { ModelManager } from '../models/manager.ts';
import { App, openApp } from '../pipeline/api/app.ts';
import { dispatch } from '../pipeline/api/dispatch.ts';
import { startEngineHost } from '../pipeline/api/engine-host.ts';
import type { ApiMethod } from '../pipeline/api/contract.ts';
import { startServiceHost, type PortTarget } from '../electron/main/service-host.ts';
import { FakeMessageChannelMain, fakeUtilityProcess, type FakePort } from '../test/helpers/fake-electron.ts';
import { makeGloveModel, readGlove, GLOVE_DIMS } from '../test/helpers/glove-model.ts';
import { scenario, type ScenarioSpec } from './shell-scenario.ts';

const N = Number(process.env.BENCH_CHUNKS ?? 200_000);
const EPISODES = Number(process.env.BENCH_EPISODES ?? 10_000);
const ITEMS = Number(process.env.BENCH_ITEMS ?? 5000);
const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.join(here, '..');
const peer = path.join(here, 'shell-peer.ts');
const workflowsModule = path.join(repo, 'pipeline/workflows.ts');
const ms = (ns: number) => +(ns / 1e6).toFixed(1);

// Deterministic pseudo-random numbers (mulberry32).
let seed = 7;
function rand(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

function spawnPeer(role: 'feed' | 'window'): ChildProcess {
  return fork(peer, [role], {
    execArgv: ['--disable-warning=ExperimentalWarning'],
    env: { ...process.env, BENCH_ITEMS: String(ITEMS) },
    serialization: 'advanced',
  });
}

function nextMessage<T>(child: ChildProcess): Promise<T> {
  return new Promise((resolve, reject) => {
    child.once('message', (m) => resolve(m as T));
    child.once('exit', (code) => reject(new Error(`a bench process exited with ${code}`)));
  });
}

/** The library both designs start from: episodes, chunks with their vectors, the embedding model. */
async function buildLibrary(dir: string, feedUrl: string): Promise<{ feedId: number; modelId: string }> {
  const db = openDatabase(databasePath(dir));
  const mm = new ModelManager({ dataDir: dir, db, env: {} });
  const modelId = (await mm.import(makeGloveModel())).model.id;
  mm.use(modelId);
  const words = readGlove(5000).words.filter((w) => /^[a-z]+$/.test(w));
  const perEpisode = Math.max(1, Math.ceil(N / EPISODES));
  const topics = Array.from({ length: 500 }, () => {
    const v = new Float32Array(GLOVE_DIMS);
    for (let d = 0; d < GLOVE_DIMS; d++) v[d] = rand() - 0.5;
    return v;
  });
  let feedId = 0;
  writeTx(db, 'bench library', () => {
    const library = Number(
      db
        .prepare(
          `INSERT INTO feeds (url, title, created_at) VALUES ('https://bench.example/library.xml', 'Library', 0)`,
        )
        .run().lastInsertRowid,
    );
    feedId = Number(
      db.prepare(`INSERT INTO feeds (url, title, created_at) VALUES (?, 'Long catalogue', 0)`).run(feedUrl)
        .lastInsertRowid,
    );
    const ep = db.prepare(
      `INSERT INTO episodes (id, feed_id, key, title, published_at, created_at) VALUES (?, ?, ?, ?, ?, 0)`,
    );
    for (let e = 1; e <= EPISODES; e++)
      ep.run(e, library, `bench-${e}`, `Episode ${e}`, Date.UTC(2015, 0, 1) + e * 3_600_000);
    const chunk = db.prepare(
      `INSERT INTO chunks (episode_id, seq, kind, text, start_ms, end_ms, fingerprint) VALUES (?, ?, 'transcript', ?, ?, ?, '')`,
    );
    const emb = db.prepare(`INSERT INTO chunk_embeddings (chunk_id, model_id, vector) VALUES (?, ?, ?)`);
    for (let i = 0; i < N; i++) {
      const e = Math.floor(i / perEpisode) + 1;
      const seq = i % perEpisode;
      const text = Array.from({ length: 60 }, () => words[Math.floor(rand() * words.length)]!).join(' ');
      const id = Number(chunk.run(e, seq, text, seq * 60_000, seq * 60_000 + 70_000).lastInsertRowid);
      const topic = topics[Math.floor(rand() * topics.length)]!;
      const v = new Float32Array(GLOVE_DIMS);
      let norm = 0;
      for (let d = 0; d < GLOVE_DIMS; d++) norm += (v[d] = topic[d]! + 0.1 * (rand() - 0.5)) ** 2;
      for (let d = 0; d < GLOVE_DIMS; d++) v[d]! /= Math.sqrt(norm);
      emb.run(id, modelId, Buffer.from(v.buffer));
    }
  });
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return { feedId, modelId };
}

interface Measured {
  p50: number;
  p99: number;
  max: number;
  timings: Record<string, number>;
}

async function measure(run: () => Promise<Record<string, number>>): Promise<Measured> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const timings = await run();
  h.disable();
  return { p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max), timings };
}

/** Today's design before the service: the API and the engine in the main process. */
async function inMain(dir: string, spec: ScenarioSpec): Promise<Measured> {
  const ctx = await openApp(dir, { registryModule: workflowsModule, lanes: { gpu: 0, cpu: 0, io: 0 } });
  const app = new App(ctx);
  const host = startEngineHost(ctx, { events: app.events });
  try {
    return await measure(() => scenario((m, a) => dispatch(app, m as ApiMethod, a), spec));
  } finally {
    await host.shutdown(1000);
  }
}

/** The app now: main brokers, the library service (a utility process) answers a window (another). */
async function withService(dir: string, spec: ScenarioSpec): Promise<Measured> {
  let ready!: () => void;
  const up = new Promise<void>((r) => (ready = r));
  const host = startServiceHost({
    utilityProcess: fakeUtilityProcess(),
    MessageChannelMain: FakeMessageChannelMain,
    serviceEntry: path.join(repo, 'electron/service/index.ts'),
    workerEntry: path.join(repo, 'electron/main/worker.ts'),
    boot: () => ({
      dataDir: dir,
      registryModule: workflowsModule,
      holds: [],
      lanes: { gpu: 0, cpu: 0, io: 0 },
    }),
    onReady: () => ready(),
  });
  const window = spawnPeer('window');
  try {
    const target: PortTarget = {
      postMessage: (_channel, _message, [port]) => window.send({ port: (port as FakePort).transfer() }),
      isDestroyed: () => false,
    };
    host.connect(target);
    await up;
    return await measure(async () => {
      const reply = nextMessage<{ timings?: Record<string, number>; error?: string }>(window);
      window.send({ run: spec });
      const r = await reply;
      if (!r.timings) throw new Error(`the window's scenario failed: ${r.error}`);
      return r.timings;
    });
  } finally {
    window.kill();
    await host.stop(1000);
  }
}

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'earshot-bench-shell-'));
const feed = spawnPeer('feed');
try {
  const { url, bytes } = await nextMessage<{ url: string; bytes: number }>(feed);
  const base = path.join(root, 'base');
  fs.mkdirSync(base);
  let t = performance.now();
  const { feedId } = await buildLibrary(base, url);
  console.log(
    `library: ${EPISODES} episodes, ${N} chunks with ${GLOVE_DIMS}-d vectors, built in ${((performance.now() - t) / 1000).toFixed(1)} s; feed: ${ITEMS} items (${(bytes / 1048576).toFixed(1)} MiB)`,
  );
  const spec: ScenarioSpec = {
    feedId,
    episodes: EPISODES,
    queries: ['markets fell as investors sold shares', 'the garden needs water and compost'],
  };
  const copy = (name: string) => {
    const dir = path.join(root, name);
    fs.cpSync(base, dir, { recursive: true });
    return dir;
  };
  const dirA = copy('in-main');
  const dirB = copy('service');
  fs.rmSync(base, { recursive: true, force: true });

  t = performance.now();
  const before = await inMain(dirA, spec);
  console.log(
    `before (API in main): main loop delay p50 ${before.p50} ms, p99 ${before.p99} ms, max ${before.max} ms; calls ${JSON.stringify(before.timings)} (${((performance.now() - t) / 1000).toFixed(0)} s)`,
  );
  t = performance.now();
  const after = await withService(dirB, spec);
  console.log(
    `now (library service in its own process): main loop delay p50 ${after.p50} ms, p99 ${after.p99} ms, max ${after.max} ms; calls ${JSON.stringify(after.timings)} (${((performance.now() - t) / 1000).toFixed(0)} s)`,
  );
  const ratio = +(before.p99 / Math.max(after.p99, 0.001)).toFixed(1);
  console.log(`main loop p99: ${after.p99} ms vs ${before.p99} ms before (${ratio}× lower); target < 20 ms`);
  console.log(
    JSON.stringify({
      bench: 'shell',
      chunks: N,
      episodes: EPISODES,
      feedItems: ITEMS,
      cores: os.availableParallelism(),
      mainLoopP99Ms: after.p99,
      mainLoopP50Ms: after.p50,
      mainLoopMaxMs: after.max,
      baselineMainLoopP99Ms: before.p99,
      baselineMainLoopP50Ms: before.p50,
      baselineMainLoopMaxMs: before.max,
      p99Ratio: ratio,
      calls: after.timings,
      baselineCalls: before.timings,
    }),
  );
} finally {
  feed.kill();
  fs.rmSync(root, { recursive: true, force: true });
}
