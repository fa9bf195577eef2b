import fs from 'node:fs';
import path from 'node:path';
import type { Json, TypedStepContext } from '../engine/workflow.ts';
import type { Transcript } from '../ingest/transcripts.ts';
import type { EpisodeInput } from '../episode-input.ts';
import { writeJsonArtifact } from '../base/artifacts.ts';
import { chunkTranscript, notesText } from '../search/chunk.ts';
import { loadEmbedder, vectorToBlob } from '../search/embed.ts';
import { textFingerprint, titlePiece, type ChunksArtifact, type StoredChunk } from '../search/store.ts';
import { databasePath, openDatabase } from '../store/index.ts';
import { installedModel } from '../../models/manager.ts';

export interface SearchIndexOutput {
  /** The chunks artifact (search/chunks/<key>.json) the commit projects into the store. */
  path: string;
  chunks: number;
  /** Chunks of the transcript (the rest: title, show notes, insights). */
  transcriptChunks: number;
  modelId: string | null;
  dims: number | null;
  /** Vectors taken from the episode's earlier index (same model, same text) instead of embedded. */
  reusedVectors: number;
  elapsedMs: number;
  /** What could not be used, for the user (the episode is still searchable by its words). */
  problems: string[];
}

interface GiFile {
  insights?: { text?: unknown; quotes?: { startMs?: unknown }[] }[];
}

function transcriptPath(outputs: Record<string, Json>): string | null {
  const whisper = (outputs.transcribe as { path?: string | null } | undefined)?.path;
  if (whisper) return whisper;
  const pub = outputs['publisher-transcript'] as { transcript?: { path: string } | null } | undefined;
  return pub?.transcript?.path ?? null;
}

const fingerprint = textFingerprint;

/** Insights from the understand step's gi.json, when there is one; anything malformed is skipped. */
function insightChunks(dataDir: string, key: string, problems: string[]): Omit<StoredChunk, 'seq'>[] {
  const file = path.join(dataDir, 'understand', `${key}.gi.json`);
  let gi: GiFile;
  try {
    gi = JSON.parse(fs.readFileSync(file, 'utf8')) as GiFile;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      problems.push(`insights ${file}: ${(err as Error).message}`);
    return [];
  }
  return (Array.isArray(gi.insights) ? gi.insights : []).flatMap((i) => {
    if (typeof i?.text !== 'string' || !i.text.trim()) return [];
    const quote = Array.isArray(i.quotes) ? i.quotes.find((q) => typeof q?.startMs === 'number') : undefined;
    const startMs = quote ? (quote.startMs as number) : null;
    return [
      {
        kind: 'insight' as const,
        text: i.text.trim(),
        startMs,
        endMs: startMs,
        fingerprint: fingerprint(i.text),
      },
    ];
  });
}

/**
 * Chunk the episode's transcript, add its title, show notes and insights, embed them all with
 * the embedding model chosen when the episode was queued (none: keyword search only), and
 * write search/chunks/<key>.json whole; the step's commit projects it into the store.
 */
export async function searchIndex(ctx: TypedStepContext<EpisodeInput>): Promise<SearchIndexOutput> {
  const started = Date.now();
  const input = ctx.input;
  const problems: string[] = [];
  const pieces: Omit<StoredChunk, 'seq'>[] = [];
  const file = transcriptPath(ctx.outputs);
  if (file) {
    const t = JSON.parse(fs.readFileSync(file, 'utf8')) as Transcript;
    for (const c of chunkTranscript(t.segments, t.timed !== false)) {
      const timed = t.timed !== false;
      pieces.push({
        kind: 'transcript',
        text: c.text,
        startMs: timed ? c.startMs : null,
        endMs: timed ? c.endMs : null,
        fingerprint: c.fingerprint,
      });
    }
  }
  const transcriptChunks = pieces.length;
  // Workers never write the library; reading it for the title and show notes is fine.
  const dbFile = databasePath(ctx.dataDir);
  // Vectors this episode already has from the same model, by chunk text: a title or show notes
  // that changed (or new insights) re-embed only what changed.
  const stored = new Map<string, Buffer>();
  if (fs.existsSync(dbFile)) {
    const db = openDatabase(dbFile, { readonly: true });
    try {
      if (input.embeddingModel) {
        for (const r of db
          .prepare(
            `SELECT c.fingerprint, x.vector FROM chunks c
               JOIN chunk_embeddings x ON x.chunk_id = c.id AND x.model_id = ?
              WHERE c.episode_id = ?`,
          )
          .all(input.embeddingModel, input.episodeId) as { fingerprint: string; vector: Buffer }[])
          stored.set(r.fingerprint, r.vector);
      }
      const ep = db.prepare('SELECT title, description FROM episodes WHERE id = ?').get(input.episodeId) as
        { title: string | null; description: string | null } | undefined;
      const title = titlePiece(ep?.title ?? null);
      if (title) pieces.push(title);
      const notes = notesText(ep?.description ?? null);
      if (notes) {
        for (const c of chunkTranscript([{ startMs: 0, endMs: 0, text: notes }], false))
          pieces.push({
            kind: 'notes',
            text: c.text,
            startMs: null,
            endMs: null,
            fingerprint: c.fingerprint,
          });
      }
    } finally {
      db.close();
    }
  }
  pieces.push(...insightChunks(ctx.dataDir, input.key, problems));

  let modelId: string | null = null;
  let dims: number | null = null;
  // One little-endian float32 blob per piece, as stored: reused from the store, or embedded now.
  let vectors: Buffer[] = [];
  let reused = 0;
  if (input.embeddingModel && pieces.length > 0) {
    try {
      const model = installedModel(input.embeddingModel, { dataDir: ctx.dataDir });
      const embedder = await loadEmbedder(model.id, model.path);
      const todo: number[] = [];
      pieces.forEach((p, i) => {
        const v = stored.get(p.fingerprint);
        if (v?.byteLength === embedder.dims * 4) vectors[i] = v;
        else todo.push(i);
      });
      reused = pieces.length - todo.length;
      for (let k = 0; k < todo.length; k += 32) {
        if (ctx.signal.aborted) throw ctx.signal.reason ?? new Error('cancelled');
        const batch = todo.slice(k, k + 32);
        const out = await embedder.embed(batch.map((i) => pieces[i]!.text));
        batch.forEach((i, j) => (vectors[i] = vectorToBlob(out[j]!)));
        ctx.progress(Math.min(1, (k + 32) / todo.length), { embedded: Math.min(todo.length, k + 32) });
      }
      modelId = model.id;
      dims = embedder.dims;
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      // Without vectors the episode is still found by its words; say why meaning search misses it.
      problems.push(
        `${(err as Error).message} This episode is searchable by its words only until it is indexed again.`,
      );
      vectors = [];
    }
  }
  const artifact: ChunksArtifact = {
    schemaVersion: 1,
    episodeId: input.episodeId,
    modelId,
    dims,
    chunks: pieces.map((p, seq) => ({
      ...p,
      seq,
      ...(vectors[seq] ? { vector: vectors[seq].toString('base64') } : {}),
    })),
  };
  const out = path.join(ctx.dataDir, 'search', 'chunks', `${input.key}.json`);
  writeJsonArtifact(out, artifact);
  const result: SearchIndexOutput = {
    path: out,
    chunks: pieces.length,
    transcriptChunks,
    modelId,
    dims,
    reusedVectors: reused,
    elapsedMs: Date.now() - started,
    problems,
  };
  return result;
}
