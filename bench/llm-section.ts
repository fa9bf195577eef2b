/**
 * The LLM tier's benchmark section (issue #5: "LLM tokens/s through Earshot vs node-llama-cpp
 * directly on the same GGUF", target ≥ 0.95×). Run alone with `npm run bench:llm`; also a section
 * of `npm run bench:understand`.
 *
 * Earshot's side is models/llm as the understanding step uses it: acquireLlm() (the warm model of
 * the worker) and complete() (its one-call-at-a-time queue, abort wiring and token counting). The
 * baseline is node-llama-cpp used directly, as its documentation shows: getLlama, loadModel,
 * createContext, LlamaCompletion.generateCompletion. Same GGUF, same threads, same context size,
 * same prompt, greedy decoding on both (so both generate the same tokens: the bench checks the
 * texts are identical), same maxTokens. One untimed call each first, then BENCH_ROUNDS rounds that
 * alternate which side goes first; tokens/s are wall-clock (prompt evaluation included) and the
 * medians are compared (the median of each round's own ratio is printed beside it: this machine
 * may be busy with other work).
 *
 * The model: EARSHOT_BENCH_LLM_MODEL=/path/model.gguf, else test/fixtures/models/llm/stories260K.gguf
 * (a 260K-parameter llama: it measures Earshot's per-token overhead, the worst case for the ratio,
 * not a real model's speed). Sizes: BENCH_LLM_TOKENS (default 256), BENCH_ROUNDS (21), BENCH_THREADS
 * (default llmThreads(): half the cores on the CPU). BENCH_LLM_GPU=auto lets both sides use a GPU.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { acquireLlm, complete, llmThreads, releaseLlm, unloadLlm } from '../models/llm/index.ts';

type Figures = Record<string, number | string>;

const DEFAULT_MODEL = fileURLToPath(new URL('../test/fixtures/models/llm/stories260K.gguf', import.meta.url));
const PROMPT = 'Once upon a time, in a small town by the sea, there lived a girl named Lily who';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export async function llmSection(): Promise<Figures> {
  const file = process.env.EARSHOT_BENCH_LLM_MODEL || DEFAULT_MODEL;
  const real = !!process.env.EARSHOT_BENCH_LLM_MODEL;
  if (!fs.existsSync(file)) {
    console.log(`LLM tier: skipped, no model at ${file} (set EARSHOT_BENCH_LLM_MODEL=/path/model.gguf)`);
    return { llmSkipped: `no model at ${file}` };
  }
  const gpu = process.env.BENCH_LLM_GPU === 'auto' ? 'auto' : false;
  const threads = Number(process.env.BENCH_THREADS) || llmThreads(gpu !== false);
  const maxTokens = Number(process.env.BENCH_LLM_TOKENS ?? 256);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 21);
  console.log(
    `LLM tier: ${path.basename(file)} (${(fs.statSync(file).size / 1e6).toFixed(1)} MB)` +
      (real ? '' : ' — the tiny stories260K: set EARSHOT_BENCH_LLM_MODEL=/path.gguf for a real model'),
  );

  // Earshot's side.
  let t = performance.now();
  const llm = await acquireLlm(file, { gpu, threads });
  const earshotLoadMs = performance.now() - t;

  // node-llama-cpp directly.
  const { getLlama, LlamaCompletion, LlamaLogLevel } = await import('node-llama-cpp');
  t = performance.now();
  const llama = await getLlama({ gpu, build: 'never', maxThreads: threads, logLevel: LlamaLogLevel.error });
  const model = await llama.loadModel({ modelPath: file, gpuLayers: gpu === false ? 0 : 'auto' });
  const context = await model.createContext({ contextSize: llm.contextSize, threads });
  const completion = new LlamaCompletion({ contextSequence: context.getSequence() });
  const directLoadMs = performance.now() - t;

  const earshot = async (): Promise<{ tps: number; text: string; tokens: number }> => {
    const t0 = performance.now();
    const out = await complete(llm, PROMPT, { maxTokens });
    return { tps: out.tokens / ((performance.now() - t0) / 1000), text: out.text, tokens: out.tokens };
  };
  const direct = async (): Promise<{ tps: number; text: string; tokens: number }> => {
    let tokens = 0;
    const t0 = performance.now();
    const text = await completion.generateCompletion(PROMPT, {
      maxTokens,
      onToken: (tk) => {
        tokens += tk.length;
      },
    });
    return { tps: tokens / ((performance.now() - t0) / 1000), text, tokens };
  };

  const e0 = await earshot();
  const d0 = await direct();
  const sameOutput = e0.text === d0.text && e0.tokens === d0.tokens;
  const e: number[] = [];
  const d: number[] = [];
  for (let r = 0; r < rounds; r++) {
    if (r % 2 === 0) {
      e.push((await earshot()).tps);
      d.push((await direct()).tps);
    } else {
      d.push((await direct()).tps);
      e.push((await earshot()).tps);
    }
  }
  completion.dispose();
  await context.dispose();
  await model.dispose();
  releaseLlm();
  await unloadLlm();

  const eMed = median(e);
  const dMed = median(d);
  const ratio = eMed / dMed;
  // Each round's two runs are seconds apart: their ratio is less at the mercy of other work on the machine.
  const paired = median(e.map((x, i) => x / d[i]!));
  console.log(
    `  backend ${llm.backend}${llm.devices.length ? ` (${llm.devices.join(', ')})` : ''}, gpu layers ${llm.gpuLayers}/${llm.layers}, ` +
      `${threads} threads, context ${llm.contextSize}, load ${earshotLoadMs.toFixed(0)} ms (Earshot) / ${directLoadMs.toFixed(0)} ms (direct)`,
  );
  console.log(
    `  ${e0.tokens} tokens a call, greedy; same output both ways: ${sameOutput ? 'yes' : 'NO'}; load average ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
  );
  console.log(
    `  Earshot:         ${eMed.toFixed(1)} tokens/s (median of ${rounds}; ${e.map((x) => x.toFixed(0)).join(' ')})`,
  );
  console.log(
    `  node-llama-cpp:  ${dMed.toFixed(1)} tokens/s (median of ${rounds}; ${d.map((x) => x.toFixed(0)).join(' ')})`,
  );
  console.log(
    `  ratio ${ratio.toFixed(3)}× (target ≥ 0.95×): ${ratio >= 0.95 ? 'met' : 'NOT met'}; median of per-round ratios ${paired.toFixed(3)}×`,
  );
  return {
    llmModel: path.basename(file),
    llmModelKind: real ? 'EARSHOT_BENCH_LLM_MODEL' : 'stories260K (tiny; per-token overhead)',
    llmBackend: llm.backend,
    llmGpuLayers: llm.gpuLayers,
    llmThreads: threads,
    llmTokens: e0.tokens,
    llmSameOutput: sameOutput ? 'yes' : 'no',
    llmEarshotTokPerSec: +eMed.toFixed(1),
    llmDirectTokPerSec: +dMed.toFixed(1),
    llmRatioVsDirect: +ratio.toFixed(3),
    llmPairedRatio: +paired.toFixed(3),
  };
}
