import type { WorkflowDef } from './engine/workflow.ts';
import { downloadStep } from './steps/download-def.ts';
import { publisherTranscriptStep } from './steps/publisher-transcript-def.ts';
import { decodeStep } from './steps/decode-def.ts';
import { transcribeStep } from './steps/transcribe-def.ts';
import { understandStep } from './understand/step-def.ts';
import { indexStep } from './search/step-def.ts';

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
  steps: [downloadStep, publisherTranscriptStep, decodeStep, transcribeStep, understandStep, indexStep],
};

export const workflows: WorkflowDef[] = [episodeWorkflow];
