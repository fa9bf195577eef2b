import { CLASSIC_VERSION } from './types.ts';
// Type-only imports inside: safe to load in the engine process.
import { PROMPT_VERSION } from '../../models/llm/prompts.ts';

/**
 * The understand step's fingerprint material: the tier, the language model and the code or
 * prompt version, and the embedding model that merges entities by meaning (entity-match.ts).
 * Switching the active language model (or none) re-runs understanding and what follows it,
 * nothing before; so does a change of the LLM tier's prompts (PROMPT_VERSION), and a change of
 * embedding model (its merges are made again). Without an embedding model the material is what
 * it was before entities merged by meaning, so existing episodes keep their runs.
 */
export const LLM_PROMPT_VERSION = PROMPT_VERSION;
/** Bump when entity-match.ts changes what it merges. */
export const ENTITY_MATCH_VERSION = 'm1';

export function understandFingerprint(llmModel: string | null, embeddingModel: string | null = null): string {
  const tier = llmModel ? `llm:${llmModel}:${LLM_PROMPT_VERSION}` : `classic:${CLASSIC_VERSION}`;
  return embeddingModel ? `${tier}+entities:${embeddingModel}:${ENTITY_MATCH_VERSION}` : tier;
}
