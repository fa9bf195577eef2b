import type { Json, WorkflowDef } from './engine/workflow.ts';
import type { Db } from './store/db.ts';
import { activeModels } from './ingest/episodes.ts';
import { downloadStep } from './steps/download-def.ts';
import { publisherTranscriptStep } from './steps/publisher-transcript-def.ts';
import { decodeStep } from './steps/decode-def.ts';
import { transcribeStep } from './steps/transcribe-def.ts';
import { understandStep } from './understand/step-def.ts';
import { indexStep } from './search/step-def.ts';
import { digestBuildStep } from './digest/step-def.ts';

/**
 * The workflows this Earshot runs. The engine and every worker process import this module
 * (or the one named by EARSHOT_WORKFLOWS_MODULE, which tests and benchmarks use). Each step is
 * defined in one place (its *-def.ts, with `defineStep<EpisodeInput, Output>`: lane, version,
 * fingerprint, limits, its projection into the store), and its code is imported lazily, so the
 * engine process never loads what only workers need.
 */
export type { EpisodeInput } from './episode-input.ts';

/**
 * An episode: download and the publisher's transcript/chapters → decode → transcribe (gpu lane)
 * → understand → index for search.
 */
export const episodeWorkflow: WorkflowDef = {
  kind: 'episode',
  // Woken (a model was chosen): the models are the ones active now, as if queued now.
  refreshInput: (input: Json, db: Db) => ({
    ...(input as Record<string, Json>),
    ...activeModels(db, (input as { language?: string | null }).language),
  }),
  steps: [downloadStep, publisherTranscriptStep, decodeStep, transcribeStep, understandStep, indexStep],
};

/**
 * The digest of a window of the library (pipeline/digest/): started by the schedule beside the
 * background feed refresh (pipeline/digest/schedule.ts); one step on the cpu lane writes
 * digests/<from>-<to>.json and its commit records it. The subject is the window, so a window is
 * digested once per pipeline version.
 */
export const digestWorkflow: WorkflowDef = {
  kind: 'digest',
  steps: [digestBuildStep],
};

export const workflows: WorkflowDef[] = [episodeWorkflow, digestWorkflow];
