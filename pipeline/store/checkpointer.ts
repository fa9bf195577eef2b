import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type * as WorkerThreads from 'node:worker_threads';
import type BetterSqlite3 from 'better-sqlite3';
import type { Db } from './db.ts';

/**
 * A background WAL checkpointer: a worker thread with its own connection copies committed WAL
 * frames into the database file (PASSIVE: it never blocks the writer) every `intervalMs`.
 *
 * Without it, the commit that crosses wal_autocheckpoint copies the pages and fsyncs in the
 * writer's own thread, a stall every few thousand commits that costs the queue about a fifth of
 * its throughput. With it, the writer's own autocheckpoint is raised to `safetyPages` and only
 * finishes what the thread already copied (so the WAL can start over from its beginning); if
 * the thread stops or fails, the writer's setting goes back to what it was.
 */
export interface Checkpointer {
  stop(): Promise<void>;
}

export interface CheckpointerOptions {
  intervalMs?: number;
  /** The writer's own autocheckpoint while the thread runs (pages). Default 20000 (~80 MB). */
  safetyPages?: number;
  onError?: (err: Error) => void;
}

type ThreadMessage = { type: 'ready' } | { type: 'error'; message: string };

/** The thread's program, stringified into an eval'd worker (the same from sources and bundles). */
function threadMain(): void {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { parentPort, workerData } = require('node:worker_threads') as typeof WorkerThreads;
  const data = workerData as { bindingPath: string; file: string; intervalMs: number };
  const Database = require(data.bindingPath) as typeof BetterSqlite3;
  /* eslint-enable @typescript-eslint/no-require-imports */
  const port = parentPort!;
  let db: BetterSqlite3.Database;
  try {
    db = new Database(data.file, { fileMustExist: true });
    db.pragma('busy_timeout = 1000');
  } catch (err) {
    port.postMessage({ type: 'error', message: (err as Error).message });
    return;
  }
  const timer = setInterval(() => {
    try {
      db.pragma('wal_checkpoint(PASSIVE)');
    } catch (err) {
      // SQLITE_BUSY (another checkpoint running) is harmless; anything else is reported once.
      if ((err as { code?: string }).code !== 'SQLITE_BUSY') {
        clearInterval(timer);
        db.close();
        port.postMessage({ type: 'error', message: (err as Error).message });
        port.close();
      }
    }
  }, data.intervalMs);
  port.on('message', () => {
    clearInterval(timer);
    db.close();
    port.close();
  });
  port.postMessage({ type: 'ready' });
}

const localRequire = createRequire(import.meta.url);

export function startCheckpointer(db: Db, options: CheckpointerOptions = {}): Checkpointer | null {
  if (db.memory || db.readonly) return null;
  const previous = db.pragma('wal_autocheckpoint', { simple: true }) as number;
  const worker = new Worker(`(${threadMain.toString()})()`, {
    eval: true,
    workerData: {
      bindingPath: localRequire.resolve('better-sqlite3'),
      file: db.name,
      intervalMs: options.intervalMs ?? 100,
    },
  });
  worker.unref();
  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    if (db.open) db.pragma(`wal_autocheckpoint = ${previous}`);
  };
  db.pragma(`wal_autocheckpoint = ${options.safetyPages ?? 20_000}`);
  worker.on('message', (m: ThreadMessage) => {
    if (m.type === 'error') {
      restore();
      options.onError?.(new Error(`The background checkpointer stopped: ${m.message}`));
    }
  });
  worker.on('error', (err) => {
    restore();
    options.onError?.(err);
  });
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  void exited.then(restore);
  return {
    async stop() {
      restore();
      worker.ref(); // an unref'd thread's exit would not keep the caller's await alive
      worker.postMessage('stop');
      await exited;
    },
  };
}
