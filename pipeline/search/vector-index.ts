import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { HierarchicalNSW as Hnsw } from 'hnswlib-node';

type HnswModule = { HierarchicalNSW: typeof Hnsw };
import type { Db } from '../store/db.ts';
import { blobToVector } from './embed.ts';
import { commitFile } from '../base/artifacts.ts';

/**
 * The approximate-nearest-neighbour index over one embedding model's chunk vectors: hnswlib
 * (inner product over the unit-length vectors the embedder writes, i.e. cosine, without
 * hnswlib normalizing every vector again: a third faster to build), persisted as `<dataDir>/search/<model>.hnsw` beside the library, with
 * `<model>.hnsw.json` recording what it holds (the highest chunk_embeddings id it has seen, its
 * size and SHA-256). Labels are chunk ids (never reused: chunks.id is AUTOINCREMENT), so the
 * id map is the identity and a hit is looked up in the store directly.
 *
 * The stored embeddings are the source of truth; the file is a cache of them:
 * - Whoever searches brings the index up to date first (`sync`): rows added since it was saved
 *   are added in place; a missing, damaged or mismatched file is rebuilt from the store.
 * - Every save is written aside, fsynced and renamed over the old one (index, then meta), so
 *   a crash leaves either the old pair or a pair whose checksum fails (→ rebuilt).
 * - Chunks deleted since (an episode re-indexed or removed) stay in the graph as dead labels
 *   and are dropped from results; when they pass a quarter of the index it is rebuilt.
 */

const requireCjs = createRequire(import.meta.url);

export interface VectorIndexOptions {
  /** Graph degree. Default 16. */
  m?: number;
  /** Candidates while building. Default 64 (recall@10 above 0.95 at 200,000 chunks; see bench:search). */
  efConstruction?: number;
  /** Candidates while searching (at least k). Default 96. */
  efSearch?: number;
  /** Save after a sync that changed the index. Default true. */
  persist?: boolean;
}

interface Meta {
  version: 1;
  modelId: string;
  dims: number;
  /** Highest chunk_embeddings.id in the index. */
  syncedId: number;
  count: number;
  bytes: number;
  sha256: string;
}

export interface SyncResult {
  added: number;
  rebuilt: boolean;
  /** Why it was rebuilt (missing, damaged, stale …), null when it was not. */
  reason: string | null;
  count: number;
}

export function indexPaths(dataDir: string, modelId: string): { index: string; meta: string } {
  const base = path.join(dataDir, 'search', `${encodeURIComponent(modelId)}.hnsw`);
  return { index: base, meta: `${base}.json` };
}

