import type { Db } from '../store/db.ts';
import { activeModel } from '../../models/manager.ts';
import { loadEmbedder, type Embedder } from './embed.ts';
import { VectorIndex, type VectorIndexOptions } from './vector-index.ts';
import { EpisodeVectorCache, type EpisodeScope } from './vector-cache.ts';
import type { ChunkKind } from './store.ts';
import type { SearchHitView, SearchView } from '../api/contract.ts';
import { normalizeName } from '../understand/names.ts';

/**
 * Hybrid search over the library: SQLite FTS5 (BM25) over transcript chunks, titles, show notes
 * and insights, and the embedding model's nearest neighbours (hnswlib), fused by reciprocal rank
 * fusion — each list contributes 1 / (RRF_K + rank), so a passage found both by its words and by
 * its meaning rises to the top without the two scores having to be comparable. Without an
 * active embedding model the search is keyword-only and the result says so.
 */

export interface SearchOptions {
  /** Hits returned. Default 20, at most 200. */
  limit?: number;
  /** Only this show's episodes. */
  feedId?: number;
  /** Only episodes published at or after this time (ms since the epoch). */
  from?: number;
  /** Only episodes published before this time (ms since the epoch). */
  to?: number;
  /** Only episodes that mention this entity (its name or id in the knowledge graph). */
  entity?: string;
}

export type SearchHit = SearchHitView;
export type SearchResult = SearchView;

/** Added to the score of a title the query is exactly: more than fusion can give anything (2 / 61). */
const EXACT_TITLE_BONUS = 1;

/** A title or query as compared for an exact match: case, punctuation and spacing aside. */
export function titleKey(text: string): string {
  return (text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).join(' ');
}

/** Reciprocal rank fusion constant (the customary 60: rank differences deep in a list matter little). */
export const RRF_K = 60;
/** Filtered meaning searches over at most this many chunks compare every vector exactly. */
const EXACT_LIMIT = 20_000;
/** Candidates taken from each list before fusing. */
const CANDIDATES = 100;
const OPEN = '\u0001';
const CLOSE = '\u0002';

