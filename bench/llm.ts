/**
 * LLM benchmark (`npm run bench:llm`): tokens/s through Earshot's runtime against node-llama-cpp
 * directly, on the same GGUF (see llm-section.ts for the method and settings). The last line is
 * one JSON object of the figures.
 */
import { llmSection } from './llm-section.ts';

const figures = { bench: 'llm', ...(await llmSection()) };
console.log(JSON.stringify(figures));
