import fs from 'node:fs';
import type { Db } from '../store/db.ts';

/**
 * The search artifact of one episode (`search/chunks/<key>.json`, written whole by the index
 * step) and its projection into the store (chunks, chunks_fts through triggers,
 * chunk_embeddings), done in the step's commit.
 */

export type ChunkKind = 'transcript' | 'title' | 'notes' | 'insight';

export interface StoredChunk {
  seq: number;
  kind: ChunkKind;
  text: string;
  startMs: number | null;
  endMs: number | null;
  fingerprint: string;
  /** float32 little-endian, base64; absent without an embedding model. */
  vector?: string;
}

export interface ChunksArtifact {
  schemaVersion: 1;
  episodeId: number;
  /** The embedding model the vectors come from; null: keyword search only. */
  modelId: string | null;
  dims: number | null;
  chunks: StoredChunk[];
}

/** The embedding model new work uses: the one chosen with `earshot models use` (or Settings). */
export function activeEmbeddingModel(db: Db): string | null {
  const row = db.prepare(`SELECT value FROM settings WHERE key = 'model.active.embedding'`).get() as
    { value: string } | undefined;
  return row?.value ?? null;
}

/** Replace an episode's chunks (and so its full-text rows and vectors) with the artifact's. Idempotent. */
export function projectChunks(db: Db, artifact: ChunksArtifact): void {
  db.prepare('DELETE FROM chunks WHERE episode_id = ?').run(artifact.episodeId);
  const insert = db.prepare(
    `INSERT INTO chunks (episode_id, seq, kind, text, start_ms, end_ms, fingerprint)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );
  const vector = db.prepare(`INSERT INTO chunk_embeddings (chunk_id, model_id, vector) VALUES (?, ?, ?)`);
  for (const c of artifact.chunks) {
    const { lastInsertRowid } = insert.run(
      artifact.episodeId,
      c.seq,
      c.kind,
      c.text,
      c.startMs,
      c.endMs,
      c.fingerprint,
    );
    if (artifact.modelId && c.vector)
      vector.run(lastInsertRowid, artifact.modelId, Buffer.from(c.vector, 'base64'));
  }
}

export function readChunksArtifact(file: string): ChunksArtifact {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as ChunksArtifact;
}
