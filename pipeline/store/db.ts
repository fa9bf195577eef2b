import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { migrations as allMigrations, type Migration } from './migrations.ts';
import { explainStoreError, StoreError } from './errors.ts';

export type Db = Database.Database;

export interface OpenOptions {
  /** Milliseconds a write waits for another process's lock before failing. Default 5000. */
  busyTimeoutMs?: number;
  /** Open without writing (no migrations). Default false. */
  readonly?: boolean;
  /** Migrations to apply; tests pass a prefix to build an older database. Default: all. */
  migrations?: readonly Migration[];
}

/**
 * Open (creating if needed) the library database: WAL journal so readers never block the
 * writer, foreign keys enforced, numbered migrations applied in one transaction each.
 */
export function openDatabase(file: string, options: OpenOptions = {}): Db {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
  let db: Db;
  try {
    db = new Database(file, {
      readonly: options.readonly ?? false,
      fileMustExist: options.readonly ?? false,
    });
  } catch (err) {
    throw explainStoreError(err, `opening ${file}`);
  }
  try {
    db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
    if (!options.readonly) {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      // The queue commits thousands of small transactions: checkpoint (and fsync) every ~16 MB
      // of WAL rather than every 4 MB, and keep the hot pages in memory (64 MB).
      db.pragma('wal_autocheckpoint = 4000');
      db.pragma('cache_size = -65536');
    }
    db.pragma('foreign_keys = ON');
    if (!options.readonly) migrate(db, options.migrations ?? allMigrations);
  } catch (err) {
    db.close();
    throw explainStoreError(err, `opening ${file}`);
  }
  return db;
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

export function migrate(db: Db, migrations: readonly Migration[]): number {
  const current = schemaVersion(db);
  const newest = migrations[migrations.length - 1]?.version ?? 0;
  if (current > newest) {
    throw new StoreError(
      'EARSHOT_SCHEMA_NEWER',
      `This library was written by a newer Earshot (schema ${current}; this one knows ${newest}). ` +
        'Update Earshot to open it; nothing was changed.',
    );
  }
  for (const m of migrations) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
  }
  return schemaVersion(db);
}

/**
 * Run `fn` in a write transaction that takes the write lock up front (BEGIN IMMEDIATE), so a
 * read-then-write never races another process. SQLite errors come back explained.
 */
const runners = new WeakMap<Db, Database.Transaction<(fn: () => unknown) => unknown>>();

export function writeTx<T>(db: Db, doing: string, fn: () => T): T {
  let run = runners.get(db);
  if (!run) {
    run = db.transaction((f: () => unknown) => f());
    runners.set(db, run);
  }
  try {
    return run.immediate(fn) as T;
  } catch (err) {
    throw explainStoreError(err, doing);
  }
}
