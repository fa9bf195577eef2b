/**
 * What a listener's screens read and change: shows with unplayed counts, episode lists in pages
 * (newest first, filtered, with totals), one episode's page, the play state (resume position,
 * played), and the inbox of new episodes. Reads are plain queries over the store; each change
 * is one short write transaction.
 */
import fs from 'node:fs';
import type { Db } from '../store/db.ts';
import { writeTx } from '../store/db.ts';
import type { Clock } from '../engine/clock.ts';
import type {
  ChapterView,
  EpisodeDetailView,
  EpisodeFilter,
  EpisodeListItem,
  EpisodePageQuery,
  EpisodePageView,
  InboxView,
  PlaybackView,
  PlayState,
  ShowView,
  WorkflowStatus,
} from '../api/contract.ts';

/** The name "Your files" goes by: imported episodes, which belong to no feed. */
export const YOUR_FILES = 'Your files';

/** Near the end means the last 5 % of the episode, and at most its last minute. */
export function nearEnd(positionMs: number, durationMs: number): boolean {
  return durationMs > 0 && durationMs - positionMs <= Math.min(60_000, durationMs * 0.05);
}

export class NoSuchEpisode extends Error {}

interface ListRow {
  id: number;
  feed_id: number | null;
  key: string;
  title: string | null;
  published_at: number | null;
  duration_ms: number | null;
  status: string;
  image_url: string | null;
  feed_title: string | null;
  feed_url: string | null;
  feed_image: string | null;
  position_ms: number | null;
  played_at: number | null;
  workflow_status: WorkflowStatus | null;
  waiting_what: string | null;
  has_transcript: 0 | 1;
  understood: 0 | 1;
  processed: 0 | 1;
}

/** The columns every list reads, for episodes `e` (joined to feeds `f` and playback `p`). */
const LIST_COLUMNS = `
  e.id, e.feed_id, e.key, e.title, e.published_at, e.duration_ms, e.status,
  json_extract(e.extra, '$.imageUrl') AS image_url,
  f.title AS feed_title, f.url AS feed_url, f.image_url AS feed_image,
  p.position_ms, p.played_at,
  (SELECT w.status FROM workflows w WHERE w.kind = 'episode' AND w.subject = e.key
    ORDER BY w.created_at DESC, w.seq DESC LIMIT 1) AS workflow_status,
  (SELECT w.waiting_what FROM workflows w WHERE w.kind = 'episode' AND w.subject = e.key
    ORDER BY w.created_at DESC, w.seq DESC LIMIT 1) AS waiting_what,
  EXISTS (SELECT 1 FROM artifacts a WHERE a.episode_id = e.id AND a.kind = 'transcript') AS has_transcript,
  (SELECT count(*) FROM artifacts a WHERE a.episode_id = e.id AND a.kind IN ('summary', 'gi', 'kg')) = 3
    AS understood,
  EXISTS (SELECT 1 FROM artifacts a WHERE a.episode_id = e.id AND a.kind = 'chunks') AS processed`;
const LIST_FROM = `episodes e LEFT JOIN feeds f ON f.id = e.feed_id LEFT JOIN playback p ON p.episode_id = e.id`;

const PLAYED = `EXISTS (SELECT 1 FROM playback pp WHERE pp.episode_id = e.id AND pp.played_at IS NOT NULL)`;

function playState(positionMs: number | null, playedAt: number | null): PlayState {
  if (playedAt !== null) return 'played';
  return (positionMs ?? 0) > 0 ? 'in-progress' : 'new';
}

/** Where a show's or an episode's artwork is served on Earshot's origin (see assets.ts). */
export function artworkPath(kind: 'feed' | 'episode', id: number): string {
  return `/artwork/${kind}/${id}`;
}

/**
 * An episode's status as lists show it: its latest workflow's word over the episode's own. A
 * pipeline that has not started yet is 'queued'; one that waits for something (a model) is
 * 'waiting'; a dead-lettered one 'failed'; one you gave up on 'skipped'.
 */
export function listStatus(status: string, workflowStatus: string | null | undefined): string {
  if (status === 'skipped') return 'skipped';
  if (workflowStatus === 'dead') return 'failed';
  if (workflowStatus === 'cancelled') return 'cancelled';
  if (workflowStatus === 'waiting') return 'waiting';
  if (workflowStatus === 'queued' && (status === 'queued' || status === 'processing')) return 'queued';
  return status;
}

