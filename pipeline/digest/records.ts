import path from 'node:path';
import { writeTx, type Db } from '../store/db.ts';
import type { DigestView } from '../api/contract.ts';

/**
 * The `digests` rows and the schedule's settings (the `settings` table: digest.every,
 * digest.budget, digest.anchor). Kept light: the digest workflow's commit and the schedule run
 * in the engine process, which loads this through pipeline/workflows.ts.
 */
export const DEFAULT_WINDOW_MS = 7 * 86_400_000;
export const DEFAULT_BUDGET_MS = 30 * 60_000;

export function digestFile(dataDir: string, from: number, to: number): string {
  return path.join(dataDir, 'digests', `${from}-${to}.json`);
}

/** What the `digests` row says of a digest. */
export interface DigestRecord {
  from: number;
  to: number;
  schemaVersion: number;
  stories: number;
  /** Episodes in its stories. */
  episodes: number;
}

export function digestRecord(digest: DigestView): DigestRecord {
  return {
    from: digest.window.from,
    to: digest.window.to,
    schemaVersion: digest.schemaVersion,
    stories: digest.stories.length,
    episodes: new Set(digest.stories.flatMap((s) => s.episodes.map((e) => e.episodeId))).size,
  };
}

/** Record a digest whose file is written (inside the caller's transaction). Idempotent per window. */
export function recordDigest(
  db: Db,
  row: { file: string; digest: DigestRecord; scheduled: boolean; workflowId: string | null; now: number },
): number {
  const { digest } = row;
  return Number(
    (
      db
        .prepare(
          `INSERT INTO digests (from_ms, to_ms, path, schema_version, scheduled, stories, episodes, workflow_id, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (from_ms, to_ms) DO UPDATE SET path = excluded.path, schema_version = excluded.schema_version,
             scheduled = max(scheduled, excluded.scheduled), stories = excluded.stories, episodes = excluded.episodes,
             workflow_id = excluded.workflow_id, created_at = excluded.created_at
           RETURNING id`,
        )
        .get(
          digest.from,
          digest.to,
          row.file,
          digest.schemaVersion,
          row.scheduled ? 1 : 0,
          digest.stories,
          digest.episodes,
          row.workflowId,
          row.now,
        ) as { id: number }
    ).id,
  );
}

function setting(db: Db, key: string): string | null {
  const row = db.prepare('SELECT value FROM settings WHERE key = ?').get(key) as
    { value: string } | undefined;
  return row?.value ?? null;
}

export interface DigestSettings {
  everyMs: number | null;
  budgetMs: number;
}

export function digestSettings(db: Db): DigestSettings {
  const every = setting(db, 'digest.every');
  const budget = Number(setting(db, 'digest.budget'));
  return {
    everyMs: every === 'off' ? null : Number(every) > 0 ? Number(every) : DEFAULT_WINDOW_MS,
    budgetMs: budget > 0 ? budget : DEFAULT_BUDGET_MS,
  };
}

export function saveDigestSettings(db: Db, settings: Partial<DigestSettings>, now: number): void {
  const put = db.prepare(
    `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
     ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
  );
  writeTx(db, 'saving the digest settings', () => {
    if (settings.everyMs !== undefined)
      put.run('digest.every', settings.everyMs === null ? 'off' : String(settings.everyMs), now);
    if (settings.budgetMs !== undefined) put.run('digest.budget', String(settings.budgetMs), now);
  });
}

/**
 * Where the first scheduled digest's window ends, fixed once a window with understood episodes
 * is due (so its wait for processing is counted from there); null before then.
 */
export function firstDigestAnchor(db: Db): number | null {
  const v = Number(setting(db, 'digest.anchor'));
  return v > 0 ? v : null;
}

export function setFirstDigestAnchor(db: Db, to: number | null, now: number): void {
  writeTx(db, 'saving when the first digest is due', () => {
    if (to === null) db.prepare(`DELETE FROM settings WHERE key = 'digest.anchor'`).run();
    else
      db.prepare(
        `INSERT INTO settings (key, value, updated_at) VALUES ('digest.anchor', ?, ?)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
      ).run(String(to), now);
  });
}

/** The end of the last scheduled digest's window, or null. */
export function lastScheduledTo(db: Db): number | null {
  const row = db.prepare('SELECT max(to_ms) AS t FROM digests WHERE scheduled = 1').get() as {
    t: number | null;
  };
  return row.t;
}
