import type { Db } from '../store/db.ts';
import type { EpisodeUnderstandingView } from '../api/contract.ts';
import { normalizeName } from '../understand/names.ts';

/**
 * How alike two episodes are, for grouping them into stories: by meaning (the embedding model's
 * vectors of their transcript chunks) or by the names and words they share.
 */

/** Centered cosine of episode vectors at or above which two stories may merge (average linkage). */
export const EMBEDDING_THRESHOLD = 0.35;
/** Cosine of name-and-word vectors at or above which two stories may merge. */
export const KEYWORD_THRESHOLD = 0.2;
/** Episodes needed to center vectors on (the window and recent ones before it). */
export const MIN_CENTERING_SAMPLE = 6;
/** Episodes before the window that join the centering sample. */
const CENTERING_EXTRA = 100;

/** An entity as one episode names it (its canonical entity, the name it used, its role there). */
export type MentionedEntity = Pick<
  EpisodeUnderstandingView['entities'][number],
  'canonicalId' | 'name' | 'type' | 'role' | 'mentionCount'
>;

export interface FeatureEpisode {
  episodeId: number;
  feedId: number | null;
  title: string | null;
  entities: MentionedEntity[];
}

/**
 * The entities each episode names, from the library's mentions table (what the understand
 * step's commit recorded for `show` and `entities`), read for the whole window in one query:
 * grouping needs them for every episode; the rest of an episode's understanding is read only for
 * the stories shown.
 */
export function windowMentions(db: Db, episodeIds: number[]): Map<number, MentionedEntity[]> {
  const out = new Map<number, MentionedEntity[]>(episodeIds.map((id) => [id, []]));
  const rows = db
    .prepare(
      `SELECT m.episode_id, m.entity_id, m.name, m.role, m.mentions, en.type
         FROM json_each(?) j
         CROSS JOIN entity_mentions m ON m.episode_id = j.value
         JOIN entities en ON en.id = m.entity_id`,
    )
    .raw()
    .all(JSON.stringify(episodeIds)) as [
    number,
    number,
    string,
    MentionedEntity['role'],
    number,
    MentionedEntity['type'],
  ][];
  for (const [episodeId, entityId, name, role, mentions, type] of rows)
    out.get(episodeId)?.push({ canonicalId: entityId, name, type, role, mentionCount: mentions });
  return out;
}

/** Words too common in titles and names to say what an episode is about. */
const STOP = new Set(
  (
    'the and for with from this that what how why are was were our you your its into about after over ' +
    'new episode part show week today one two more less who when where will not but all can just ' +
    'his her their they them has have had been being does did more most some any than then there'
  ).split(' '),
);

function words(text: string): string[] {
  const out: string[] = [];
  for (const m of text.toLowerCase().matchAll(/[\p{L}\p{N}]+/gu)) {
    let w = m[0].normalize('NFKD').replace(/\p{M}/gu, '');
    if (w.length < 3 || STOP.has(w) || /^\d+$/.test(w)) continue;
    // "rates" and "rate", "rocks" and "rock" are one word here.
    if (w.length > 4 && w.endsWith('s') && !w.endsWith('ss')) w = w.slice(0, -1);
    out.push(w);
  }
  return out;
}

/**
 * People who are on a show every week (its hosts, and guests of two or more of its episodes)
 * say nothing about what one episode is about: "<feed>:<entity>" pairs, for the given shows.
 */
export function regulars(db: Db, feedIds: number[]): Set<string> {
  if (feedIds.length === 0) return new Set();
  const rows = db
    .prepare(
      `SELECT e.feed_id, m.entity_id FROM json_each(?) f
         CROSS JOIN episodes e ON e.feed_id = f.value
         CROSS JOIN entity_mentions m ON m.episode_id = e.id
        WHERE m.role IN ('host', 'guest')
        GROUP BY e.feed_id, m.entity_id
       HAVING sum(m.role = 'host') > 0 OR count(*) >= 2`,
    )
    .all(JSON.stringify(feedIds)) as { feed_id: number; entity_id: number }[];
  return new Set(rows.map((r) => `${r.feed_id}:${r.entity_id}`));
}

/** Whether an episode's entity tells what the episode is about (not its host or a regular). */
export function isTopical(e: MentionedEntity, feedId: number | null, regular: Set<string>): boolean {
  if (e.role === 'host') return false;
  return !(e.canonicalId !== null && feedId !== null && regular.has(`${feedId}:${e.canonicalId}`));
}

/** The key a name is compared by: its normalized form, whatever type each episode gave it. */
export const nameKey = (name: string): string => normalizeName(name);

/**
 * Sparse tf-idf vectors of each episode's names (its people, organizations, places and topics:
 * weight 1) and the words of those names and of its title (weight 0.5), unit length; then the
 * cosine of every pair, through an inverted index (only pairs that share something).
 */
