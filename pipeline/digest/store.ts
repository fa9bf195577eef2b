import fs from 'node:fs';
import path from 'node:path';
import { writeTx, type Db } from '../store/db.ts';
import type { DigestSettingsView, DigestSummaryView, DigestView } from '../api/contract.ts';
import { digestSchema } from './schema.ts';
import { DEFAULT_BUDGET_MS, DEFAULT_WINDOW_MS } from './window.ts';

/**
 * Stored digests (digests/<from>-<to>.json beside the library, a row in `digests` each) and the
 * schedule's settings (the `settings` table: digest.every, digest.budget).
 */
export class DigestNotFound extends Error {}

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

interface DigestRow {
  id: number;
  from_ms: number;
  to_ms: number;
  path: string;
  scheduled: number;
  stories: number;
  episodes: number;
  created_at: number;
}

export function listDigests(db: Db, limit = 52): DigestSummaryView[] {
  return (
    db.prepare(`SELECT * FROM digests ORDER BY to_ms DESC, id DESC LIMIT ?`).all(limit) as DigestRow[]
  ).map((r) => ({
    id: r.id,
    window: { from: r.from_ms, to: r.to_ms },
    generatedAt: r.created_at,
    stories: r.stories,
    episodes: r.episodes,
    scheduled: r.scheduled === 1,
  }));
}

/** A stored digest, checked against the schema; its id is the row's. */
export function readDigest(db: Db, id: number): DigestView {
  const row = db.prepare('SELECT * FROM digests WHERE id = ?').get(id) as DigestRow | undefined;
  if (!row) throw new DigestNotFound(`There is no digest ${id}; \`earshot digests\` lists them.`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(row.path, 'utf8'));
  } catch (err) {
    throw new DigestNotFound(
      `Digest ${id}'s file (${row.path}) cannot be read: ${(err as Error).message}. \`earshot digest --from … --to …\` makes one for the same window.`,
    );
  }
  const checked = digestSchema.safeParse(parsed);
  if (!checked.success)
    throw new DigestNotFound(
      `Digest ${id}'s file (${row.path}) is not a digest Earshot can read (${checked.error.issues[0]?.message ?? 'invalid'}).`,
    );
  return { ...checked.data, id: row.id };
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

export function settingsView(db: Db, now: number): DigestSettingsView {
  const s = digestSettings(db);
  const lastTo = lastScheduledTo(db);
  return {
    everyMs: s.everyMs,
    budgetMs: s.budgetMs,
    lastTo,
    nextAt: s.everyMs === null ? null : lastTo === null ? (firstDigestAnchor(db) ?? now) : lastTo + s.everyMs,
  };
}
