import { defineStep } from '../engine/workflow.ts';
import type { EpisodeInput } from '../episode-input.ts';
import { commitUnderstanding } from './commit.ts';
import type { UnderstandOutput } from './step.ts';
import { understandFingerprint } from './versions.ts';

/**
 * Summary, grounded insights and knowledge graph from the transcript (Whisper's or the
 * publisher's): classic NLP on the cpu lane, or, with a language model, the LLM tier on the gpu
 * lane (one job per device, the model loaded once per device; on the CPU where there is no GPU).
 */
export const understandStep = defineStep<EpisodeInput, UnderstandOutput>({
  name: 'understand',
  lane: (input) => (input.llmModel ? 'gpu' : 'cpu'),
  version: '1',
  after: ['transcribe', 'publisher-transcript'],
  fingerprint: (input) => understandFingerprint(input.llmModel ?? null, input.embeddingModel ?? null),
  run: async (ctx) => (await import('./step.ts')).understand(ctx),
  commit: commitUnderstanding,
});
