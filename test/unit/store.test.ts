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
