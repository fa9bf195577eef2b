import fs from 'node:fs';
import path from 'node:path';
import type { Json, TypedStepContext } from '../engine/workflow.ts';
import { PermanentStepError } from '../engine/workflow.ts';
import type { Transcript } from '../ingest/transcripts.ts';
import { writeJsonArtifact } from '../base/artifacts.ts';
import type { EpisodeInput } from '../episode-input.ts';
import { loadLlmTier } from './llm-seam.ts';
import { understandTranscript } from './run.ts';
import type { KgEntity, KgRelation, Tier } from './types.ts';
import { proposeEntityMatches, type CandidateEntity, type EntityMatch } from './entity-match.ts';
import { databasePath, openDatabase } from '../store/index.ts';
import { installedModel } from '../../models/manager.ts';
import { loadEmbedder } from '../search/embed.ts';
import { episodeEntity } from './canonical.ts';

export interface UnderstandOutput {
  /** Why nothing was written (no transcript), or null. */
  skipped: string | null;
  tier: Tier;
  modelId: string | null;
  promptVersion: string | null;
  /** The transcript file read and the SHA-256 of its segments. */
  transcriptPath: string | null;
  transcriptSha256: string | null;
  summaryPath: string | null;
  giPath: string | null;
  kgPath: string | null;
  /** The episode's entities, for the commit to merge into the library's canonical ones. */
  entities: Pick<KgEntity, 'id' | 'name' | 'type' | 'role' | 'aliases' | 'mentionCount'>[];
  firstMs: Record<string, number | null>;
  /**
   * The episode's graph (kg.json's relations, local ids) for the commit to store with the
   * library's entity ids (the kg_relations table). Absent in outputs from before it.
   */
  relations?: KgRelation[];
  insights: number;
  groundedInsights: number;
  /**
   * Which library entity (or earlier entity of this episode) each entity is by meaning, by local
   * id: proposals from name embeddings that the commit checks (entity-match.ts). Empty without an
   * embedding model.
   */
  entityMatches: Record<string, EntityMatch>;
  /** The embedding model the proposals come from; null when none was used. */
  entityModel: string | null;
  /** Why entities could not be compared by meaning although a model was chosen (they merged by name only). */
  entityMatchProblem: string | null;
  /** Set when an LLM model was asked for but this build has no LLM tier (the classic one ran). */
  fallback: string | null;
  elapsedMs: number;
}

/** The transcript this episode's understanding reads: Whisper's, else the publisher's. */
export function transcriptPathOf(outputs: Record<string, Json>): string | null {
  const whisper = (outputs.transcribe as { path?: string | null } | undefined)?.path;
  if (whisper) return whisper;
  const pub = outputs['publisher-transcript'] as { transcript?: { path: string } | null } | undefined;
  return pub?.transcript?.path ?? null;
}

export function artifactPaths(dataDir: string, key: string) {
  const dir = path.join(dataDir, 'understand');
  return {
    summary: path.join(dir, `${key}.summary.json`),
    gi: path.join(dir, `${key}.gi.json`),
    kg: path.join(dir, `${key}.kg.json`),
  };
}

/**
 * The `understand` step (cpu lane): summary, grounded insights and knowledge graph from the
 * episode's transcript, with the classic tier, or the LLM tier when a language model was active
 * when the episode was queued and this build has the tier. Writes the three artifacts whole
 * (temp file + rename); the commit records them and merges the entities into the library.
 */
