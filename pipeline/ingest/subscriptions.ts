import type { Db } from '../store/db.ts';
import { writeTx } from '../store/db.ts';
import type { Clock } from '../engine/clock.ts';
import { decodeFeedBytes, gunzipIfCompressed } from './decode-text.ts';
import { parseFeed, type ParsedFeed, type ParsedItem } from './feed-parse.ts';
import { fetchDocument, type FetchOptions, type FetchResult } from './http.ts';
import { IngestError } from './errors.ts';
import { hostOf } from './net-policy.ts';
import { aliasesOf, episodeKey, type Alias, type KeySource } from './identity.ts';
import { DEFAULT_BACKLOG, formatBacklog, insidePolicy, parseBacklog } from './backlog.ts';
import { buildOpml, parseOpml, type OpmlSkip } from './opml.ts';
import pLimit from 'p-limit';
import { indexListing } from '../search/store.ts';
import { readSettings, REFRESH_MINUTES } from '../store/app-settings.ts';

export interface OpmlImportResult {
  /** Feeds now followed, read at once. */
  added: FeedView[];
  /** Feeds added that could not be read yet: they stay subscribed and show why on the feed. */
  failed: { feedId: number; url: string; error: string }[];
  /** Addresses you already follow. */
  existing: string[];
  skipped: OpmlSkip[];
}

export type { FeedView, EpisodeView, RefreshView as RefreshResult } from '../api/contract.ts';
import type {
  FeedView,
  EpisodeView,
  FeedProgressEvent,
  FeedSettingsPatch,
  FeedSettingsView,
  RefreshView as RefreshResult,
} from '../api/contract.ts';

/** One feed checked out of many (a refresh of every feed, an OPML import), for progress. */
export type FeedProgress = FeedProgressEvent;

export interface SubscriptionOptions {
  /**
   * Minutes between background refreshes of a feed without its own interval. Default: the app's
   * setting (Settings, `earshot settings --refresh`), 60 until one is chosen.
   */
  intervalMinutes?: number;
  /** Fraction of the interval added at random per feed so refreshes spread out. Default 0.1. */
  jitter?: number;
  random?: () => number;
  fetch?: (url: string, options: FetchOptions) => Promise<FetchResult>;
  fetchOptions?: FetchOptions;
}

interface FeedRow {
  id: number;
  url: string;
  title: string | null;
  backlog: string;
  subscribed_at: number | null;
  etag: string | null;
  last_modified: string | null;
  last_refresh_at: number | null;
  last_success_at: number | null;
  last_error: string | null;
  failures: number;
  next_refresh_at: number | null;
  language: string | null;
  auto_process: 0 | 1;
  refresh_minutes: number | null;
  whisper: 'auto' | 'always';
  language_override: string | null;
  failing_since: number | null;
}

/** A language code as Whisper and feeds write it: 'en', 'de', 'pt-BR', 'zh-Hans'. */
const LANGUAGE = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;

