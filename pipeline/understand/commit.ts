import type { TypedCommitContext } from '../engine/workflow.ts';
import type { EpisodeInput } from '../episode-input.ts';
import { mergeEpisodeEntities, proposalMatcher } from './canonical.ts';
import { projectRelations } from './relations.ts';
import type { UnderstandOutput } from './step.ts';
import { UNDERSTAND_SCHEMA_VERSION } from './types.ts';

/**
 * The understand step's commit (engine process, inside the step's transaction): the three
 * artifacts with their model id and prompt version, the episode's entities merged into the
 * library's canonical ones, and its relations stored against those (relations.ts).
 */
export function commitUnderstanding(ctx: TypedCommitContext<EpisodeInput, UnderstandOutput>): void {
  const input = ctx.input;
  const out = ctx.output as unknown as UnderstandOutput;
  if (out.skipped || !out.summaryPath || !out.giPath || !out.kgPath) return;
  const upsert = ctx.db.prepare(
    `INSERT INTO artifacts (episode_id, kind, path, fingerprint, schema_version, model_id, prompt_version, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (episode_id, kind) DO UPDATE SET path = excluded.path, fingerprint = excluded.fingerprint,
       schema_version = excluded.schema_version, model_id = excluded.model_id,
       prompt_version = excluded.prompt_version, created_at = excluded.created_at`,
  );
  for (const [kind, file] of [
    ['summary', out.summaryPath],
    ['gi', out.giPath],
    ['kg', out.kgPath],
  ] as const) {
    upsert.run(
      input.episodeId,
      kind,
      file,
      ctx.fingerprint,
      UNDERSTAND_SCHEMA_VERSION,
      out.modelId,
      out.promptVersion,
      ctx.now,
    );
  }
  // Proposals by meaning (an embedding model was active); outputs from before they existed have none.
  const proposals = out.entityMatches ?? {};
  const mapping = mergeEpisodeEntities(
    ctx.db,
    input.episodeId,
    input.feedId ?? null,
    out.entities,
    out.firstMs,
    ctx.now,
    Object.keys(proposals).length > 0 ? proposalMatcher(proposals) : undefined,
  );
  projectRelations(ctx.db, input.episodeId, input.feedId ?? null, out.entities, out.relations, mapping);
}