export async function understand(ctx: TypedStepContext<EpisodeInput>): Promise<UnderstandOutput> {
  const input = ctx.input;
  const started = Date.now();
  const file = transcriptPathOf(ctx.outputs);
  const base: UnderstandOutput = {
    skipped: null,
    tier: 'classic',
    modelId: null,
    promptVersion: null,
    transcriptPath: file,
    transcriptSha256: null,
    summaryPath: null,
    giPath: null,
    kgPath: null,
    entities: [],
    firstMs: {},
    insights: 0,
    groundedInsights: 0,
    entityMatches: {},
    entityModel: null,
    entityMatchProblem: null,
    fallback: null,
    elapsedMs: 0,
  };
  if (!file) return { ...base, skipped: 'the episode has no transcript' };
  let transcript: Transcript;
  try {
    transcript = JSON.parse(fs.readFileSync(file, 'utf8')) as Transcript;
  } catch (err) {
    throw new PermanentStepError(
      `The transcript file ${file} cannot be read (${(err as Error).message}). Process the episode again to make it anew.`,
    );
  }
  const meta = {
    episodeId: input.episodeId,
    key: input.key,
    feedId: input.feedId ?? null,
    host: input.host ?? null,
    showTitle: input.showTitle ?? null,
    episodeTitle: input.episodeTitle ?? null,
  };
  let llm: Parameters<typeof understandTranscript>[2];
  if (input.llmModel) {
    const tier = await loadLlmTier();
    if (tier) {
      const t = transcript.segments.map((s) => s.text).join(' ');
      const drafts = await tier({
        modelId: input.llmModel,
        dataDir: ctx.dataDir,
        text: t,
        segments: transcript.segments,
        meta: { showTitle: meta.showTitle, host: meta.host, episodeTitle: meta.episodeTitle },
        signal: ctx.signal,
        device: ctx.device,
        progress: (f) => ctx.progress(f, { stage: 'understand', tier: 'llm' }),
      });
      llm = { modelId: input.llmModel, drafts };
    } else {
      base.fallback = `the language model ${input.llmModel} is active, but this build has no LLM tier; the classic tier ran`;
    }
  }
  ctx.signal.throwIfAborted();
  const docs = understandTranscript(transcript, meta, llm);
  if (input.embeddingModel && docs.kg.entities.length > 0) {
    try {
      const model = installedModel(input.embeddingModel, { dataDir: ctx.dataDir });
      const embedder = await loadEmbedder(model.id, model.path);
      const types = [...new Set(docs.kg.entities.map((e) => e.type))];
      base.entityMatches = await proposeEntityMatches(
        docs.kg.entities,
        libraryEntities(ctx.dataDir, input.episodeId, types),
        (texts) => embedder.embed(texts),
      );
      base.entityModel = model.id;
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      // Names still merge by their written forms; say why not by meaning.
      base.entityMatchProblem = `${(err as Error).message} Entities were merged by their names only.`;
    }
  }
  const paths = artifactPaths(ctx.dataDir, input.key);
  writeJsonArtifact(paths.summary, docs.summary);
  writeJsonArtifact(paths.gi, docs.gi);
  writeJsonArtifact(paths.kg, docs.kg);
  const out: UnderstandOutput = {
    ...base,
    tier: docs.gi.tier,
    modelId: docs.gi.modelId,
    promptVersion: docs.gi.promptVersion,
    transcriptSha256: docs.gi.transcriptSha256,
    summaryPath: paths.summary,
    giPath: paths.gi,
    kgPath: paths.kg,
    entities: docs.kg.entities.map(episodeEntity),
    firstMs: Object.fromEntries(docs.kg.entities.map((e) => [e.id, e.mentions[0]?.startMs ?? null])),
    relations: docs.kg.relations,
    insights: docs.gi.insights.length,
    groundedInsights: docs.gi.insights.filter((i) => i.grounded).length,
    elapsedMs: Date.now() - started,
  };
  ctx.log.info(
    { tier: out.tier, modelId: out.modelId, insights: out.insights, grounded: out.groundedInsights },
    'understood',
  );
  ctx.progress(1, { stage: 'understand', tier: out.tier });
  return out;
}

/**
 * The library's entities of these types that another episode mentions: what this episode's
 * entities may be. (This episode's own, from an earlier run, are about to be replaced.) Read
 * only: workers never write the library.
 */
function libraryEntities(dataDir: string, episodeId: number, types: string[]): CandidateEntity[] {
  const file = databasePath(dataDir);
  if (!fs.existsSync(file)) return [];
  const db = openDatabase(file, { readonly: true });
  try {
    return (
      db
        .prepare(
          `SELECT e.id, e.type, e.name, e.aliases FROM entities e
           WHERE e.type IN (SELECT value FROM json_each(?))
             AND EXISTS (SELECT 1 FROM entity_mentions m WHERE m.entity_id = e.id AND m.episode_id != ?)`,
        )
        .all(JSON.stringify(types), episodeId) as {
        id: number;
        type: CandidateEntity['type'];
        name: string;
        aliases: string;
      }[]
    ).map((r) => ({ id: r.id, type: r.type, name: r.name, aliases: JSON.parse(r.aliases) as string[] }));
  } finally {
    db.close();
  }
}