function listItem(r: ListRow): EpisodeListItem {
  return {
    id: r.id,
    feedId: r.feed_id,
    showTitle: r.feed_id === null ? YOUR_FILES : (r.feed_title ?? r.feed_url ?? ''),
    title: r.title,
    publishedAt: r.published_at,
    durationMs: r.duration_ms,
    // An episode whose pipeline waits, was dead-lettered or cancelled shows that, not "processing".
    status: listStatus(r.status, r.workflow_status),
    waitingFor: r.workflow_status === 'waiting' ? r.waiting_what : null,
    hasTranscript: r.has_transcript === 1,
    understood: r.understood === 1,
    processed: r.processed === 1,
    state: playState(r.position_ms, r.played_at),
    positionMs: r.played_at !== null ? 0 : (r.position_ms ?? 0),
    artwork: httpUrl(r.image_url)
      ? artworkPath('episode', r.id)
      : httpUrl(r.feed_image) && r.feed_id !== null
        ? artworkPath('feed', r.feed_id)
        : null,
  };
}

function httpUrl(value: string | null | undefined): value is string {
  return typeof value === 'string' && /^https?:\/\//i.test(value);
}

function filterSql(query: EpisodeFilter & { feedId?: number | null }): {
  where: string;
  params: (number | string)[];
} {
  const where: string[] = [];
  const params: (number | string)[] = [];
  if (query.feedId === null) where.push('e.feed_id IS NULL');
  else if (query.feedId !== undefined) {
    where.push('e.feed_id = ?');
    params.push(query.feedId);
  }
  if (query.unplayed) where.push(`NOT ${PLAYED}`);
  if (query.processed)
    where.push(`EXISTS (SELECT 1 FROM artifacts a WHERE a.episode_id = e.id AND a.kind = 'chunks')`);
  if (query.hasTranscript)
    where.push(`EXISTS (SELECT 1 FROM artifacts a WHERE a.episode_id = e.id AND a.kind = 'transcript')`);
  return { where: where.length ? `WHERE ${where.join(' AND ')}` : '', params };
}

export class Listening {
  readonly db: Db;
  readonly clock: Clock;
  constructor(db: Db, clock: Clock) {
    this.db = db;
    this.clock = clock;
  }

  shows(): ShowView[] {
    const feeds = this.db
      .prepare(
        `SELECT f.id, f.title, f.url, f.author, f.image_url, f.last_error, f.failing_since FROM feeds f
         ORDER BY f.title COLLATE NOCASE, f.id`,
      )
      .all() as {
      id: number;
      title: string | null;
      url: string;
      author: string | null;
      image_url: string | null;
      last_error: string | null;
      failing_since: number | null;
    }[];
    // One pass over the feed index for the sizes; played episodes are few next to a back
    // catalogue, so those are counted from playback (driving the join from it) and subtracted.
    const sizes = new Map(
      (
        this.db.prepare('SELECT feed_id, count(*) AS n FROM episodes GROUP BY feed_id').all() as {
          feed_id: number | null;
          n: number;
        }[]
      ).map((r) => [r.feed_id, r.n]),
    );
    const played = new Map(
      (
        this.db
          .prepare(
            `SELECT e.feed_id, count(*) AS n FROM playback p CROSS JOIN episodes e ON e.id = p.episode_id
              WHERE p.played_at IS NOT NULL GROUP BY e.feed_id`,
          )
          .all() as { feed_id: number | null; n: number }[]
      ).map((r) => [r.feed_id, r.n]),
    );
    const shows: ShowView[] = feeds.map((f) => ({
      feedId: f.id,
      title: f.title ?? f.url,
      author: f.author,
      url: f.url,
      artwork: httpUrl(f.image_url) ? artworkPath('feed', f.id) : null,
      episodeCount: sizes.get(f.id) ?? 0,
      unplayedCount: (sizes.get(f.id) ?? 0) - (played.get(f.id) ?? 0),
      lastError: f.last_error,
      failingSince: f.failing_since,
    }));
    const files = sizes.get(null) ?? 0;
    if (files > 0) {
      shows.push({
        feedId: null,
        title: YOUR_FILES,
        author: null,
        url: null,
        artwork: null,
        episodeCount: files,
        unplayedCount: files - (played.get(null) ?? 0),
        lastError: null,
        failingSince: null,
      });
    }
    return shows;
  }