function sha256File(file: string): string {
  const h = createHash('sha256');
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.alloc(1 << 20);
  try {
    for (let n = fs.readSync(fd, buf); n > 0; n = fs.readSync(fd, buf)) h.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}

/** The vector at unit length, as the plain array hnswlib takes (inner product = cosine then). */
function unit(v: Float32Array): number[] {
  let n = 0;
  for (const x of v) n += x * x;
  n = Math.sqrt(n);
  const out = Array.from(v);
  if (n > 0 && Math.abs(n - 1) > 1e-4) for (let i = 0; i < out.length; i++) out[i]! /= n;
  return out;
}

export class VectorIndex {
  readonly modelId: string;
  private readonly db: Db;
  private readonly files: { index: string; meta: string };
  private readonly options: Required<VectorIndexOptions>;
  private hnsw: Hnsw | null = null;
  private meta: Meta | null = null;

  constructor(db: Db, dataDir: string, modelId: string, options: VectorIndexOptions = {}) {
    this.db = db;
    this.modelId = modelId;
    this.files = indexPaths(dataDir, modelId);
    this.options = {
      m: options.m ?? 16,
      efConstruction: options.efConstruction ?? 64,
      efSearch: options.efSearch ?? 96,
      persist: options.persist ?? true,
    };
  }

  /** Candidates while searching from now on (at least k per search). */
  setEfSearch(ef: number): void {
    this.options.efSearch = ef;
  }

  get count(): number {
    return this.hnsw?.getCurrentCount() ?? 0;
  }

  /** Load the saved index when it is sound, add what the store has that it lacks, or rebuild it. */
  sync(): SyncResult {
    let reason: string | null = null;
    if (!this.hnsw) reason = this.load();
    if (reason) return this.rebuild(reason);
    // Every search calls this: the common case (nothing new) is one index probe.
    const maxId =
      (this.db
        .prepare('SELECT max(id) FROM chunk_embeddings WHERE model_id = ?')
        .pluck()
        .get(this.modelId) as number | null) ?? 0;
    const meta = this.meta!;
    // Ids are never reused, so nothing above syncedId means nothing to add (rows may have gone).
    if (maxId <= meta.syncedId) return { added: 0, rebuilt: false, reason: null, count: this.count };
    // New rows usually come with deletions (an episode re-indexed): count the dead labels now.
    const live = this.db
      .prepare('SELECT count(*) FROM chunk_embeddings WHERE model_id = ? AND id <= ?')
      .pluck()
      .get(this.modelId, meta.syncedId) as number;
    const dead = meta.count - live;
    if (dead > Math.max(256, meta.count / 4)) return this.rebuild(`${dead} deleted chunks in the index`);
    const rows = this.db
      .prepare('SELECT id, chunk_id, vector FROM chunk_embeddings WHERE model_id = ? AND id > ? ORDER BY id')
      .all(this.modelId, meta.syncedId) as { id: number; chunk_id: number; vector: Buffer }[];
    const hnsw = this.hnsw!;
    const need = hnsw.getCurrentCount() + rows.length;
    if (need > hnsw.getMaxElements()) hnsw.resizeIndex(Math.ceil(need * 1.5));
    let syncedId = meta.syncedId;
    for (const r of rows) {
      const v = blobToVector(r.vector);
      if (v.length !== meta.dims) return this.rebuild('vectors of another size were stored');
      hnsw.addPoint(unit(v), r.chunk_id);
      syncedId = r.id;
    }
    this.meta = { ...meta, syncedId, count: hnsw.getCurrentCount() };
    if (this.options.persist) this.save();
    return { added: rows.length, rebuilt: false, reason: null, count: this.count };
  }

  /** Build the whole index from the stored embeddings and swap it in. */
  rebuild(reason = 'asked'): SyncResult {
    const { HierarchicalNSW } = requireCjs('hnswlib-node') as HnswModule;
    const stats = this.db
      .prepare(
        'SELECT count(*) AS n, max(id) AS maxId, max(length(vector)) AS bytes FROM chunk_embeddings WHERE model_id = ?',
      )
      .get(this.modelId) as { n: number; maxId: number | null; bytes: number | null };
    const dims = (stats.bytes ?? 0) / 4;
    if (stats.n === 0 || dims === 0) {
      this.hnsw = null;
      this.meta = null;
      for (const f of [this.files.meta, this.files.index]) fs.rmSync(f, { force: true });
      return { added: 0, rebuilt: true, reason, count: 0 };
    }
    const hnsw = new HierarchicalNSW('ip', dims);
    hnsw.initIndex({
      maxElements: Math.max(1024, Math.ceil(stats.n * 1.25)),
      m: this.options.m,
      efConstruction: this.options.efConstruction,
      randomSeed: 100,
    });
    let syncedId = 0;
    for (const r of this.db
      .prepare('SELECT id, chunk_id, vector FROM chunk_embeddings WHERE model_id = ? ORDER BY id')
      .iterate(this.modelId) as IterableIterator<{ id: number; chunk_id: number; vector: Buffer }>) {
      const v = blobToVector(r.vector);
      if (v.length !== dims) continue;
      hnsw.addPoint(unit(v), r.chunk_id);
      syncedId = r.id;
    }
    hnsw.setEf(this.options.efSearch);
    this.hnsw = hnsw;
    this.meta = {
      version: 1,
      modelId: this.modelId,
      dims,
      syncedId,
      count: hnsw.getCurrentCount(),
      bytes: 0,
      sha256: '',
    };
    if (this.options.persist) this.save();
    return { added: hnsw.getCurrentCount(), rebuilt: true, reason, count: hnsw.getCurrentCount() };
  }

  /** Nearest chunks to a (normalized) vector, closest first; `filter` keeps the chunk ids it accepts. */
  search(
    vector: Float32Array,
    k: number,
    filter?: (chunkId: number) => boolean,
  ): { chunkId: number; distance: number }[] {
    const hnsw = this.hnsw;
    if (!hnsw || hnsw.getCurrentCount() === 0) return [];
    const n = Math.min(k, hnsw.getCurrentCount());
    hnsw.setEf(Math.max(this.options.efSearch, n));
    const q = unit(vector);
    const r = filter ? hnsw.searchKnn(q, n, filter) : hnsw.searchKnn(q, n);
    return r.neighbors.map((chunkId, i) => ({ chunkId, distance: r.distances[i]! }));
  }

  /** Why the saved index cannot be used, or null once it is loaded. */
  private load(): string | null {
    let meta: Meta;
    try {
      meta = JSON.parse(fs.readFileSync(this.files.meta, 'utf8')) as Meta;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'ENOENT'
        ? 'no saved index'
        : 'the saved index description is damaged';
    }
    if (meta.version !== 1 || meta.modelId !== this.modelId || !(meta.dims > 0))
      return 'the saved index is for something else';
    const st = fs.statSync(this.files.index, { throwIfNoEntry: false });
    if (!st) return 'the saved index file is missing';
    // Checked before hnswlib reads it: a damaged file must never reach native code.
    if (st.size !== meta.bytes || sha256File(this.files.index) !== meta.sha256)
      return 'the saved index file is damaged';
    const { HierarchicalNSW } = requireCjs('hnswlib-node') as HnswModule;
    const hnsw = new HierarchicalNSW('ip', meta.dims);
    try {
      hnsw.readIndexSync(this.files.index);
    } catch {
      return 'the saved index file cannot be read';
    }
    hnsw.setEf(this.options.efSearch);
    this.hnsw = hnsw;
    this.meta = meta;
    return null;
  }

  private save(): void {
    const hnsw = this.hnsw;
    const meta = this.meta;
    if (!hnsw || !meta) return;
    const dir = path.dirname(this.files.index);
    fs.mkdirSync(dir, { recursive: true });
    const tag = `${process.pid}.${Date.now()}.tmp`;
    const tmpIndex = `${this.files.index}.${tag}`;
    const tmpMeta = `${this.files.meta}.${tag}`;
    try {
      hnsw.writeIndexSync(tmpIndex);
      const saved: Meta = { ...meta, bytes: fs.statSync(tmpIndex).size, sha256: sha256File(tmpIndex) };
      fs.writeFileSync(tmpMeta, JSON.stringify(saved));
      // The index first, then the checksum that vouches for it (a crash between the two leaves a
      // checksum that does not match: the index is rebuilt).
      commitFile(tmpIndex, this.files.index);
      commitFile(tmpMeta, this.files.meta);
      this.meta = saved;
    } finally {
      fs.rmSync(tmpIndex, { force: true });
      fs.rmSync(tmpMeta, { force: true });
    }
  }
}
