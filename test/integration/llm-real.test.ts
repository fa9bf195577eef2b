import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseTranscript } from '../../pipeline/ingest/transcripts.ts';
import {
  acquireLlm,
  ENTITY_ROLES,
  INSIGHT_TYPES,
  llmThreads,
  llmUnderstand,
  releaseLlm,
  unloadLlm,
} from '../../models/llm/index.ts';
import { repoRoot } from '../helpers/env.ts';

/**
 * The LLM tier with a real instruct model. None can be downloaded on the build machines, so this
 * runs only when EARSHOT_MODELS_DIR holds one: the smallest *.gguf over 100 MB there (a folder per
 * model, as the model manager lays them out, is searched too). EARSHOT_TEST_LLM_GPU=auto lets it
 * use a GPU (CUDA/Metal); it runs on the CPU otherwise.
 */
function findRealModel(dir: string | undefined): string | null {
  if (!dir || !fs.existsSync(dir)) return null;
  return (
    fs
      .readdirSync(dir, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.toLowerCase().endsWith('.gguf'))
      .map((f) => path.join(dir, f))
      .filter((f) => fs.statSync(f).size > 100 * 1024 * 1024)
      .sort((a, b) => fs.statSync(a).size - fs.statSync(b).size)[0] ?? null
  );
}

const model = findRealModel(process.env.EARSHOT_MODELS_DIR);
if (!model)
  console.warn(
    `\n*** SKIPPED llm-real: no instruct GGUF (> 100 MB) in EARSHOT_MODELS_DIR (${process.env.EARSHOT_MODELS_DIR ?? 'unset'}). ` +
      'Put e.g. a Qwen2.5-1.5B-Instruct or Llama-3.2-3B-Instruct Q4_K_M .gguf there to run it. ***\n',
  );

const normalize = (s: string): string =>
  s
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();

describe.skipIf(!model)('LLM tier with a real instruct model', () => {
  it('summarizes a real transcript, with insights whose quotes are (mostly) verbatim and the names in it', async () => {
    const fixture = path.join(repoRoot, 'test/fixtures/transcripts/ep3.srt');
    const text = parseTranscript(fs.readFileSync(fixture, 'utf8'), 'srt')
      .segments.map((s) => s.text)
      .join(' ');
    const gpu = process.env.EARSHOT_TEST_LLM_GPU === 'auto' ? 'auto' : false;
    const llm = await acquireLlm(model!, { gpu, threads: llmThreads(gpu !== false) });
    console.log(
      `llm-real: ${path.basename(model!)} on ${llm.backend} (${llm.gpuLayers}/${llm.layers} layers on the GPU), context ${llm.contextSize}, ${os.availableParallelism()} cores`,
    );
    try {
      const out = await llmUnderstand(text, { model: { id: path.basename(model!), path: model! }, llm });
      console.log(JSON.stringify(out, null, 2));
      expect(out.summary.abstract.length).toBeGreaterThan(20);
      expect(out.summary.keyPoints.length).toBeGreaterThan(0);
      for (const i of out.insights) expect(INSIGHT_TYPES).toContain(i.type);
      for (const e of out.entities) expect(ENTITY_ROLES).toContain(e.role);
      // Grounding is the caller's job; a real model should still get most quotes verbatim.
      const quotes = out.insights.flatMap((i) => i.quotes);
      const verbatim = quotes.filter((q) => normalize(text).includes(normalize(q)));
      console.log(`llm-real: ${verbatim.length} of ${quotes.length} quotes verbatim`);
      if (quotes.length) expect(verbatim.length).toBeGreaterThan(0);
      expect(out.entities.length).toBeGreaterThan(0);
    } finally {
      releaseLlm();
      await unloadLlm();
    }
  }, 600_000);
});
