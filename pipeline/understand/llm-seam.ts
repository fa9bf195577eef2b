import type { InsightDraft, SummaryDraft } from './grounding.ts';
import type { EntityType } from './types.ts';

/**
 * The seam for the LLM tier (models/llm/, node-llama-cpp). The LLM module proposes drafts; this
 * package grounds every quote (grounding.ts), finds entity mentions, writes the artifacts and
 * records them, exactly as for the classic tier.
 *
 * llm-tier.ts adapts models/llm/understand.ts (`llmUnderstand`) to this contract. The prompt
 * version (models/llm/prompts.ts PROMPT_VERSION) is part of the step's fingerprint (versions.ts).
 */
export interface LlmRequest {
  /** The installed model's id (input.llmModel). */
  modelId: string;
  dataDir: string;
  /** The transcript's full text (segments joined by one space) and its segments. */
  text: string;
  segments: { startMs: number; endMs: number; text: string; speaker?: string }[];
  meta: { showTitle: string | null; host: string | null; episodeTitle: string | null };
  signal: AbortSignal;
  /** The GPU the step's worker is bound to (gpu lane), or null: generate on the CPU. */
  device: { backend: string; index: number } | null;
  progress(fraction: number): void;
}

export interface LlmDrafts {
  promptVersion: string;
  summary: SummaryDraft;
  insights: InsightDraft[];
  /** Names with types/roles; mentions are found in the text by code. Optional: classic entities otherwise. */
  entities?: { name: string; type: EntityType; role?: 'host' | 'guest' | 'mentioned'; aliases?: string[] }[];
}

export type LlmTier = (request: LlmRequest) => Promise<LlmDrafts>;

/**
 * The LLM tier (pipeline/understand/llm-tier.ts over models/llm), loaded only when an episode asks
 * for it: node-llama-cpp stays out of workers that never need it. Null when this build cannot
 * load it (the classic tier runs and the step output says so).
 */
export async function loadLlmTier(): Promise<LlmTier | null> {
  try {
    return (await import('./llm-tier.ts')).understandWithLlm;
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_MODULE_NOT_FOUND') return null;
    throw err;
  }
}