/** The user's words as an FTS5 query: each word quoted (no operator surprises), all required. */
export function ftsQuery(query: string, mode: 'all' | 'any' = 'all'): string | null {
  const words = query.toLowerCase().match(/[\p{L}\p{N}]+(?:['’][\p{L}]+)?/gu) ?? [];
  if (words.length === 0) return null;
  return words.map((w) => `"${w.replace(/"/g, '""')}"`).join(mode === 'all' ? ' AND ' : ' OR ');
}

/** Cut a passage of about `words` words around the first highlight; return it with highlight offsets. */
export function makeSnippet(marked: string, words = 40): { snippet: string; highlights: [number, number][] } {
  const tokens = marked.replace(/\s+/g, ' ').trim().split(' ');
  const first = Math.max(
    0,
    tokens.findIndex((t) => t.includes(OPEN)),
  );
  const start = Math.max(0, Math.min(first - Math.floor(words / 4), tokens.length - words));
  const end = Math.min(tokens.length, start + words);
  let text = tokens.slice(start, end).join(' ');
  // A cut inside a highlight: close or drop the dangling marks.
  const opens = text.split(OPEN).length - 1;
  const closes = text.split(CLOSE).length - 1;
  if (opens > closes) text += CLOSE;
  if (closes > opens) text = OPEN + text;
  if (start > 0) text = `… ${text}`;
  if (end < tokens.length) text = `${text} …`;
  const highlights: [number, number][] = [];
  let out = '';
  let openAt = -1;
  for (const ch of text) {
    if (ch === OPEN) openAt = out.length;
    else if (ch === CLOSE) {
      if (openAt >= 0 && out.length > openAt) highlights.push([openAt, out.length]);
      openAt = -1;
    } else out += ch;
  }
  return { snippet: out, highlights };
}

interface ChunkRow {
  id: number;
  episode_id: number;
  kind: ChunkKind;
  text: string;
  start_ms: number | null;
  end_ms: number | null;
  title: string | null;
  feed_id: number | null;
  feed_title: string | null;
  published_at: number | null;
}

function tableExists(db: Db, name: string): boolean {
  return db.prepare(`SELECT 1 FROM sqlite_master WHERE name = ?`).get(name) !== undefined;
}

/**
 * SQL (and its parameters) selecting the episodes that mention an entity, against the knowledge
 * graph the understand step projects (migration 10: entities, entity_aliases, entity_mentions).
 * The entity is matched by id, by name (any case), by any alias under the graph's own name
 * normalization ("Dr. Sarah Chen" = "sarah chen"), or by a name an episode used for it. Null
 * when this library has no graph tables.
 */
function entityEpisodesSql(db: Db, entity: string): { sql: string; params: unknown[] } | null {
  if (!['entities', 'entity_aliases', 'entity_mentions'].every((t) => tableExists(db, t))) return null;
  const norm = normalizeName(entity);
  return {
    // The names episodes used count too: a merge by meaning (entity-match.ts) leaves no alias.
    sql: `SELECT m.episode_id FROM entity_mentions m WHERE m.entity_id IN (
            SELECT id FROM entities WHERE CAST(id AS TEXT) = ? OR lower(name) = lower(?) OR norm = ?
            UNION SELECT entity_id FROM entity_aliases WHERE norm = ?
            UNION SELECT entity_id FROM entity_mentions WHERE lower(name) = lower(?))`,
    params: [entity.trim(), entity.trim(), norm, norm, entity.trim()],
  };
}

/** A hit and where in its episode it is (Searcher.search groups hits by moment). */
interface Moment {
  /** Its place in the fused ranking (0 is best). */
  rank: number;
  hit: SearchHit;
  row: ChunkRow;
  /** When the first matched word is said (ms), or the passage's start; null without times. */
  moment: number | null;
}

/** A passage found by its words plays from this long before the first of them. */
const LEAD_IN_MS = 1000;

/** Moments closer than this are one (two overlapping chunks matching the same words). */
const SAME_MOMENT_MS = 10_000;

/** The time of a chunk's first highlighted word, interpolated by its place in the text. */
function momentOf(row: ChunkRow, marked: string | undefined): number | null {
  if (row.start_ms === null) return null;
  if (row.kind !== 'transcript' || !marked) return row.start_ms;
  const at = marked.indexOf(OPEN);
  if (at < 0 || row.end_ms === null) return row.start_ms;
  const length = Math.max(1, marked.split(OPEN).join('').split(CLOSE).join('').length);
  return Math.round(row.start_ms + (at / length) * (row.end_ms - row.start_ms));
}

/**
 * Hits grouped by episode and moment, best first. Transcript chunks whose first matched words
 * are within SAME_MOMENT_MS are one passage (chunks overlap by a few sentences); an insight whose
 * quote's time is inside a matched passage joins it, as do insights quoting the same moment.
 * Titles and show notes have no moment and stand alone. A group is shown by its passage when the
 * passage matched the query's words (its highlights), else by its best-ranked member; `kinds`
 * lists every source, the shown one first, and `matchedBy` every way any member was found.
 * Hits are added in rank order, so the search reads only the rows it shows (and the few that join them).
 */
export class MomentGroups {
  readonly groups: Moment[][] = [];

  /** Add a hit: to the group of its moment, or as a group of its own. */
  add(f: Moment): void {
    const ep = f.row.episode_id;
    const passage = (x: Moment, m: number) =>
      x.row.kind === 'transcript' && m >= x.row.start_ms! && m <= (x.row.end_ms ?? x.row.start_ms!);
    if (f.moment === null || (f.row.kind !== 'transcript' && f.row.kind !== 'insight')) {
      this.groups.push([f]);
      return;
    }
    const m = f.moment;
    const home =
      f.row.kind === 'transcript'
        ? this.groups.find(
            (g) =>
              g[0]!.row.episode_id === ep &&
              g.some((x) => x.row.kind === 'transcript' && Math.abs(x.moment! - m) <= SAME_MOMENT_MS),
          )
        : this.groups.find(
            (g) =>
              g[0]!.row.episode_id === ep &&
              g.some((x) => passage(x, m) || (x.row.kind === 'insight' && x.moment === m)),
          );
    const target = home ?? [];
    target.push(f);
    if (!home) this.groups.push(target);
    // A passage takes in the insights already found at a moment inside it.
    if (f.row.kind === 'transcript')
      for (let i = this.groups.length - 1; i >= 0; i--) {
        const g = this.groups[i]!;
        if (g === target || g[0]!.row.episode_id !== ep) continue;
        if (g.every((x) => x.row.kind === 'insight' && x.moment !== null && passage(f, x.moment))) {
          target.push(...g);
          this.groups.splice(i, 1);
        }
      }
  }

  /** The groups as hits, best first. */
  hits(): SearchHit[] {
    return this.groups
      .map((g) => {
        g.sort((x, y) => x.rank - y.rank);
        const shown = g.find((x) => x.row.kind === 'transcript' && x.hit.highlights.length > 0) ?? g[0]!;
        const kinds = [...new Set([shown.row.kind, ...g.map((x) => x.row.kind)])];
        const matchedBy = [...new Set(g.flatMap((x) => x.hit.matchedBy))];
        return { rank: g[0]!.rank, hit: { ...shown.hit, kinds, matchedBy, score: g[0]!.hit.score } };
      })
      .sort((x, y) => x.rank - y.rank)
      .map((x) => x.hit);
  }
}

export interface SearcherOptions {
  db: Db;
  dataDir: string;
  env?: NodeJS.ProcessEnv;
  /** Threads for embedding the query. Default 1 (one short text). */
  threads?: number;
  /** Use this embedder instead of the active model (benchmarks). Default: the active embedding model. */
  embedder?: Embedder;
  /** Filtered meaning searches over at most this many chunks compare vectors exactly. Default 20,000. */
  exactLimit?: number;
  /** Vector index options (benchmarks). Default: VectorIndex's. */
  index?: VectorIndexOptions;
  /** Memory for the packed vectors of recently searched episodes (filtered searches). Default 64 MiB. */
  vectorCacheBytes?: number;
}

/** What a filter keeps (Searcher.scope). */
type Scope = { large: true } | { large: false; episodes: EpisodeScope[] };

/**
 * Search over one library. Keeps the query embedder and the vector index loaded between
 * searches (the desktop app and `earshot serve` reuse one); each search first adds to the index
 * whatever the index step stored since.
 */
export class Searcher {
  private readonly options: SearcherOptions;
  private index: VectorIndex | null = null;
  private vectors: EpisodeVectorCache | null = null;

  constructor(options: SearcherOptions) {
    this.options = options;
  }

  private get db(): Db {
    return this.options.db;
  }

  private async meaning(): Promise<{ embedder: Embedder; index: VectorIndex } | { note: string }> {
    const given = this.options.embedder;
    if (given) {
      if (!this.index) {
        this.index = new VectorIndex(this.db, this.options.dataDir, given.modelId, this.options.index);
      }
      this.index.sync();
      return { embedder: given, index: this.index };
    }
    let model;
    try {
      model = activeModel('embedding', { dataDir: this.options.dataDir, db: this.db, env: this.options.env });
    } catch (err) {
      return { note: `Searched by words only: ${(err as Error).message}` };
    }
    if (!model)
      return {
        note: 'Searched by words only: no embedding model is installed, so passages are not matched by meaning. Import one with `earshot models import FOLDER`, choose it with `earshot models use ID`, then process your episodes again.',
      };
    const stored = this.db.prepare('SELECT 1 FROM chunk_embeddings WHERE model_id = ? LIMIT 1').get(model.id);
    if (!stored)
      return {
        note: `Searched by words only: no episode has been indexed with the embedding model ${model.id} yet (\`earshot process --all\` indexes them).`,
      };
    const embedder = await loadEmbedder(model.id, model.path, { threads: this.options.threads ?? 1 });
    if (!this.index || this.index.modelId !== model.id)
      this.index = new VectorIndex(this.db, this.options.dataDir, model.id, this.options.index);
    this.index.sync();
    return { embedder, index: this.index };
  }

  /**
   * What a filter keeps: its episodes with their chunk counts and highest chunk ids (how the
   * vector cache knows an episode changed) — or, past `exactLimit` chunks, only that it is large.
   */
  private scope(filterSql: string, params: unknown[]): Scope {
    const rows = this.db
      .prepare(
        `SELECT e.id, (SELECT count(*) FROM chunks c WHERE c.episode_id = e.id),
                (SELECT max(c.id) FROM chunks c WHERE c.episode_id = e.id)
         FROM episodes e WHERE 1${filterSql} ORDER BY e.id`,
      )
      .raw()
      .all(...params) as [number, number, number | null][];
    const episodes: EpisodeScope[] = [];
    let chunks = 0;
    for (const [episodeId, n, maxChunkId] of rows) {
      if (n === 0) continue;
      episodes.push({ episodeId, chunks: n, maxChunkId: maxChunkId ?? 0 });
      chunks += n;
    }
    return chunks > (this.options.exactLimit ?? EXACT_LIMIT) ? { large: true } : { large: false, episodes };
  }

  /**
   * Nearest chunks among those a filter keeps. A small set (one show, a few weeks) is compared
   * exactly, over the episodes' packed vectors (EpisodeVectorCache) — a graph search that may
   * only visit a few per cent of its nodes wanders far and can miss; a large one uses the graph
   * with the filter.
   */
  private filteredNearest(
    index: VectorIndex,
    qv: Float32Array,
    scope: Scope,
    filterSql: string,
    params: unknown[],
  ): number[] {
    if (scope.large) {
      const keep = new Set(
        this.db
          .prepare(
            `SELECT c.id FROM episodes e CROSS JOIN chunks c ON c.episode_id = e.id WHERE 1${filterSql}`,
          )
          .pluck()
          .all(...params) as number[],
      );
      return index.search(qv, CANDIDATES, (id) => keep.has(id)).map((h) => h.chunkId);
    }
    if (this.vectors?.modelId !== index.modelId || this.vectors.dims !== qv.length)
      this.vectors = new EpisodeVectorCache(this.db, index.modelId, qv.length, this.options.vectorCacheBytes);
    return this.vectors.nearest(qv, scope.episodes, CANDIDATES);
  }

  /**
   * The BM25 list under a filter. A small filter: its chunk ids, listed once per query, are
   * tested against each match (the unary + keeps SQLite from handing FTS5 one rowid lookup per
   * id), so only the kept matches are scored — joining every match to its chunk and episode
   * cost 1.5 µs a match, and a common word has thousands (up to 40 ms). A large filter: that
   * join, cheaper than listing its chunks.
   */
  private filteredKeyword(q: string, scope: Scope, filterSql: string, params: unknown[]): number[] {
    return this.db
      .prepare(
        scope.large
          ? `SELECT c.id FROM chunks_fts JOIN chunks c ON c.id = chunks_fts.rowid JOIN episodes e ON e.id = c.episode_id
             WHERE chunks_fts MATCH ?${filterSql}
             ORDER BY bm25(chunks_fts) LIMIT ${CANDIDATES}`
          : `SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH ? AND +rowid IN (
               SELECT c.id FROM episodes e CROSS JOIN chunks c ON c.episode_id = e.id WHERE 1${filterSql})
             ORDER BY bm25(chunks_fts) LIMIT ${CANDIDATES}`,
      )
      .pluck()
      .all(q, ...params) as number[];
  }

  /**
   * Title chunks (of the episodes the filter keeps) whose text is the query itself, found by an
   * FTS5 phrase query and then compared whole. Queries longer than any title skip it.
   */
  private exactTitles(query: string, filterSql: string, params: unknown[]): number[] {
    const key = titleKey(query);
    const words = key.split(' ').filter(Boolean);
    if (words.length === 0 || words.length > 30) return [];
    const rows = this.db
      .prepare(
        `SELECT c.id, c.text FROM chunks_fts JOIN chunks c ON c.id = chunks_fts.rowid JOIN episodes e ON e.id = c.episode_id
         WHERE chunks_fts MATCH ? AND c.kind = 'title'${filterSql} LIMIT 200`,
      )
      .all(`"${words.join(' ').replace(/"/g, '""')}"`, ...params) as { id: number; text: string }[];
    return rows.filter((r) => titleKey(r.text) === key).map((r) => r.id);
  }

  async search(query: string, options: SearchOptions = {}): Promise<SearchResult> {
    const limit = Math.min(200, options.limit ?? 20);
    const where: string[] = [];
    const params: unknown[] = [];
    let note: string | null = null;
    if (options.feedId !== undefined) {
      where.push('e.feed_id = ?');
      params.push(options.feedId);
    }
    if (options.from !== undefined) {
      where.push('e.published_at >= ?');
      params.push(options.from);
    }
    if (options.to !== undefined) {
      where.push('e.published_at < ?');
      params.push(options.to);
    }
    if (options.entity !== undefined) {
      const ent = entityEpisodesSql(this.db, options.entity);
      if (ent) {
        where.push(`e.id IN (${ent.sql})`);
        params.push(...ent.params);
        // Say why nothing came back, rather than an empty list that looks like "no such words".
        if (
          !this.db
            .prepare(`SELECT EXISTS (${ent.sql})`)
            .pluck()
            .get(...ent.params)
        )
          note = `No episode mentions "${options.entity.trim()}": \`earshot entities\` lists the people, organizations, places and topics this library knows.`;
      } else note = 'The entity filter was not applied: this library has no knowledge graph yet.';
    }
    const filterSql = where.length ? ` AND ${where.join(' AND ')}` : '';

    // The query's vector first: from here on the search reads the store without yielding, so
    // both lists (and the rows) see the same library.
    const m = query.trim() ? await this.meaning() : { note: null };
    let modelId: string | null = null;
    let qv: Float32Array | null = null;
    if ('note' in m) note = [note, m.note].filter(Boolean).join(' ') || null;
    else {
      modelId = m.embedder.modelId;
      [qv = null] = await m.embedder.embed([query]);
    }
    const scope = where.length ? this.scope(filterSql, params) : null;

    // Keyword list: all words first; when nothing has them all, any of them.
    let keyword: number[] = [];
    let matched: string | null = null;
    for (const mode of ['all', 'any'] as const) {
      const q = ftsQuery(query, mode);
      if (!q) break;
      // Unfiltered, FTS5 ranks by itself (ORDER BY rank stops early).
      keyword = scope
        ? this.filteredKeyword(q, scope, filterSql, params)
        : (this.db
            .prepare(
              `SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH ? ORDER BY rank LIMIT ${CANDIDATES}`,
            )
            .pluck()
            .all(q) as number[]);
      matched = q;
      if (keyword.length > 0) break;
    }

    // Meaning list.
    let vector: number[] = [];
    if ('index' in m && qv && !qv.every((x) => x === 0))
      vector = scope
        ? this.filteredNearest(m.index, qv, scope, filterSql, params)
        : m.index.search(qv, CANDIDATES).map((h) => h.chunkId);

    const scores = new Map<number, { score: number; by: Set<'keyword' | 'meaning'> }>();
    const add = (ids: number[], by: 'keyword' | 'meaning') =>
      ids.forEach((id, rank) => {
        const s = scores.get(id) ?? { score: 0, by: new Set() };
        s.score += 1 / (RRF_K + rank + 1);
        s.by.add(by);
        scores.set(id, s);
      });
    add(keyword, 'keyword');
    add(vector, 'meaning');
    // The query is an episode's very title: that episode first, whatever the lists said.
    for (const id of this.exactTitles(query, filterSql, params)) {
      const s = scores.get(id) ?? { score: 0, by: new Set() };
      s.score += EXACT_TITLE_BONUS;
      s.by.add('keyword');
      scores.set(id, s);
    }
    // Highlights only for the hits returned (highlight() re-reads and re-tokenizes the text).
    // CAST: FTS5 ignores `rowid = ?` beside MATCH when the bound value is a REAL (as a JS number
    // is bound), and every hit would get the first matching chunk's text.
    const highlight = this.db
      .prepare(
        `SELECT highlight(chunks_fts, 0, '${OPEN}', '${CLOSE}') FROM chunks_fts WHERE chunks_fts MATCH ? AND rowid = CAST(? AS INTEGER)`,
      )
      .pluck();
    const ranked = [...scores.entries()].sort((a, b) => b[1].score - a[1].score);
    const rowOf = this.db.prepare(
      `SELECT c.id, c.episode_id, c.kind, c.text, c.start_ms, c.end_ms, e.title, e.feed_id, e.published_at,
              f.title AS feed_title
       FROM chunks c JOIN episodes e ON e.id = c.episode_id LEFT JOIN feeds f ON f.id = e.feed_id
       WHERE c.id = ?`,
    );
    // One hit per episode and moment: an insight whose quote is in a transcript passage that also
    // matched, or two overlapping transcript chunks that matched the same words, are one hit.
    const groups = new MomentGroups();
    let rank = 0;
    for (const [id, s] of ranked) {
      // Rows are read (and highlighted) only until there are `limit` hits.
      if (groups.groups.length >= limit) break;
      // A vector label whose chunk is gone (re-indexed or removed since) is skipped.
      const row = rowOf.get(id) as ChunkRow | undefined;
      if (!row) continue;
      const marked = matched ? (highlight.get(matched, id) as string | undefined) : undefined;
      const { snippet, highlights } = makeSnippet(marked ?? row.text);
      const moment = momentOf(row, marked);
      // A passage found by its words plays from just before them, not from the chunk's start.
      const playFrom =
        row.kind === 'transcript' && moment !== null && highlights.length > 0
          ? Math.max(row.start_ms!, moment - LEAD_IN_MS)
          : row.start_ms;
      groups.add({
        rank: rank++,
        row,
        moment,
        hit: {
          chunkId: row.id,
          episodeId: row.episode_id,
          episodeTitle: row.title,
          feedId: row.feed_id,
          feedTitle: row.feed_title,
          publishedAt: row.published_at,
          kind: row.kind,
          kinds: [row.kind],
          snippet,
          highlights,
          startMs: playFrom,
          endMs: row.end_ms,
          matchedBy: [...s.by],
          score: Number(s.score.toFixed(6)),
        },
      });
    }
    const hits = groups.hits();
    return { query, mode: modelId ? 'hybrid' : 'keyword', note, modelId, hits };
  }
}

/**
 * A date filter as ms since the epoch. A bare YYYY-MM-DD means that day (UTC): as `from` its
 * start, as `to` the start of the next day (the filter's upper bound is exclusive).
 */
export function searchDate(value: string | number, edge: 'from' | 'to'): number {
  if (typeof value === 'number') return edge === 'to' ? value + 1 : value;
  const ms = Date.parse(value);
  if (/^\d{4}-\d{2}-\d{2}$/.test(value.trim()) && edge === 'to') return ms + 86_400_000;
  return edge === 'to' ? ms + 1 : ms;
}
