import fs from 'node:fs';
import { createHash } from 'node:crypto';
import type { Db } from '../store/db.ts';
import { notesText } from './chunk.ts';

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

/** What a chunk's text is known by (the index step reuses an unchanged text's vector by it). */
export function textFingerprint(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/** An episode's title as a chunk, the same for a listed episode and an indexed one. */
export function titlePiece(title: string | null): Omit<StoredChunk, 'seq'> | null {
  const text = title?.trim();
  return text
    ? { kind: 'title', text, startMs: null, endMs: null, fingerprint: textFingerprint(title!) }
    : null;
}

/** Words per show-notes chunk of a listed episode (about the index step's 300 tokens). */
const LISTING_WORDS = 250;

/**
 * A listed episode's title and show notes as chunks, keyword-only: searchable from the moment
 * the episode is listed, long before (or without ever) being processed. Cheap, so a refresh of
 * a 5,000-episode feed can afford it: show notes are cut by word count, not parsed into
 * sentences. The episode's `index` step replaces them with its own chunks (sentence-aligned,
 * embedded, with the transcript and insights).
 */
export function listingPieces(title: string | null, description: string | null): Omit<StoredChunk, 'seq'>[] {
  const pieces: Omit<StoredChunk, 'seq'>[] = [];
  const t = titlePiece(title);
  if (t) pieces.push(t);
  const words = notesText(description).split(' ').filter(Boolean);
  for (let i = 0; i < words.length; i += LISTING_WORDS) {
    const text = words.slice(i, i + LISTING_WORDS).join(' ');
    pieces.push({ kind: 'notes', text, startMs: null, endMs: null, fingerprint: textFingerprint(text) });
  }
  return pieces;
}

/**
 * Index a listed episode's title and show notes (inside the caller's transaction), unless its
 * `index` step has indexed it: then the step's chunks stay, and a change of title or notes is
 * the step's to index again (subscriptions mark it).
 */
export function indexListing(
  db: Db,
  episodeId: number,
  title: string | null,
  description: string | null,
): void {
  if (db.prepare(`SELECT 1 FROM artifacts WHERE episode_id = ? AND kind = 'chunks'`).get(episodeId)) return;
  projectChunks(db, {
    schemaVersion: 1,
    episodeId,
    modelId: null,
    dims: null,
    chunks: listingPieces(title, description).map((p, seq) => ({ ...p, seq })),
  });
}

/**
 * Episodes listed before listings were indexed (an older library): index their titles and
 * notes. Returns how many. Episodes with neither are looked at again each time (few, cheap).
 */
export function indexUnindexedListings(db: Db, limit = 5000): number {
  const rows = db
    .prepare(
      `SELECT id, title, description FROM episodes e
        WHERE (title IS NOT NULL OR description IS NOT NULL)
          AND NOT EXISTS (SELECT 1 FROM chunks c WHERE c.episode_id = e.id)
          AND NOT EXISTS (SELECT 1 FROM artifacts a WHERE a.episode_id = e.id AND a.kind = 'chunks')
        LIMIT ?`,
    )
    .all(limit) as { id: number; title: string | null; description: string | null }[];
  for (const r of rows) indexListing(db, r.id, r.title, r.description);
  return rows.filter((r) => listingPieces(r.title, r.description).length > 0).length;
}