export function keywordSimilarity(episodes: FeatureEpisode[], regular: Set<string>): Float32Array {
  const n = episodes.length;
  const vectors = episodes.map((ep) => {
    const v = new Map<string, number>();
    const add = (key: string, w: number) => v.set(key, (v.get(key) ?? 0) + w);
    for (const e of ep.entities) {
      if (!isTopical(e, ep.feedId, regular)) continue;
      const key = nameKey(e.name);
      if (!key) continue;
      add(`n:${key}`, 1 + Math.log(Math.max(1, e.mentionCount)));
      for (const w of words(e.name)) add(`w:${w}`, 0.5);
    }
    for (const w of words(ep.title ?? '')) add(`w:${w}`, 0.5);
    return v;
  });
  const df = new Map<string, number>();
  for (const v of vectors) for (const k of v.keys()) df.set(k, (df.get(k) ?? 0) + 1);
  const postings = new Map<string, { i: number; w: number }[]>();
  vectors.forEach((v, i) => {
    let norm = 0;
    const weighted: [string, number][] = [];
    for (const [k, tf] of v) {
      const w = tf * Math.log(1 + n / df.get(k)!);
      weighted.push([k, w]);
      norm += w * w;
    }
    norm = Math.sqrt(norm) || 1;
    for (const [k, w] of weighted) {
      // A name only one episode has cannot make two episodes alike.
      if (df.get(k)! < 2) continue;
      let list = postings.get(k);
      if (!list) postings.set(k, (list = []));
      list.push({ i, w: w / norm });
    }
  });
  const sim = new Float32Array(n * n);
  for (const list of postings.values()) {
    for (let a = 0; a < list.length; a++) {
      const pa = list[a]!;
      for (let b = a + 1; b < list.length; b++) {
        const pb = list[b]!;
        const add = pa.w * pb.w;
        sim[pa.i * n + pb.i]! += add;
        sim[pb.i * n + pa.i]! += add;
      }
    }
  }
  for (let i = 0; i < n; i++) sim[i * n + i] = 1;
  return sim;
}

/**
 * Each episode's mean transcript-chunk vector from `modelId` (unit length), for the given
 * episodes; an episode with no vectors of that model is missing from the map.
 */
export function episodeVectors(db: Db, modelId: string, episodeIds: number[]): Map<number, Float32Array> {
  const sums = new Map<number, Float64Array>();
  const stmt = db
    .prepare(
      `SELECT c.episode_id, x.vector FROM json_each(?) j
         CROSS JOIN chunks c ON c.episode_id = j.value
         CROSS JOIN chunk_embeddings x ON x.chunk_id = c.id AND x.model_id = ?
        WHERE c.kind = 'transcript'`,
    )
    .raw();
  // Stored as little-endian float32 (search/embed.ts); copied into one reused aligned buffer.
  let scratch = new Float32Array(0);
  for (const [episodeId, blob] of stmt.iterate(JSON.stringify(episodeIds), modelId) as Iterable<
    [number, Buffer]
  >) {
    const dims = blob.byteLength >> 2;
    if (scratch.length !== dims) scratch = new Float32Array(dims);
    new Uint8Array(scratch.buffer).set(blob.subarray(0, dims * 4));
    let sum = sums.get(episodeId);
    if (!sum) sums.set(episodeId, (sum = new Float64Array(dims)));
    if (sum.length !== dims) continue;
    for (let k = 0; k < dims; k++) sum[k]! += scratch[k]!;
  }
  const out = new Map<number, Float32Array>();
  for (const [id, sum] of sums) {
    let norm = 0;
    for (const x of sum) norm += x * x;
    norm = Math.sqrt(norm);
    if (norm === 0) continue;
    out.set(
      id,
      Float32Array.from(sum, (x) => x / norm),
    );
  }
  return out;
}

/** Up to CENTERING_EXTRA understood episodes published before `from`, newest first. */
export function centeringExtras(db: Db, from: number, modelId: string): number[] {
  return (
    db
      .prepare(
        `SELECT e.id FROM episodes e
          WHERE e.published_at < ? AND EXISTS (
            SELECT 1 FROM chunks c JOIN chunk_embeddings x ON x.chunk_id = c.id AND x.model_id = ?
             WHERE c.episode_id = e.id)
          ORDER BY e.published_at DESC LIMIT ?`,
      )
      .all(from, modelId, CENTERING_EXTRA) as { id: number }[]
  ).map((r) => r.id);
}

/**
 * Cosine of the episodes' vectors after subtracting the mean vector of `sample` (the window's
 * episodes and recent ones before it): averaged over a whole episode, every vector of one model
 * leans the same way (their raw cosines sit between 0.85 and 1 with word-average models), and
 * centering leaves what sets an episode apart.
 */
export function embeddingSimilarity(vectors: Float32Array[], sample: Float32Array[]): Float32Array {
  const n = vectors.length;
  const dims = vectors[0]?.length ?? 0;
  const mean = new Float64Array(dims);
  for (const v of sample) for (let k = 0; k < dims; k++) mean[k]! += v[k]! / sample.length;
  const centered = new Float32Array(n * dims);
  vectors.forEach((v, i) => {
    let norm = 0;
    for (let k = 0; k < dims; k++) {
      const x = v[k]! - mean[k]!;
      centered[i * dims + k] = x;
      norm += x * x;
    }
    norm = Math.sqrt(norm) || 1;
    for (let k = 0; k < dims; k++) centered[i * dims + k]! /= norm;
  });
  // Tiles of 32×32 episodes (their vectors stay in cache while the tile is computed) and two
  // accumulators: about a quarter less CPU than the plain double loop at 2,000 × 384-d.
  const sim = new Float32Array(n * n);
  const TILE = 32;
  const even = dims - (dims % 2);
  for (let bi = 0; bi < n; bi += TILE)
    for (let bj = bi; bj < n; bj += TILE)
      for (let i = bi; i < Math.min(bi + TILE, n); i++) {
        const oi = i * dims;
        for (let j = Math.max(bj, i + 1); j < Math.min(bj + TILE, n); j++) {
          const oj = j * dims;
          let s0 = 0;
          let s1 = 0;
          for (let k = 0; k < even; k += 2) {
            s0 += centered[oi + k]! * centered[oj + k]!;
            s1 += centered[oi + k + 1]! * centered[oj + k + 1]!;
          }
          if (even < dims) s0 += centered[oi + even]! * centered[oj + even]!;
          const s = s0 + s1;
          sim[i * n + j] = s;
          sim[j * n + i] = s;
        }
      }
  for (let i = 0; i < n; i++) sim[i * n + i] = 1;
  return sim;
}
