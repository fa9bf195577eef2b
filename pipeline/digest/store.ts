import fs from 'node:fs';
import type { Db } from '../store/db.ts';
import type { DigestSettingsView, DigestSummaryView, DigestView } from '../api/contract.ts';
import { digestSchema } from './schema.ts';
import { digestSettings, firstDigestAnchor, lastScheduledTo } from './records.ts';

export {
  digestFile,
  digestRecord,
  digestSettings,
  recordDigest,
  saveDigestSettings,
  type DigestRecord,
} from './records.ts';

/**
 * Stored digests (digests/<from>-<to>.json beside the library, a row in `digests` each) and the
 * schedule's settings (the `settings` table: digest.every, digest.budget).
 */
export class DigestNotFound extends Error {}

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
