import type { Statement } from 'better-sqlite3';
import type { Db } from '../store/db.ts';

/**
 * One embedding model's stored vectors of recently searched episodes, packed per episode into
 * one Float32Array, for the exact nearest-neighbour search over a filtered set (one show, a few
 * weeks, the episodes that mention an entity).
 *
 * Why: reading the 4,000 blobs of one show from SQLite (a Buffer per row) cost 10–20 ms per
 * search, several times the dot products themselves; over packed, contiguous floats the whole
 * comparison takes under 2 ms (bench:search, 384-d, a 2-core x64 box).
 *
 * Memory: holding every vector (200,000 × 384-d = 300 MB, beside the graph's own copy) would
 * cost more than it saves, so this holds only the episodes searched recently, least recently
 * used out first, within `maxBytes` (default 64 MiB: 43,000 vectors at 384-d, the 20,000 an
 * exact comparison may cover even at 768-d). A filtered set larger than that is still compared
 * exactly, its episodes read from the store again on later searches.
 *
 * Staleness: the stored embeddings are the truth. Each search passes, for every episode it
 * keeps, the count and the highest id of its chunks, read in the same query that applies the
 * filter; chunk ids are never reused (AUTOINCREMENT), so re-indexing an episode (its chunks
 * deleted and inserted again) or deleting some of its chunks changes that pair, and the episode
 * is read again. Embeddings added to chunks that stay are caught by chunk_embeddings ids (they
 * only grow): each search drops the episodes that gained rows since the last one (rows go only
 * with their chunks, ON DELETE CASCADE). A deleted episode is no longer kept by any filter; its
 * entry just ages out.
 */

/** One episode a filter keeps, as the store has it now. */
export interface EpisodeScope {
  episodeId: number;
  /** Its chunks (with or without a vector of this model). */
  chunks: number;
  /** The highest id among them (0 when it has none). */
  maxChunkId: number;
}

interface Entry {
  chunks: number;
  maxChunkId: number;
  /** Chunk ids, one per vector. */
  ids: Float64Array;
  /** ids.length vectors, `stride` floats apart (`dims` floats, then zeros). */
  vectors: Float32Array;
}

const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;

export class EpisodeVectorCache {
  readonly modelId: string;
  readonly dims: number;
  private readonly stride: number;
  private readonly db: Db;
  private readonly maxBytes: number;
  /** Insertion order is recency: the first entry is the least recently used. */
  private readonly entries = new Map<number, Entry>();
  private bytes = 0;
  /** Highest chunk_embeddings id of this model seen at the last search. */
  private seenEmbeddingId = 0;
  private statements: { load: Statement; maxId: Statement; changed: Statement } | null = null;

  constructor(db: Db, modelId: string, dims: number, maxBytes = DEFAULT_MAX_BYTES) {
    this.db = db;
    this.modelId = modelId;
    this.dims = dims;
    this.stride = Math.ceil(dims / 4) * 4;
    this.maxBytes = maxBytes;
  }

  private get sql(): { load: Statement; maxId: Statement; changed: Statement } {
    this.statements ??= {
      load: this.db
        .prepare(
          `SELECT c.episode_id, x.chunk_id, x.vector FROM json_each(?) j
           CROSS JOIN chunks c ON c.episode_id = j.value
           CROSS JOIN chunk_embeddings x ON x.chunk_id = c.id AND x.model_id = ?`,
        )
        .raw(),
      maxId: this.db.prepare('SELECT max(id) FROM chunk_embeddings WHERE model_id = ?').pluck(),
      changed: this.db
        .prepare(
          `SELECT DISTINCT c.episode_id FROM chunk_embeddings x JOIN chunks c ON c.id = x.chunk_id
           WHERE x.model_id = ? AND x.id > ?`,
        )
        .pluck(),
    };
    return this.statements;
  }

  /** Vectors held now (tests, diagnostics). */
  get size(): { episodes: number; vectors: number; bytes: number } {
    let vectors = 0;
    for (const e of this.entries.values()) vectors += e.ids.length;
    return { episodes: this.entries.size, vectors, bytes: this.bytes };
  }