  episodePage(query: EpisodePageQuery = {}): EpisodePageView {
    const offset = query.offset ?? 0;
    const limit = query.limit ?? 100;
    const { where, params } = filterSql(query);
    const total = (
      this.db.prepare(`SELECT count(*) AS n FROM episodes e ${where}`).get(...params) as { n: number }
    ).n;
    // The window is chosen from the index alone (feed, date, id), then only its rows are read.
    const rows = this.db
      .prepare(
        `SELECT ${LIST_COLUMNS} FROM ${LIST_FROM}
          WHERE e.id IN (SELECT e.id FROM episodes e ${where}
                         ORDER BY e.published_at DESC, e.id DESC LIMIT ? OFFSET ?)
          ORDER BY e.published_at DESC, e.id DESC`,
      )
      .all(...params, limit, offset) as ListRow[];
    return { total, offset, items: rows.map(listItem) };
  }

  private row(episodeId: number): ListRow & {
    description: string | null;
    link: string | null;
    enclosure_url: string | null;
    extra: string;
    author: string | null;
  } {
    const row = this.db
      .prepare(
        `SELECT ${LIST_COLUMNS}, e.description, e.link, e.enclosure_url, e.extra, f.author
           FROM ${LIST_FROM} WHERE e.id = ?`,
      )
      .get(episodeId) as ReturnType<Listening['row']> | undefined;
    if (!row) throw new NoSuchEpisode(`There is no episode ${episodeId}; \`earshot episodes\` lists them.`);
    return row;
  }

  episode(episodeId: number): EpisodeDetailView {
    const r = this.row(episodeId);
    const extra = JSON.parse(r.extra) as {
      podloveChapters?: { startMs: number; title: string; href?: string }[];
      localPath?: string;
    };
    const arts = new Map(
      (
        this.db
          .prepare(`SELECT kind, path FROM artifacts WHERE episode_id = ? AND kind IN ('audio', 'chapters')`)
          .all(episodeId) as { kind: string; path: string }[]
      ).map((a) => [a.kind, a.path]),
    );
    const workflow = this.db
      .prepare(
        `SELECT id, status FROM workflows WHERE kind = 'episode' AND subject = ? ORDER BY created_at DESC, seq DESC LIMIT 1`,
      )
      .get(r.key) as { id: string; status: WorkflowStatus } | undefined;
    const noted = this.db.prepare('SELECT notes FROM episodes WHERE id = ?').get(episodeId) as {
      notes: string | null;
    };
    const downloaded = [arts.get('audio'), extra.localPath].some((f) => f !== undefined && fs.existsSync(f));
    return {
      ...listItem(r),
      showAuthor: r.author,
      link: r.link,
      notesHtml: r.description,
      notesBase: r.link ?? r.feed_url,
      chapters: chaptersOf(arts.get('chapters'), extra.podloveChapters ?? []),
      media: downloaded || httpUrl(r.enclosure_url) ? { url: `/media/${r.id}`, downloaded } : null,
      playedAt: r.played_at,
      workflowId: workflow?.id ?? null,
      workflowStatus: workflow?.status ?? null,
      skippedParts: noted.notes ? (JSON.parse(noted.notes) as string[]) : [],
    };
  }

  private exists(ids: number[]): void {
    const found = this.db.prepare('SELECT 1 FROM episodes WHERE id = ?');
    for (const id of ids) {
      if (!found.get(id))
        throw new NoSuchEpisode(`There is no episode ${id}; \`earshot episodes\` lists them.`);
    }
  }

  private playback(episodeId: number): PlaybackView {
    const p = this.db
      .prepare('SELECT position_ms, played_at FROM playback WHERE episode_id = ?')
      .get(episodeId) as { position_ms: number; played_at: number | null } | undefined;
    const playedAt = p?.played_at ?? null;
    return {
      episodeId,
      state: playState(p?.position_ms ?? 0, playedAt),
      positionMs: playedAt !== null ? 0 : (p?.position_ms ?? 0),
      playedAt,
    };
  }

  /**
   * Remember where listening is. Near the end the episode is marked played (and starts from the
   * beginning next time). Saving a position never un-marks a played episode: listening to one
   * again is still listening to a played episode, until it is marked unplayed.
   */
  savePosition(episodeId: number, positionMs: number, durationMs?: number): PlaybackView {
    this.exists([episodeId]);
    const now = this.clock.now();
    writeTx(this.db, 'saving where you are in an episode', () => {
      const known =
        durationMs ??
        (
          this.db.prepare('SELECT duration_ms FROM episodes WHERE id = ?').get(episodeId) as {
            duration_ms: number | null;
          }
        ).duration_ms;
      const finished = known !== null && known !== undefined && nearEnd(positionMs, known);
      this.db
        .prepare(
          `INSERT INTO playback (episode_id, position_ms, played_at, updated_at) VALUES (@id, @pos, @played, @now)
           ON CONFLICT (episode_id) DO UPDATE SET
             position_ms = CASE WHEN @played IS NOT NULL THEN 0 ELSE @pos END,
             played_at = coalesce(playback.played_at, @played),
             updated_at = @now`,
        )
        .run({
          id: episodeId,
          pos: finished ? 0 : Math.round(positionMs),
          played: finished ? now : null,
          now,
        });
    });
    return this.playback(episodeId);
  }

