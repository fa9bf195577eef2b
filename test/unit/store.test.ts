import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import {
  openDatabase,
  databasePath,
  defaultDataDir,
  resolveDataDir,
  migrations,
  LATEST_SCHEMA_VERSION,
  schemaVersion,
  writeTx,
  StoreError,
} from '../../pipeline/store/index.ts';
import { tempDir } from '../helpers/env.ts';
import { Queue } from '../../pipeline/engine/queue.ts';
import { Registry } from '../../pipeline/engine/workflow.ts';
import { ManualClock } from '../../pipeline/engine/clock.ts';
import { startCheckpointer } from '../../pipeline/store/checkpointer.ts';

function tables(db: Database.Database): string[] {
  return (
    db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).all() as {
      name: string;
    }[]
  ).map((r) => r.name);
}

describe('store', () => {
  it('migrates an empty database to the latest schema, in WAL mode with foreign keys on', () => {
    const db = openDatabase(databasePath(tempDir()));
    expect(schemaVersion(db)).toBe(LATEST_SCHEMA_VERSION);
    expect(LATEST_SCHEMA_VERSION).toBe(migrations.length);
    expect(tables(db)).toEqual(
      expect.arrayContaining([
        'feeds',
        'episodes',
        'artifacts',
        'workflows',
        'steps',
        'jobs',
        'settings',
        'lanes',
        'engines',
        'workers',
      ]),
    );
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(() =>
      db.prepare('INSERT INTO episodes (feed_id, key, created_at) VALUES (999, ?, 0)').run('k'),
    ).toThrow(/FOREIGN KEY/);
    db.close();
  });

  it('migrates an older database and keeps its rows', () => {
    const file = databasePath(tempDir());
    const old = openDatabase(file, { migrations: migrations.slice(0, 1) });
    expect(schemaVersion(old)).toBe(1);
    old
      .prepare(
        `INSERT INTO feeds (url, title, created_at) VALUES ('https://example.org/feed', 'Old show', 1)`,
      )
      .run();
    old
      .prepare(
        `INSERT INTO workflows (id, kind, subject, fingerprint, status, created_at, updated_at) VALUES ('w1', 'k', 's', 'f', 'queued', 1, 1)`,
      )
      .run();
    old
      .prepare(
        `INSERT INTO jobs (workflow_id, step, lane, state, run_at, created_at) VALUES ('w1', 'a', 'io', 'queued', 1, 1)`,
      )
      .run();
    expect(tables(old)).not.toContain('engines');
    old.close();

    const db = openDatabase(file);
    expect(schemaVersion(db)).toBe(LATEST_SCHEMA_VERSION);
    expect(tables(db)).toContain('engines');
    expect(db.prepare('SELECT title FROM feeds').get()).toEqual({ title: 'Old show' });
    expect(db.prepare('SELECT step, crash_reason FROM jobs').get()).toEqual({
      step: 'a',
      crash_reason: null,
    });
    db.close();
  });

  it('moves queue rows from schema 5 onto sequential workflow keys (7, 8) and the queue carries on with them', () => {
    const file = databasePath(tempDir());
    const old = openDatabase(file, { migrations: migrations.slice(0, 5) });
    expect(schemaVersion(old)).toBe(5);
    old.exec(`
      INSERT INTO workflows (id, kind, subject, fingerprint, input, status, priority, created_at, updated_at)
        VALUES ('wb', 'k', 'later', 'f', '{}', 'cancelled', 0, 20, 21),
               ('wa', 'k', 'first', 'f', '{"n":1}', 'queued', 10, 10, 11);
      INSERT INTO steps (workflow_id, name, position, lane, fingerprint, status, output, attempts, finished_at)
        VALUES ('wa', 'one', 0, 'io', 'f1', 'completed', '"x"', 1, 12),
               ('wa', 'two', 1, 'cpu', 'f2', 'pending', NULL, 0, NULL),
               ('wb', 'one', 0, 'io', 'f1', 'cancelled', NULL, 0, NULL);
      INSERT INTO jobs (id, workflow_id, step, lane, priority, state, run_at, fence, attempts, created_at, finished_at)
        VALUES (3, 'wa', 'one', 'io', 10, 'done', 10, 1, 1, 10, 12),
               (7, 'wa', 'two', 'cpu', 10, 'queued', 12, 0, 0, 12, NULL),
               (9, 'wb', 'one', 'io', 0, 'cancelled', 20, 0, 0, 20, 21);
    `);
    old.close();

    const db = openDatabase(file);
    expect(schemaVersion(db)).toBe(LATEST_SCHEMA_VERSION);
    expect(
      db.prepare('SELECT seq, id, subject, status, priority, input FROM workflows ORDER BY seq').all(),
    ).toEqual([
      { seq: 1, id: 'wa', subject: 'first', status: 'queued', priority: 10, input: '{"n":1}' },
      { seq: 2, id: 'wb', subject: 'later', status: 'cancelled', priority: 0, input: '{}' },
    ]);
    expect(
      db
        .prepare(
          'SELECT wf_seq, workflow_id, name, status, output, attempts FROM steps ORDER BY wf_seq, position',
        )
        .all(),
    ).toEqual([
      { wf_seq: 1, workflow_id: 'wa', name: 'one', status: 'completed', output: '"x"', attempts: 1 },
      { wf_seq: 1, workflow_id: 'wa', name: 'two', status: 'pending', output: null, attempts: 0 },
      { wf_seq: 2, workflow_id: 'wb', name: 'one', status: 'cancelled', output: null, attempts: 0 },
    ]);
    expect(
      db.prepare('SELECT id, wf_seq, workflow_id, step, state, fence FROM jobs ORDER BY id').all(),
    ).toEqual([
      { id: 3, wf_seq: 1, workflow_id: 'wa', step: 'one', state: 'done', fence: 1 },
      { id: 7, wf_seq: 1, workflow_id: 'wa', step: 'two', state: 'queued', fence: 0 },
      { id: 9, wf_seq: 2, workflow_id: 'wb', step: 'one', state: 'cancelled', fence: 0 },
    ]);
    expect(
      (
        db
          .prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%'`)
          .all() as {
          name: string;
        }[]
      ).map((r) => r.name),
    ).toEqual(expect.arrayContaining(['workflows_subject', 'jobs_active', 'jobs_cancelling']));
    expect(tables(db).filter((t) => t.endsWith('_v5'))).toEqual([]);
    expect(db.pragma('foreign_key_check')).toEqual([]);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');

    // The queue picks up the migrated work where it stood.
    const registry = new Registry([
      {
        kind: 'k',
        steps: [
          { name: 'one', lane: 'io', version: '1', run: async () => null },
          { name: 'two', lane: 'cpu', version: '1', run: async () => null },
        ],
      },
    ]);
    const q = new Queue(db, registry, new ManualClock(100));
    const job = q.claim('cpu', 'boot:cpu-0', process.pid, 1)!;
    expect(job).toMatchObject({
      jobId: 7,
      workflowId: 'wa',
      step: 'two',
      input: { n: 1 },
      outputs: { one: 'x' },
    });
    expect(q.complete(job.jobId, job.fence, 'y')).toEqual({ kind: 'committed', workflowDone: true });
    expect(db.prepare(`SELECT status FROM workflows WHERE id = 'wa'`).get()).toEqual({ status: 'completed' });
    q.retry('wb');
    expect(q.claim('io', 'boot:io-0', process.pid, 1)).toMatchObject({
      jobId: 9,
      workflowId: 'wb',
      step: 'one',
    });
    db.close();
  });

  it('refuses a database written by a newer Earshot without touching it', () => {
    const file = databasePath(tempDir());
    openDatabase(file).close();
    const raw = new Database(file);
    raw.pragma(`user_version = ${LATEST_SCHEMA_VERSION + 5}`);
    raw.close();
    expect(() => openDatabase(file)).toThrow(/newer Earshot/);
    const again = new Database(file);
    expect(again.pragma('user_version', { simple: true })).toBe(LATEST_SCHEMA_VERSION + 5);
    again.close();
  });

  it('a full disk rolls the write back, keeps what was stored and says what to do', () => {
    const db = openDatabase(databasePath(tempDir()));
    db.prepare(`INSERT INTO settings (key, value, updated_at) VALUES ('kept', 'yes', 1)`).run();
    const pages = db.pragma('page_count', { simple: true }) as number;
    db.pragma(`max_page_count = ${pages + 2}`);
    const big = 'x'.repeat(4000);
    let err: unknown;
    try {
      writeTx(db, 'saving settings', () => {
        const ins = db.prepare(`INSERT INTO settings (key, value, updated_at) VALUES (?, ?, 1)`);
        for (let i = 0; i < 200; i++) ins.run(`k${i}`, big);
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).code).toBe('SQLITE_FULL');
    expect((err as Error).message).toMatch(/disk is full.*saving settings.*Nothing already saved was lost/);
    expect(db.prepare('SELECT count(*) AS n FROM settings').get()).toEqual({ n: 1 });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
  });

  it('a write that meets another process holding the lock fails clearly and changes nothing', () => {
    const file = databasePath(tempDir());
    const db = openDatabase(file, { busyTimeoutMs: 50 });
    const other = new Database(file);
    other.exec('BEGIN IMMEDIATE');
    other.prepare(`INSERT INTO settings (key, value, updated_at) VALUES ('theirs', '1', 1)`).run();
    let err: unknown;
    try {
      writeTx(db, 'pausing a lane', () =>
        db.prepare(`INSERT INTO settings (key, value, updated_at) VALUES ('mine', '1', 1)`).run(),
      );
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).code).toMatch(/^SQLITE_BUSY/);
    expect((err as Error).message).toMatch(/busy.*pausing a lane.*Nothing was changed/);
    other.exec('ROLLBACK');
    other.close();
    expect(db.prepare('SELECT count(*) AS n FROM settings').get()).toEqual({ n: 0 });
    writeTx(db, 'retrying', () =>
      db.prepare(`INSERT INTO settings (key, value, updated_at) VALUES ('mine', '1', 1)`).run(),
    );
    expect(db.prepare('SELECT key FROM settings').all()).toEqual([{ key: 'mine' }]);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
  });

  it('a file that is not a database is reported, not overwritten', () => {
    const dir = tempDir();
    const file = path.join(dir, 'earshot.db');
    fs.writeFileSync(file, 'this is not sqlite '.repeat(100));
    expect(() => openDatabase(file)).toThrow(/damaged or is not an Earshot database/);
    expect(fs.readFileSync(file, 'utf8')).toMatch(/^this is not sqlite/);
  });

  it('picks the data directory from --data-dir, then EARSHOT_DATA_DIR, then the platform folder', () => {
    expect(defaultDataDir('darwin', {}, '/Users/a')).toBe('/Users/a/Library/Application Support/Earshot');
    expect(defaultDataDir('win32', { APPDATA: 'C:\\Users\\a\\AppData\\Roaming' }, 'C:\\Users\\a')).toBe(
      path.join('C:\\Users\\a\\AppData\\Roaming', 'Earshot'),
    );
    expect(defaultDataDir('linux', {}, '/home/a')).toBe('/home/a/.config/Earshot');
    expect(defaultDataDir('linux', { XDG_CONFIG_HOME: '/x' }, '/home/a')).toBe('/x/Earshot');
    expect(resolveDataDir('/explicit', { EARSHOT_DATA_DIR: '/env' })).toBe('/explicit');
    expect(resolveDataDir(undefined, { EARSHOT_DATA_DIR: '/env' })).toBe('/env');
  });
});