  /**
   * The `k` chunks of these episodes whose vectors have the highest inner product with `qv`
   * (cosine for the unit vectors the embedder stores), best first; ties keep the store's order.
   * Vectors of another length than `dims` are skipped.
   */
  nearest(qv: Float32Array, episodes: readonly EpisodeScope[], k: number): number[] {
    if (qv.length !== this.dims || k <= 0) return [];
    this.dropChangedEmbeddings();
    const entries = episodes.map((ep) => this.held(ep));
    const missing = episodes.filter((ep, i) => !entries[i] && ep.chunks > 0);
    if (missing.length > 0) {
      const loaded = this.load(missing);
      episodes.forEach((ep, i) => (entries[i] ??= loaded.get(ep.episodeId)));
    }
    // Vectors lie `stride` floats apart, padded with zeros to a multiple of four: the loop
    // below then has no remainder loop, and ran a quarter faster for it (V8, 384-d).
    const stride = this.stride;
    let q = qv;
    if (stride !== this.dims) {
      q = new Float32Array(stride);
      q.set(qv);
    }
    const topS = new Float64Array(k);
    const topId = new Float64Array(k);
    let n = 0;
    for (const entry of entries) {
      if (!entry) continue;
      const { ids, vectors } = entry;
      for (let i = 0, o = 0; i < ids.length; i++, o += stride) {
        // Four sums: independent additions the CPU overlaps (15% faster than one sum).
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        for (let d = 0, a = o; d < stride; d += 4, a += 4) {
          s0 += vectors[a]! * q[d]!;
          s1 += vectors[a + 1]! * q[d + 1]!;
          s2 += vectors[a + 2]! * q[d + 2]!;
          s3 += vectors[a + 3]! * q[d + 3]!;
        }
        const s = s0 + s1 + s2 + s3;
        if (n === k && s <= topS[k - 1]!) continue;
        // Insert into the sorted top k (after equal scores: the earlier one stays first).
        let j = n < k ? n++ : k - 1;
        while (j > 0 && topS[j - 1]! < s) {
          topS[j] = topS[j - 1]!;
          topId[j] = topId[j - 1]!;
          j--;
        }
        topS[j] = s;
        topId[j] = ids[i]!;
      }
    }
    return Array.from(topId.subarray(0, n));
  }

  /** The episode's held vectors while they are current (now the most recently used), else undefined. */
  private held(ep: EpisodeScope): Entry | undefined {
    const held = this.entries.get(ep.episodeId);
    if (!held) return undefined;
    this.forget(ep.episodeId);
    if (held.chunks !== ep.chunks || held.maxChunkId !== ep.maxChunkId) return undefined;
    this.keep(ep.episodeId, held);
    return held;
  }

  /**
   * Read these episodes' vectors from the store in one query (a statement per episode cost half
   * as much again) and hold them, least recently used ones out while over the budget.
   */
  private load(episodes: readonly EpisodeScope[]): Map<number, Entry> {
    const rows = this.sql.load.all(JSON.stringify(episodes.map((e) => e.episodeId)), this.modelId) as [
      number,
      number,
      Buffer,
    ][];
    const width = this.dims * 4;
    const count = new Map<number, number>();
    for (const [episodeId, , blob] of rows)
      if (blob.byteLength === width) count.set(episodeId, (count.get(episodeId) ?? 0) + 1);
    const out = new Map<number, Entry & { filled: number }>();
    for (const ep of episodes) {
      const n = count.get(ep.episodeId) ?? 0;
      const entry = {
        chunks: ep.chunks,
        maxChunkId: ep.maxChunkId,
        ids: new Float64Array(n),
        vectors: new Float32Array(n * this.stride),
        filled: 0,
      };
      out.set(ep.episodeId, entry);
    }
    for (const [episodeId, id, blob] of rows) {
      const entry = out.get(episodeId);
      if (!entry || blob.byteLength !== width) continue;
      entry.ids[entry.filled] = id;
      new Uint8Array(entry.vectors.buffer, entry.filled * this.stride * 4, width).set(blob);
      entry.filled++;
    }
    for (const [episodeId, { chunks, maxChunkId, ids, vectors }] of out)
      this.keep(episodeId, { chunks, maxChunkId, ids, vectors });
    return out;
  }

  private keep(episodeId: number, entry: Entry): void {
    this.forget(episodeId);
    const size = entry.vectors.byteLength + entry.ids.byteLength;
    if (size > this.maxBytes) return;
    this.entries.set(episodeId, entry);
    this.bytes += size;
    for (const [id] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.forget(id);
    }
  }

  private forget(episodeId: number): void {
    const held = this.entries.get(episodeId);
    if (!held) return;
    this.entries.delete(episodeId);
    this.bytes -= held.vectors.byteLength + held.ids.byteLength;
  }

  /** Forget the episodes whose chunks gained vectors of this model since the last search. */
  private dropChangedEmbeddings(): void {
    const maxId = (this.sql.maxId.get(this.modelId) as number | null) ?? 0;
    if (maxId > this.seenEmbeddingId && this.entries.size > 0) {
      const changed = this.sql.changed.all(this.modelId, this.seenEmbeddingId) as number[];
      for (const id of changed) this.forget(id);
    }
    this.seenEmbeddingId = Math.max(this.seenEmbeddingId, maxId);
  }
}
