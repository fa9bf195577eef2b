import type { CommitContext, Json, StepDef } from '../engine/workflow.ts';
import type { EpisodeInput } from '../workflows.ts';
import { projectChunks, readChunksArtifact } from './store.ts';

/**
 * The episode workflow's `index` step (cpu lane): chunks, embeddings and full-text rows for
 * search. It runs after the transcript exists — after `understand` when the workflow has that
 * step (its insights are indexed too), else after transcription. Its fingerprint carries the
 * embedding model chosen when the episode was queued, so switching models re-runs indexing
 * (and understanding, whose entity merges use the same model), nothing before them.
 *
 * The worker writes search/chunks/<key>.json; the commit (inside the engine's write
 * transaction) replaces the episode's rows from it. The vector index file is not touched here:
 * whoever searches adds the new embeddings to it (pipeline/search/vector-index.ts).
 */
export function searchIndexStep(earlierSteps: readonly string[]): StepDef {
  const after = earlierSteps.includes('understand') ? ['understand'] : ['transcribe', 'publisher-transcript'];
  return {
    name: 'index',
    lane: 'cpu',
    version: '1',
    after: after.filter((s) => earlierSteps.includes(s)),
    fingerprint: (input: Json) => `embedding:${(input as unknown as EpisodeInput).embeddingModel ?? 'none'}`,
    run: async (ctx) => (await import('../steps/search-index.ts')).searchIndex(ctx),
    commit: commitSearchIndex,
  };
}

export function commitSearchIndex(ctx: CommitContext): void {
  const out = ctx.output as unknown as { path: string; modelId: string | null };
  const input = ctx.input as unknown as EpisodeInput;
  projectChunks(ctx.db, { ...readChunksArtifact(out.path), episodeId: input.episodeId });
  ctx.db
    .prepare(
      `INSERT INTO artifacts (episode_id, kind, path, fingerprint, schema_version, model_id, created_at)
       VALUES (?, 'chunks', ?, ?, 1, ?, ?)
       ON CONFLICT (episode_id, kind) DO UPDATE SET path = excluded.path, fingerprint = excluded.fingerprint,
         model_id = excluded.model_id, created_at = excluded.created_at`,
    )
    .run(input.episodeId, out.path, ctx.fingerprint, out.modelId, ctx.now);
}
