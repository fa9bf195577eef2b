/**
 * The language-model tier (node-llama-cpp), Electron-free. See runtime.ts for loading, lanes and
 * warm reuse; json.ts for grammar-constrained JSON; map-reduce.ts for long text; prompts.ts and
 * understand.ts for the understanding tier's prompts and `llmUnderstand`.
 */
export * from './runtime.ts';
export * from './json.ts';
export * from './map-reduce.ts';
export * from './prompts.ts';
export * from './understand.ts';