export function validateFeedUrl(input: string): string {
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch {
    throw new IngestError(
      'BAD_URL',
      `"${input}" is not a web address; a feed address looks like https://example.com/feed.xml.`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new IngestError(
      'BAD_URL',
      `Earshot subscribes to http and https feeds only, not ${url.protocol.replace(':', '')} addresses.`,
    );
  }
  url.hash = '';
  return url.href;
}

/** Subscriptions: add, remove, list, refresh (on a schedule or now), with episode identity kept stable. */
export class Subscriptions {
  readonly db: Db;
  private readonly clock: Clock;
  private readonly options: SubscriptionOptions;

  constructor(db: Db, clock: Clock, options: SubscriptionOptions = {}) {
    this.db = db;
    this.clock = clock;
    this.options = options;
  }

  /** Minutes between checks of a feed: its own interval, else the app's. */
  private intervalMinutes(own: number | null): number {
    return own ?? this.options.intervalMinutes ?? readSettings(this.db).refreshMinutes;
  }

  private fetch(url: string, extra: FetchOptions = {}): Promise<FetchResult> {
    return (this.options.fetch ?? fetchDocument)(url, { ...this.options.fetchOptions, ...extra });
  }

  /** Fetch and parse the feed at once; only a feed that works is stored. */
  async subscribe(
    input: string,
    backlogSpec = DEFAULT_BACKLOG,
  ): Promise<{ feed: FeedView; refresh: RefreshResult }> {
    const url = validateFeedUrl(input);
    const backlog = formatBacklog(parseBacklog(backlogSpec));
    const existing = this.db.prepare('SELECT id FROM feeds WHERE url = ?').get(url) as
      { id: number } | undefined;
    if (existing) {
      throw new IngestError('ALREADY_SUBSCRIBED', `You already follow this feed (feed ${existing.id}).`);
    }
    // Typed (or listed in an OPML file) by the user: the one host this feed may reach even when it
    // is on the user's own network.
    const fetched = await this.fetch(url, { trustedHost: hostOf(url) });
    const parsed = this.parse(fetched);
    const finalUrl = fetched.movedTo ?? url;
    const now = this.clock.now();
    // The feed and its episodes are stored together: a failure leaves no half subscription.
    const { feedId, refresh } = writeTx(this.db, 'adding a subscription', () => {
      const moved = this.db.prepare('SELECT id FROM feeds WHERE url = ?').get(finalUrl) as
        { id: number } | undefined;
      if (moved) {
        throw new IngestError(
          'ALREADY_SUBSCRIBED',
          finalUrl !== url
            ? `You already follow this feed (feed ${moved.id}); it lives at ${finalUrl}.`
            : `You already follow this feed (feed ${moved.id}).`,
        );
      }
      const id = Number(
        this.db
          .prepare(
            'INSERT INTO feeds (url, title, backlog, subscribed_at, created_at) VALUES (?, ?, ?, ?, ?)',
          )
          .run(finalUrl, parsed.title, backlog, now, now).lastInsertRowid,
      );
      return { feedId: id, refresh: this.store(id, fetched, parsed, true) };
    });
    return { feed: this.feed(feedId), refresh };
  }

  /**
   * Import an OPML list. Every feed is added (in its folder) and read; one that cannot be read
   * now stays subscribed with the reason on it, and is retried on the normal schedule.
   */
  async importOpml(
    doc: string,
    backlogSpec = DEFAULT_BACKLOG,
    options: { concurrency?: number; onProgress?: (p: FeedProgress) => void } = {},
  ): Promise<OpmlImportResult> {
    const backlog = formatBacklog(parseBacklog(backlogSpec));
    const { entries, skipped } = parseOpml(doc);
    const now = this.clock.now();
    const existing: string[] = [];
    const ids = writeTx(this.db, 'importing subscriptions', () => {
      const out: { id: number; url: string }[] = [];
      const find = this.db.prepare('SELECT id FROM feeds WHERE url = ?');
      const insert = this.db.prepare(
        'INSERT INTO feeds (url, title, folder, backlog, subscribed_at, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      );
      for (const e of entries) {
        if (find.get(e.url)) {
          existing.push(e.url);
          continue;
        }
        out.push({
          id: Number(insert.run(e.url, e.title ?? null, e.folder ?? null, backlog, now, now).lastInsertRowid),
          url: e.url,
        });
      }
      return out;
    });
    const results = await this.eachFeed(ids, (id) => this.refresh(id, true), 'import', options);
    const added: FeedView[] = [];
    const failed: OpmlImportResult['failed'] = [];
    results.forEach((r, i) => {
      const f = ids[i]!;
      if (r.status === 'fulfilled') added.push(this.feed(f.id));
      else
        failed.push({
          feedId: f.id,
          url: f.url,
          error: r.reason instanceof Error ? r.reason.message : String(r.reason),
        });
    });
    return { added, failed, existing, skipped };
  }

  exportOpml(): string {
    const feeds = this.db
      .prepare('SELECT url, title, folder FROM feeds ORDER BY folder, title COLLATE NOCASE')
      .all() as {
      url: string;
      title: string | null;
      folder: string | null;
    }[];
    return buildOpml(feeds, new Date(this.clock.now()));
  }

  unsubscribe(feedId: number): FeedView {
    const feed = this.feed(feedId);
    writeTx(this.db, 'removing a subscription', () =>
      this.db.prepare('DELETE FROM feeds WHERE id = ?').run(feedId),
    );
    return feed;
  }

  private parse(fetched: FetchResult): ParsedFeed {
    const { text } = decodeFeedBytes(gunzipIfCompressed(fetched.body), fetched.contentType);
    return parseFeed(text, fetched.url);
  }

  /** Refresh one feed now. A failure is recorded on the feed (never silently) and rethrown. */
  async refresh(feedId: number, firstFetch = false): Promise<RefreshResult> {
    const row = this.row(feedId);
    firstFetch ||= row.last_success_at === null;
    try {
      const fetched = await this.fetch(row.url, {
        etag: row.etag,
        lastModified: row.last_modified,
        trustedHost: hostOf(row.url),
      });
      if (fetched.status === 'not-modified') {
        const now = this.clock.now();
        // Unchanged, but perhaps moved for good: follow the permanent redirect all the same.
        const movedTo = writeTx(this.db, 'recording a refresh', () => {
          const moved =
            fetched.movedTo &&
            fetched.movedTo !== row.url &&
            !this.db.prepare('SELECT 1 FROM feeds WHERE url = ?').get(fetched.movedTo)
              ? fetched.movedTo
              : undefined;
          this.db
            .prepare(
              `UPDATE feeds SET url = ?, last_refresh_at = ?, last_success_at = ?, last_error = NULL, failures = 0,
                 failing_since = NULL, next_refresh_at = ? WHERE id = ?`,
            )
            .run(moved ?? row.url, now, now, this.nextRefresh(now, 0, row.refresh_minutes), feedId);
          return moved;
        });
        return {
          feedId,
          notModified: true,
          added: 0,
          updated: 0,
          queued: [],
          ...(movedTo ? { movedTo } : {}),
        };
      }
      return this.store(feedId, fetched, this.parse(fetched), firstFetch);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const now = this.clock.now();
      writeTx(this.db, 'recording a failed refresh', () =>
        this.db
          .prepare(
            `UPDATE feeds SET last_refresh_at = ?, last_error = ?, failures = failures + 1,
               failing_since = coalesce(failing_since, ?), next_refresh_at = ? WHERE id = ?`,
          )
          .run(now, message, now, this.nextRefresh(now, row.failures + 1, row.refresh_minutes), feedId),
      );
      throw err;
    }
  }

  /** Refresh every feed whose time has come; failures are recorded per feed, not thrown. */
  async refreshDue(): Promise<{ refreshed: RefreshResult[]; failed: { feedId: number; error: string }[] }> {
    const due = this.db
      .prepare(
        'SELECT id FROM feeds WHERE next_refresh_at IS NULL OR next_refresh_at <= ? ORDER BY next_refresh_at',
      )
      .all(this.clock.now()) as { id: number }[];
    return this.refreshMany(due.map((d) => d.id));
  }

  /**
   * Run `work` for many feeds: a few at once (`concurrency`, default 8), feeds of different hosts
   * side by side so that one host's limit (ingest/http.ts: 2 requests per host) does not hold
   * every slot; `onProgress` after each.
   */
  private async eachFeed<T>(
    feeds: { id: number; url: string }[],
    work: (id: number) => Promise<T>,
    phase: FeedProgress['phase'],
    options: { concurrency?: number; onProgress?: (p: FeedProgress) => void },
  ): Promise<PromiseSettledResult<T>[]> {
    const limit = pLimit(options.concurrency ?? 8);
    const hostOf = (url: string) => {
      try {
        return new URL(url).host;
      } catch {
        return url;
      }
    };
    // Round-robin over hosts: a, b, c, a, b, a … (results keep the given order).
    const byHost = new Map<string, number[]>();
    feeds.forEach((f, i) => byHost.set(hostOf(f.url), [...(byHost.get(hostOf(f.url)) ?? []), i]));
    const order: number[] = [];
    for (let round = 0; order.length < feeds.length; round++)
      for (const list of byHost.values()) if (round < list.length) order.push(list[round]!);
    const results: PromiseSettledResult<T>[] = new Array(feeds.length);
    let done = 0;
    await Promise.all(
      order.map((i) =>
        limit(async () => {
          const f = feeds[i]!;
          try {
            results[i] = { status: 'fulfilled', value: await work(f.id) };
          } catch (reason) {
            results[i] = { status: 'rejected', reason };
          }
          const r = results[i]!;
          options.onProgress?.({
            phase,
            done: ++done,
            total: feeds.length,
            feedId: f.id,
            url: f.url,
            ok: r.status === 'fulfilled',
            error: r.status === 'rejected' ? errorText(r.reason) : null,
          });
        }),
      ),
    );
    return results;
  }

  async refreshMany(
    ids: number[],
    options: { concurrency?: number; onProgress?: (p: FeedProgress) => void } = {},
  ): Promise<{ refreshed: RefreshResult[]; failed: { feedId: number; error: string }[] }> {
    const urls = new Map(
      (
        this.db
          .prepare(`SELECT id, url FROM feeds WHERE id IN (${ids.map(() => '?').join(', ') || 'NULL'})`)
          .all(...ids) as { id: number; url: string }[]
      ).map((r) => [r.id, r.url]),
    );
    const settled = await this.eachFeed(
      ids.map((id) => ({ id, url: urls.get(id) ?? '' })),
      (id) => this.refresh(id),
      'refresh',
      options,
    );
    const refreshed: RefreshResult[] = [];
    const failed: { feedId: number; error: string }[] = [];
    settled.forEach((r, i) => {
      if (r.status === 'fulfilled') refreshed.push(r.value);
      else
        failed.push({
          feedId: ids[i]!,
          error: r.reason instanceof Error ? r.reason.message : String(r.reason),
        });
    });
    return { refreshed, failed };
  }

  /**
   * Next refresh: the feed's interval (its own, else the app's) with per-feed jitter, doubled
   * per consecutive failure (capped at a day, or the interval when that is longer).
   */
  private nextRefresh(now: number, failures: number, own: number | null): number {
    const interval = this.intervalMinutes(own) * 60_000;
    const base = Math.min(Math.max(24 * 3_600_000, interval), interval * 2 ** Math.min(failures, 10));
    const jitter = base * (this.options.jitter ?? 0.1) * (this.options.random ?? Math.random)();
    return Math.round(now + base + jitter);
  }

  private row(feedId: number): FeedRow {
    const row = this.db.prepare('SELECT * FROM feeds WHERE id = ?').get(feedId) as FeedRow | undefined;
    if (!row) throw new IngestError('NO_FEED', `There is no feed ${feedId}; \`earshot feeds\` lists them.`);
    return row;
  }

  /** Store the feed's metadata and reconcile its items with the episodes already known. */
  private store(
    feedId: number,
    fetched: FetchResult,
    parsed: ParsedFeed,
    firstFetch: boolean,
  ): RefreshResult {
    const now = this.clock.now();
    return writeTx(this.db, 'saving a feed', () => {
      const row = this.row(feedId);
      let movedTo: string | undefined;
      if (fetched.movedTo && fetched.movedTo !== row.url) {
        const clash = this.db
          .prepare('SELECT id FROM feeds WHERE url = ? AND id != ?')
          .get(fetched.movedTo, feedId);
        if (!clash) movedTo = fetched.movedTo;
      }
      this.db
        .prepare(
          `UPDATE feeds SET url = ?, title = ?, description = ?, link = ?, image_url = ?, author = ?, language = ?,
             podcast_guid = ?, format = ?, etag = ?, last_modified = ?, last_refresh_at = ?, last_success_at = ?,
             last_error = NULL, failures = 0, failing_since = NULL, next_refresh_at = ? WHERE id = ?`,
        )
        .run(
          movedTo ?? row.url,
          parsed.title,
          parsed.description ?? null,
          parsed.link ?? null,
          parsed.imageUrl ?? null,
          parsed.author ?? null,
          parsed.language ?? null,
          parsed.podcastGuid ?? null,
          parsed.format,
          fetched.etag,
          fetched.lastModified,
          now,
          now,
          this.nextRefresh(now, 0, row.refresh_minutes),
          feedId,
        );
      const result = this.reconcile(
        feedId,
        parsed.items,
        firstFetch,
        parseBacklogSafe(row.backlog),
        row.subscribed_at ?? now,
        now,
        row.auto_process === 1,
      );
      return { feedId, notModified: false, ...result, movedTo };
    });
  }

  private reconcile(
    feedId: number,
    items: ParsedItem[],
    firstFetch: boolean,
    backlog: ReturnType<typeof parseBacklog>,
    subscribedAt: number,
    now: number,
    autoProcess = true,
  ): { added: number; updated: number; queued: number[] } {
    const findAlias = this.db.prepare(
      'SELECT episode_id FROM episode_aliases WHERE feed_id = ? AND kind = ? AND value = ?',
    );
    const addAlias = this.db.prepare(
      'INSERT OR IGNORE INTO episode_aliases (feed_id, kind, value, episode_id) VALUES (?, ?, ?, ?)',
    );
    const matched = new Set<number>();
    const guidOf = this.db.prepare('SELECT guid FROM episodes WHERE id = ?');
    const documentGuids = new Set(items.flatMap((i) => i.guids.map((g) => g.trim())));
    const fresh: { id: number; publishedAt: number | null }[] = [];
    let updated = 0;
    // Newest first, so a guid shared by two items identifies the newest of them.
    const ordered = items
      .map((item, position) => ({ item, position }))
      .sort(
        (a, b) =>
          (b.item.publishedAt ?? -Infinity) - (a.item.publishedAt ?? -Infinity) || a.position - b.position,
      );
    for (const { item, position } of ordered) {
      const aliases = aliasesOf(item);
      if (aliases.length === 0) continue; // nothing to know it by: no guid, enclosure or title
      let episodeId: number | undefined;
      for (const a of aliases) {
        const hit = findAlias.get(feedId, a.kind, a.value) as { episode_id: number } | undefined;
        if (!hit || matched.has(hit.episode_id)) continue;
        if (a.kind !== 'guid' && item.guids.length > 0) {
          // A weaker identity (same audio URL, same title and day) says "same episode" only if
          // that episode's own guid is gone from the feed (the guid changed). While its guid is
          // still listed, this item is a different episode that happens to look alike.
          const other = (guidOf.get(hit.episode_id) as { guid: string | null } | undefined)?.guid;
          if (other && !item.guids.includes(other) && documentGuids.has(other)) continue;
        }
        episodeId = hit.episode_id;
        break;
      }
      if (episodeId === undefined) {
        // A guid already taken in this feed (shared guids) cannot be this item's key.
        const usable = aliases.filter((a) => !findAlias.get(feedId, a.kind, a.value));
        const keyAlias: Alias | undefined = usable[0];
        if (!keyAlias) continue; // an exact duplicate of an item already seen in this document
        episodeId = this.insertEpisode(feedId, item, keyAlias, position, now);
        fresh.push({ id: episodeId, publishedAt: item.publishedAt ?? null });
      } else {
        this.updateEpisode(episodeId, item, position, now);
        updated++;
      }
      matched.add(episodeId);
      for (const a of aliases) addAlias.run(feedId, a.kind, a.value, episodeId);
    }
    const queued: number[] = [];
    const ranked = [...fresh].sort((a, b) => (b.publishedAt ?? -Infinity) - (a.publishedAt ?? -Infinity));
    // The inbox: what a refresh finds is new; of a show just followed, only its newest episode.
    const toInbox = this.db.prepare('UPDATE episodes SET inbox_at = ? WHERE id = ?');
    for (const e of firstFetch ? ranked.slice(0, 1) : ranked) toInbox.run(now, e.id);
    const setStatus = this.db.prepare(`UPDATE episodes SET status = 'queued' WHERE id = ?`);
    // Auto-process off (the show's settings): new episodes are listed, and processed when asked.
    ranked.forEach((e, rank) => {
      if (
        autoProcess &&
        insidePolicy(backlog, { publishedAt: e.publishedAt, rank }, { firstFetch, subscribedAt })
      ) {
        setStatus.run(e.id);
        queued.push(e.id);
      }
    });
    return { added: fresh.length, updated, queued };
  }

  private episodeFields(item: ParsedItem) {
    const extra = {
      guids: item.guids,
      alternateEnclosures: item.alternateEnclosures,
      transcripts: item.transcripts,
      chaptersUrl: item.chaptersUrl,
      podloveChapters: item.podloveChapters,
      persons: item.persons,
      season: item.season,
      episode: item.episode,
      imageUrl: item.imageUrl,
    };
    return {
      guid: item.guids[0] ?? null,
      title: item.title ?? null,
      description: item.description ?? null,
      link: item.link ?? null,
      publishedAt: item.publishedAt ?? null,
      durationMs: item.durationMs ?? null,
      enclosureUrl: item.enclosure?.url ?? null,
      enclosureType: item.enclosure?.type ?? null,
      enclosureLength: item.enclosure?.length ?? null,
      extra: JSON.stringify(extra),
    };
  }

  private insertEpisode(
    feedId: number,
    item: ParsedItem,
    keyAlias: Alias,
    position: number,
    now: number,
  ): number {
    const fields = this.episodeFields(item);
    const id = Number(
      this.db
        .prepare(
          `INSERT INTO episodes (feed_id, key, key_source, guid, title, description, link, published_at, duration_ms,
             enclosure_url, enclosure_type, enclosure_length, extra, status, position, created_at, updated_at)
           VALUES (@feedId, @key, @keySource, @guid, @title, @description, @link, @publishedAt, @durationMs,
             @enclosureUrl, @enclosureType, @enclosureLength, @extra, 'listed', @position, @now, @now)`,
        )
        .run({
          ...fields,
          feedId,
          key: episodeKey(feedId, keyAlias),
          keySource: keyAlias.kind,
          position,
          now,
        }).lastInsertRowid,
    );
    // Searchable by its title and show notes from now on, processed or not.
    indexListing(this.db, id, fields.title, fields.description);
    return id;
  }

  private updateEpisode(id: number, item: ParsedItem, position: number, now: number): void {
    const fields = this.episodeFields(item);
    const before = this.db.prepare('SELECT title, description FROM episodes WHERE id = ?').get(id) as {
      title: string | null;
      description: string | null;
    };
    if (before.title !== fields.title || before.description !== fields.description)
      indexListing(this.db, id, fields.title, fields.description);
    // On the right of SET, title and description are still the old values: an indexed episode
    // whose title or show notes changed is marked for its index step to run again.
    this.db
      .prepare(
        `UPDATE episodes SET
           reindex_at = CASE WHEN (title IS NOT @title OR description IS NOT @description)
             AND EXISTS (SELECT 1 FROM artifacts a WHERE a.episode_id = episodes.id AND a.kind = 'chunks')
             THEN @now ELSE reindex_at END,
           guid = @guid, title = @title, description = @description, link = @link,
           published_at = @publishedAt, duration_ms = @durationMs, enclosure_url = @enclosureUrl,
           enclosure_type = @enclosureType, enclosure_length = @enclosureLength, extra = @extra,
           position = @position, updated_at = @now
         WHERE id = @id`,
      )
      .run({ ...fields, position, now, id });
  }

  feed(feedId: number): FeedView {
    const v = this.list(feedId)[0];
    if (!v) throw new IngestError('NO_FEED', `There is no feed ${feedId}; \`earshot feeds\` lists them.`);
    return v;
  }

  list(onlyId?: number): FeedView[] {
    const rows = this.db
      .prepare(
        `SELECT f.*, (SELECT count(*) FROM episodes e WHERE e.feed_id = f.id) AS episode_count FROM feeds f
         ${onlyId === undefined ? '' : 'WHERE f.id = ?'} ORDER BY f.title COLLATE NOCASE, f.id`,
      )
      .all(...(onlyId === undefined ? [] : [onlyId])) as (FeedRow & { episode_count: number })[];
    return rows.map((r) => ({
      id: r.id,
      url: r.url,
      title: r.title,
      backlog: r.backlog,
      episodeCount: r.episode_count,
      lastRefreshAt: r.last_refresh_at,
      lastError: r.last_error,
      failingSince: r.failing_since,
      nextRefreshAt: r.next_refresh_at,
    }));
  }

  /** A show's own settings, with why and since when its feed fails, and what it holds. */
  settings(feedId: number): FeedSettingsView {
    const r = this.row(feedId);
    const counts = this.db
      .prepare(
        `SELECT count(*) AS episodes,
           coalesce(sum(EXISTS (SELECT 1 FROM artifacts a WHERE a.episode_id = e.id AND a.kind = 'transcript')), 0)
             AS transcribed,
           coalesce(sum(EXISTS (SELECT 1 FROM artifacts a WHERE a.episode_id = e.id AND a.kind = 'audio')), 0)
             AS downloaded
         FROM episodes e WHERE e.feed_id = ?`,
      )
      .get(feedId) as FeedSettingsView['counts'];
    return {
      feedId: r.id,
      url: r.url,
      title: r.title,
      backlog: r.backlog,
      autoProcess: r.auto_process === 1,
      refreshMinutes: r.refresh_minutes,
      effectiveRefreshMinutes: this.intervalMinutes(r.refresh_minutes),
      whisper: r.whisper === 'always' ? 'always' : 'auto',
      language: r.language_override,
      feedLanguage: r.language,
      lastRefreshAt: r.last_refresh_at,
      lastSuccessAt: r.last_success_at,
      lastError: r.last_error,
      failingSince: r.failing_since,
      failures: r.failures,
      nextRefreshAt: r.next_refresh_at,
      counts,
    };
  }

  /**
   * Change a show's settings. A new interval moves the next check no later than it says; a new
   * backlog queues the listed episodes it takes in (returned: the caller starts them); a new
   * address is stored (its conditional-GET state forgotten) for the caller to check at once.
   */
  setSettings(feedId: number, patch: FeedSettingsPatch): { queued: number[]; urlChanged: boolean } {
    const before = this.row(feedId);
    const backlog = patch.backlog === undefined ? undefined : formatBacklog(parseBacklog(patch.backlog));
    if (patch.refreshMinutes !== undefined && patch.refreshMinutes !== null) {
      const m = patch.refreshMinutes;
      if (!Number.isInteger(m) || m < REFRESH_MINUTES.min || m > REFRESH_MINUTES.max)
        throw new IngestError(
          'BAD_INTERVAL',
          `A feed is checked every ${REFRESH_MINUTES.min} minutes at the most and once a week at the least; ${m} minutes is outside that.`,
        );
    }
    if (patch.language !== undefined && patch.language !== null && !LANGUAGE.test(patch.language))
      throw new IngestError(
        'BAD_LANGUAGE',
        `"${patch.language}" is not a language code; write it like en, de or pt-BR.`,
      );
    const url = patch.url === undefined ? undefined : validateFeedUrl(patch.url);
    const now = this.clock.now();
    return writeTx(this.db, "saving a show's settings", () => {
      if (url !== undefined && url !== before.url) {
        const clash = this.db.prepare('SELECT id FROM feeds WHERE url = ? AND id != ?').get(url, feedId) as
          { id: number } | undefined;
        if (clash)
          throw new IngestError('ALREADY_SUBSCRIBED', `You already follow ${url} (feed ${clash.id}).`);
        this.db
          .prepare('UPDATE feeds SET url = ?, etag = NULL, last_modified = NULL WHERE id = ?')
          .run(url, feedId);
      }
      const set = (column: string, value: unknown) =>
        this.db.prepare(`UPDATE feeds SET ${column} = ? WHERE id = ?`).run(value, feedId);
      if (backlog !== undefined) set('backlog', backlog);
      if (patch.autoProcess !== undefined) set('auto_process', patch.autoProcess ? 1 : 0);
      if (patch.whisper !== undefined) set('whisper', patch.whisper);
      if (patch.language !== undefined) set('language_override', patch.language);
      if (patch.refreshMinutes !== undefined) {
        set('refresh_minutes', patch.refreshMinutes);
        this.pullNextRefresh(now, `id = ${Number(feedId)}`);
      }
      const after = this.row(feedId);
      const queued =
        (backlog !== undefined && backlog !== before.backlog) ||
        (patch.autoProcess === true && before.auto_process === 0)
          ? this.queueInsidePolicy(after, now)
          : [];
      return { queued, urlChanged: url !== undefined && url !== before.url };
    });
  }

  /**
   * After the interval got shorter: a feed's next check comes no later than one interval from
   * now (`where` picks the feeds). Inside the caller's transaction.
   */
  private pullNextRefresh(now: number, where: string): void {
    const rows = this.db
      .prepare(`SELECT id, refresh_minutes, next_refresh_at FROM feeds WHERE ${where}`)
      .all() as {
      id: number;
      refresh_minutes: number | null;
      next_refresh_at: number | null;
    }[];
    const update = this.db.prepare('UPDATE feeds SET next_refresh_at = ? WHERE id = ?');
    for (const r of rows) {
      const latest = now + this.intervalMinutes(r.refresh_minutes) * 60_000;
      if (r.next_refresh_at === null || r.next_refresh_at > latest) update.run(latest, r.id);
    }
  }

  /** The app's interval changed: feeds that follow it are checked no later than it says. */
  appIntervalChanged(): void {
    const now = this.clock.now();
    writeTx(this.db, 'rescheduling feed checks', () => this.pullNextRefresh(now, 'refresh_minutes IS NULL'));
  }

  /**
   * The listed episodes of a feed that its backlog policy takes in, as on a first fetch (newest
   * first by publication date): queued, unless auto-process is off. Inside the caller's transaction.
   */
  private queueInsidePolicy(feed: FeedRow, now: number): number[] {
    if (feed.auto_process !== 1) return [];
    const policy = parseBacklogSafe(feed.backlog);
    const all = this.db
      .prepare(
        `SELECT id, status, published_at FROM episodes WHERE feed_id = ? ORDER BY published_at DESC NULLS LAST, id DESC`,
      )
      .all(feed.id) as { id: number; status: string; published_at: number | null }[];
    const queue = this.db.prepare(`UPDATE episodes SET status = 'queued', updated_at = ? WHERE id = ?`);
    const queued: number[] = [];
    all.forEach((e, rank) => {
      if (e.status !== 'listed') return;
      if (
        !insidePolicy(
          policy,
          { publishedAt: e.published_at, rank },
          { firstFetch: true, subscribedAt: feed.subscribed_at ?? now },
        )
      )
        return;
      queue.run(now, e.id);
      queued.push(e.id);
    });
    return queued;
  }

  /** These episodes (those that exist), in the same shape as `episodes`. */
  episodesById(ids: readonly number[]): EpisodeView[] {
    return this.episodeViews(
      `WHERE e.id IN (${ids.map(() => '?').join(', ') || 'NULL'})`,
      [...ids],
      ids.length,
    );
  }

  episodes(query: { feedId?: number; limit?: number } = {}): EpisodeView[] {
    if (query.feedId !== undefined) this.row(query.feedId);
    return query.feedId === undefined
      ? this.episodeViews('', [], query.limit ?? 100)
      : this.episodeViews('WHERE feed_id = ?', [query.feedId], query.limit ?? 100);
  }

  private episodeViews(where: string, params: unknown[], limit: number): EpisodeView[] {
    const rows = this.db
      .prepare(
        // An episode whose pipeline was dead-lettered, cancelled or waits shows that, not
        // "processing": its latest workflow says (the one started last).
        `SELECT e.*, w.status AS workflow_status, w.waiting_what,
           EXISTS (SELECT 1 FROM artifacts a WHERE a.episode_id = e.id AND a.kind = 'transcript') AS has_transcript,
           -- What show() needs: the understand step's commit records the three together.
           (SELECT count(*) FROM artifacts a WHERE a.episode_id = e.id AND a.kind IN ('summary', 'gi', 'kg')) = 3
             AS understood
         FROM episodes e LEFT JOIN workflows w ON w.seq = (SELECT max(x.seq) FROM workflows x
           WHERE x.kind = 'episode' AND x.subject = e.key)
         ${where}
         ORDER BY e.published_at DESC NULLS LAST, e.id DESC LIMIT ?`,
      )
      .all(...params, limit) as {
      id: number;
      feed_id: number | null;
      key: string;
      key_source: KeySource | null;
      title: string | null;
      published_at: number | null;
      duration_ms: number | null;
      enclosure_url: string | null;
      extra: string;
      status: string;
      notes: string | null;
      workflow_status: string | null;
      waiting_what: string | null;
      has_transcript: 0 | 1;
      understood: 0 | 1;
    }[];
    return rows.map((r) => {
      const extra = JSON.parse(r.extra) as { transcripts?: { url: string }[] };
      return {
        id: r.id,
        feedId: r.feed_id,
        key: r.key,
        keySource: r.key_source,
        title: r.title,
        publishedAt: r.published_at,
        durationMs: r.duration_ms,
        enclosureUrl: r.enclosure_url,
        transcriptUrl: extra.transcripts?.[0]?.url ?? null,
        status:
          r.status === 'skipped'
            ? 'skipped'
            : r.workflow_status === 'dead'
              ? 'failed'
              : r.workflow_status === 'cancelled'
                ? 'cancelled'
                : r.workflow_status === 'waiting'
                  ? 'waiting'
                  : r.status,
        waitingFor: r.workflow_status === 'waiting' ? r.waiting_what : null,
        notes: r.notes ? (JSON.parse(r.notes) as string[]) : [],
        hasTranscript: r.has_transcript === 1,
        understood: r.understood === 1,
      };
    });
  }
}

function errorText(reason: unknown): string {
  return reason instanceof Error ? reason.message : String(reason);
}

function parseBacklogSafe(spec: string) {
  try {
    return parseBacklog(spec);
  } catch {
    return parseBacklog(DEFAULT_BACKLOG);
  }
}