  markPlayed(episodeIds: number[], played = true): PlaybackView[] {
    this.exists(episodeIds);
    const now = this.clock.now();
    writeTx(this.db, played ? 'marking episodes played' : 'marking episodes unplayed', () => {
      const upsert = this.db.prepare(
        `INSERT INTO playback (episode_id, position_ms, played_at, updated_at) VALUES (?, 0, ?, ?)
         ON CONFLICT (episode_id) DO UPDATE SET position_ms = 0, played_at = excluded.played_at,
           updated_at = excluded.updated_at`,
      );
      for (const id of episodeIds) upsert.run(id, played ? now : null, now);
    });
    return episodeIds.map((id) => this.playback(id));
  }

  private lastVisit(): number | null {
    const row = this.db.prepare(`SELECT value FROM settings WHERE key = 'inbox.lastVisitAt'`).get() as
      { value: string } | undefined;
    return row ? Number(row.value) : null;
  }

  inbox(limit = 200): InboxView {
    const lastVisitAt = this.lastVisit();
    const where = `e.inbox_at IS NOT NULL AND NOT ${PLAYED}`;
    const counts = this.db
      .prepare(
        `SELECT count(*) AS total, coalesce(sum(e.inbox_at > ?), 0) AS fresh FROM episodes e WHERE ${where}`,
      )
      .get(lastVisitAt ?? -1) as { total: number; fresh: number };
    const rows = this.db
      .prepare(
        `SELECT ${LIST_COLUMNS}, e.inbox_at FROM ${LIST_FROM} WHERE ${where}
          ORDER BY e.published_at DESC, e.id DESC LIMIT ?`,
      )
      .all(limit) as (ListRow & { inbox_at: number })[];
    return {
      lastVisitAt,
      newCount: counts.fresh,
      total: counts.total,
      items: rows.map((r) => ({
        ...listItem(r),
        arrivedAt: r.inbox_at,
        isNew: lastVisitAt === null || r.inbox_at > lastVisitAt,
      })),
    };
  }

  visitInbox(): { lastVisitAt: number } {
    const now = this.clock.now();
    writeTx(this.db, 'remembering your visit to the inbox', () => {
      this.db
        .prepare(
          `INSERT INTO settings (key, value, updated_at) VALUES ('inbox.lastVisitAt', ?, ?)
           ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
        )
        .run(String(now), now);
    });
    return { lastVisitAt: now };
  }

  dismissFromInbox(episodeIds: number[]): { removed: number } {
    this.exists(episodeIds);
    return writeTx(this.db, 'taking episodes out of the inbox', () => {
      const clear = this.db.prepare(
        'UPDATE episodes SET inbox_at = NULL WHERE id = ? AND inbox_at IS NOT NULL',
      );
      return { removed: episodeIds.reduce((n, id) => n + clear.run(id).changes, 0) };
    });
  }
}

/** The publisher's chapters file when the pipeline fetched one, else the feed's (or the file's) own. */
function chaptersOf(
  file: string | undefined,
  fromFeed: { startMs: number; title: string; href?: string }[],
): ChapterView[] {
  let list: { startMs: number; title: string; url?: string | null; href?: string }[] = fromFeed;
  if (file) {
    try {
      const doc = JSON.parse(fs.readFileSync(file, 'utf8')) as {
        chapters?: { startMs: number; title: string; url?: string }[];
      };
      if (doc.chapters?.length) list = doc.chapters;
    } catch {
      // A chapters file that cannot be read: the feed's own chapters, if any, still show.
    }
  }
  return list
    .filter((c) => Number.isFinite(c.startMs) && c.startMs >= 0 && typeof c.title === 'string')
    .map((c) => {
      const url = c.url ?? c.href ?? null;
      return { startMs: c.startMs, title: c.title, url: httpUrl(url) ? url : null };
    })
    .sort((a, b) => a.startMs - b.startMs);
}
