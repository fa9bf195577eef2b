import { defineStep, type TypedCommitContext } from '../engine/workflow.ts';
import type { EpisodeInput } from '../episode-input.ts';
import type { SearchIndexOutput } from '../steps/search-index.ts';
import { recordArtifact } from '../steps/artifact-rows.ts';
import { projectChunks, readChunksArtifact } from './store.ts';

/**
 * The episode workflow's `index` step (cpu lane), last, after `understand` (its insights are
 * indexed too): chunks, embeddings and full-text rows for search. Its fingerprint carries the
 * embedding model chosen when the episode was queued, so switching models re-runs indexing (and
 * understanding, whose entity merges use the same model), nothing before them.
 *
 * The worker writes search/chunks/<key>.json; the commit (inside the engine's write
 * transaction) replaces the episode's rows from it. The vector index file is not touched here:
 * whoever searches adds the new embeddings to it (pipeline/search/vector-index.ts).
 */
export const indexStep = defineStep<EpisodeInput, SearchIndexOutput>({
  name: 'index',
  lane: 'cpu',
  version: '1',
  after: ['understand'],
  fingerprint: (input) => `embedding:${input.embeddingModel ?? 'none'}`,
  run: async (ctx) => (await import('../steps/search-index.ts')).searchIndex(ctx),
  commit: commitSearchIndex,
});

export function commitSearchIndex(ctx: TypedCommitContext<EpisodeInput, SearchIndexOutput>): void {
  projectChunks(ctx.db, { ...readChunksArtifact(ctx.output.path), episodeId: ctx.input.episodeId });
  recordArtifact(ctx.db, {
    episodeId: ctx.input.episodeId,
    kind: 'chunks',
    path: ctx.output.path,
    fingerprint: ctx.fingerprint,
    modelId: ctx.output.modelId,
    now: ctx.now,
  });
}