describe('background checkpointer', () => {
  /** Poll a condition (the thread runs on its own schedule); fail after `ms`. */
  async function until(cond: () => boolean, ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error('condition not met in time');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  it('copies the WAL into the database file off the writer, and hands checkpoints back when stopped', async () => {
    const file = databasePath(tempDir());
    const db = openDatabase(file);
    const before = db.pragma('wal_autocheckpoint', { simple: true });
    const cp = startCheckpointer(db, { intervalMs: 20 })!;
    expect(cp).not.toBeNull();
    // The writer's own checkpoint only backs the thread up now, far above this test's WAL.
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(20_000);
    const size = fs.statSync(file).size;
    db.exec('CREATE TABLE t (x TEXT)');
    const ins = db.prepare('INSERT INTO t VALUES (?)');
    db.transaction(() => {
      for (let i = 0; i < 2000; i++) ins.run('x'.repeat(200));
    })();
    // ~100 pages sit in the WAL; the thread copies them into the database file.
    await until(() => fs.statSync(file).size > size + 100 * 4096);
    const copy = new Database(file, { readonly: true });
    expect(copy.prepare('SELECT count(*) FROM t').pluck().get()).toBe(2000);
    copy.close();
    await cp.stop();
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(before);
    db.close();
  });

  it('gives the writer its checkpoints back when the thread fails', async () => {
    const dir = tempDir();
    const db = openDatabase(databasePath(dir));
    const before = db.pragma('wal_autocheckpoint', { simple: true });
    const errors: Error[] = [];
    // The thread opens the file by name: gone, it cannot start.
    fs.rmSync(databasePath(dir));
    const cp = startCheckpointer(db, { intervalMs: 20, onError: (e) => errors.push(e) })!;
    await until(() => errors.length > 0);
    expect(errors[0]!.message).toMatch(/background checkpointer stopped/);
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(before);
    await cp.stop();
    db.close();
  });

  it('is not started for an in-memory database', () => {
    const db = openDatabase(':memory:');
    expect(startCheckpointer(db)).toBeNull();
    db.close();
  });
});
