import { CLASSIC_VERSION } from './types.ts';
// Type-only imports inside: safe to load in the engine process.
import { PROMPT_VERSION } from '../../models/llm/prompts.ts';

/**
 * The understand step's fingerprint material: the tier, the language model and the code or
 * prompt version. Switching the active language model (or none) re-runs understanding and what
 * follows it, nothing before; so does a change of the LLM tier's prompts (PROMPT_VERSION).
 */
export const LLM_PROMPT_VERSION = PROMPT_VERSION;

export function understandFingerprint(llmModel: string | null): string {
  return llmModel ? `llm:${llmModel}:${LLM_PROMPT_VERSION}` : `classic:${CLASSIC_VERSION}`;
}
