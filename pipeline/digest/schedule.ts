import type { Db } from '../store/db.ts';
import type { Queue } from '../engine/queue.ts';
import { digestSettings, firstDigestAnchor, lastScheduledTo, setFirstDigestAnchor } from './records.ts';

/**
 * When the next scheduled digest is due, beside the background feed refresh: every `everyMs`
 * (default a week; `earshot digest-schedule`), over the window that just ended. A digest waits
 * while episodes of its window are still being processed (at most MAX_WAIT_MS past the window's
 * end), and none is made for a window with no understood episode.
 */
export const DIGEST_KIND = 'digest';
export const MAX_WAIT_MS = 6 * 3_600_000;
const HOUR = 3_600_000;

export interface DigestInput {
  from: number;
  to: number;
  budgetMs: number;
  scheduled: boolean;
}

/** The window the schedule owes now, or null (off, or not yet due). */
export function dueWindow(db: Db, now: number): DigestInput | null {
  const { everyMs, budgetMs } = digestSettings(db);
  if (everyMs === null) return null;
  const last = lastScheduledTo(db);
  let to: number;
  if (last === null) {
    // The first one covers the week up to the hour it first became due.
    to = firstDigestAnchor(db) ?? Math.floor(now / HOUR) * HOUR;
  } else {
    const periods = Math.floor((now - last) / everyMs);
    if (periods < 1) return null;
    // After a long time off, only the latest window (no backlog of digests nobody will read).
    to = last + periods * everyMs;
  }
  return { from: to - everyMs, to, budgetMs, scheduled: true };
}

function understoodIn(db: Db, from: number, to: number): number {
  return (
    db
      .prepare(
        `SELECT count(*) AS n FROM episodes e
          WHERE e.published_at >= ? AND e.published_at < ?
            AND EXISTS (SELECT 1 FROM artifacts a WHERE a.episode_id = e.id AND a.kind = 'gi')`,
      )
      .get(from, to) as { n: number }
  ).n;
}

function processingIn(db: Db, from: number, to: number): number {
  return (
    db
      .prepare(
        `SELECT count(*) AS n FROM episodes e
           JOIN workflows w ON w.kind = 'episode' AND w.subject = e.key
          WHERE e.published_at >= ? AND e.published_at < ? AND w.status IN ('queued', 'running')`,
      )
      .get(from, to) as { n: number }
  ).n;
}

/** Start the digest workflow the schedule owes, if any; returns its id. */
export function startDueDigest(db: Db, queue: Queue): string | null {
  if (!queue.registry.has(DIGEST_KIND)) return null;
  const now = queue.clock.now();
  const due = dueWindow(db, now);
  if (!due) return null;
  const first = lastScheduledTo(db) === null;
  if (understoodIn(db, due.from, due.to) === 0) {
    // Nothing to tell (a new library): the first digest waits for something to be understood.
    if (first && firstDigestAnchor(db) !== null) setFirstDigestAnchor(db, null, now);
    return null;
  }
  if (first && firstDigestAnchor(db) === null) setFirstDigestAnchor(db, due.to, now);
  if (now - due.to < MAX_WAIT_MS && processingIn(db, due.from, due.to) > 0) return null;
  return queue.start(
    DIGEST_KIND,
    `${due.from}-${due.to}`,
    due as unknown as Record<string, number | boolean>,
  );
}
