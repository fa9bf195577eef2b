import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { GbnfJsonSchema } from 'node-llama-cpp';
import {
  acquireLlm,
  chat,
  complete,
  contextSizeFor,
  countTokens,
  ENTITIES_SCHEMA,
  entitiesPrompt,
  generateJson,
  groupForReduce,
  INSIGHT_TYPES,
  INSIGHTS_SCHEMA,
  insightsPrompt,
  jsonTokenBound,
  llmGpu,
  llmLoads,
  LlmAborted,
  LlmLoadError,
  loadLlm,
  llmThreads,
  llmUnderstand,
  mapReduce,
  mergeEntities,
  PROMPT_VERSION,
  releaseLlm,
  splitByTokens,
  SUMMARY_SCHEMA,
  summaryPrompt,
  unloadLlm,
  validateJson,
  warmLlm,
  type LoadedLlm,
} from '../../models/llm/index.ts';
import { repoRoot, tempDir } from '../helpers/env.ts';

/**
 * The LLM runtime with a real (tiny) llama: stories260K, a 260K-parameter model trained on
 * children's stories. It is not an instruct model, so nothing here asserts on meaning: loading,
 * generation, grammar-constrained JSON, map-reduce control flow, cancellation and warm reuse.
 */
const MODEL = path.resolve(repoRoot, 'test/fixtures/models/llm/stories260K.gguf');
const THREADS = 1;
const cpu = { gpu: false as const, threads: THREADS };

const story = Array.from(
  { length: 80 },
  (_, i) =>
    `Lily and Tom went to park number ${i}. They saw a big red ball, and Tom said: "Let's play!" ` +
    (i % 7 === 0 ? 'Then it rained.\n' : ''),
).join('');

let llm: LoadedLlm;

beforeAll(async () => {
  expect(fs.existsSync(MODEL), `${MODEL} is missing`).toBe(true);
  llm = await acquireLlm(MODEL, cpu);
});

afterAll(async () => {
  releaseLlm();
  await unloadLlm();
});

describe('loading', () => {
  it('loads on the CPU when told to, with explicit threads and the context the model was trained with', () => {
    expect(llm.backend).toBe('cpu');
    expect(llm.devices).toEqual([]);
    expect(llm.gpuLayers).toBe(0);
    expect(llm.layers).toBeGreaterThan(0);
    expect(llm.threads).toBe(THREADS);
    expect(llm.trainContextSize).toBeGreaterThan(0);
    // Train context below the 4096 default cap: the context is the train context.
    expect(llm.contextSize).toBe(contextSizeFor(llm.trainContextSize));
    expect(llm.contextSize).toBe(Math.min(4096, llm.trainContextSize));
    expect(countTokens(llm, 'Once upon a time')).toBeGreaterThan(0);
  });

  it('a file that is no model fails with a message for the person, not a stack', async () => {
    const dir = tempDir();
    // "GGUF" then garbage makes node-llama-cpp 3.21.1's reader wait forever: refused before it.
    const cases = [
      ['garbage-version.gguf', 'GGUF but not really, not at all'],
      ['not-gguf.gguf', 'x'.repeat(4096)],
      ['empty.gguf', ''],
    ];
    for (const [name, content] of cases) {
      const bad = path.join(dir, name!);
      fs.writeFileSync(bad, content!);
      const err = await loadLlm(bad, cpu).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LlmLoadError);
      expect((err as Error).message).toMatch(/could not load the language model .*\.gguf: .*earshot models/);
    }
  });

  it('caps the context at maxContext and at the train context', () => {
    expect(contextSizeFor(2048, 4096)).toBe(2048);
    expect(contextSizeFor(32768, 4096)).toBe(4096);
    expect(contextSizeFor(32768, 8192)).toBe(8192);
  });
});

describe('generation', () => {
  it('continues a prompt, greedily and so the same way twice', async () => {
    const a = await complete(llm, 'Once upon a time', { maxTokens: 40 });
    const b = await complete(llm, 'Once upon a time', { maxTokens: 40 });
    expect(a.tokens).toBeGreaterThan(0);
    expect(a.tokens).toBeLessThanOrEqual(40);
    expect(a.text.length).toBeGreaterThan(0);
    expect(b.text).toBe(a.text);
  });

  it('answers a chat prompt through the model’s chat template, streaming text and token counts', async () => {
    const chunks: string[] = [];
    const counts: number[] = [];
    const out = await chat(
      llm,
      { system: 'You tell stories.', user: 'Tell me about a cat.' },
      { maxTokens: 30, onText: (t) => chunks.push(t), onTokens: (n) => counts.push(n) },
    );
    expect(out.tokens).toBeGreaterThan(0);
    expect(out.tokens).toBeLessThanOrEqual(30);
    expect(chunks.join('')).toBe(out.text);
    expect(counts.at(-1)).toBe(out.tokens);
  });
});

describe('grammar-constrained JSON', () => {
  const schema = {
    type: 'object',
    properties: {
      title: { type: 'string', maxLength: 40 },
      mood: { enum: ['happy', 'sad', 'scared'] },
      count: { type: 'integer' },
      tags: { type: 'array', items: { type: 'string', maxLength: 12 }, minItems: 1, maxItems: 3 },
      done: { type: 'boolean' },
    },
  } as const;

  it('always parses and matches the schema, whatever the prompt (the default maxTokens cannot cut it off)', async () => {
    const bound = jsonTokenBound(schema)!;
    expect(bound).toBeGreaterThan(0);
    for (const prompt of ['Once upon a time', 'The dog', '{', 'Lily said']) {
      const out = await generateJson(llm, schema, prompt);
      expect(validateJson(schema, JSON.parse(out.text))).toEqual([]);
      expect(out.tokens).toBeLessThanOrEqual(bound);
      expect(['happy', 'sad', 'scared']).toContain(out.value.mood);
      expect(Number.isInteger(out.value.count)).toBe(true);
      expect(out.value.tags.length).toBeGreaterThanOrEqual(1);
      expect(out.value.tags.length).toBeLessThanOrEqual(3);
      expect([...out.value.title].length).toBeLessThanOrEqual(40);
    }
  });

  it('holds for the understanding prompts and their schemas through the chat template', async () => {
    const piece = story.slice(0, 600);
    const cases: Array<[GbnfJsonSchema, ReturnType<typeof summaryPrompt>]> = [
      [SUMMARY_SCHEMA, summaryPrompt(piece)],
      [INSIGHTS_SCHEMA, insightsPrompt(piece)],
      [ENTITIES_SCHEMA, entitiesPrompt(piece)],
    ];
    for (const [s, p] of cases) {
      const out = await generateJson(llm, s, p, { maxTokens: 1024 });
      expect(validateJson(s, out.value)).toEqual([]);
    }
  });

  it('the validator catches what the grammar rules out', () => {
    expect(
      validateJson(schema, { title: 'x', mood: 'angry', count: 1, tags: ['a'], done: true }),
    ).toHaveLength(1);
    expect(validateJson(schema, { title: 'x', mood: 'sad', count: 1.5, tags: [], done: true })).toHaveLength(
      2,
    );
    expect(
      validateJson(schema, { title: 'x', mood: 'sad', count: 1, tags: ['a'], done: true, extra: 1 }),
    ).toEqual(['$.extra: not in the schema']);
    expect(jsonTokenBound({ type: 'string' })).toBeNull();
  });
});

describe('map-reduce', () => {
  const count = (s: string): number => countTokens(llm, s);

  it('splits text into pieces within the token budget that cover it exactly, in order', () => {
    for (const budget of [40, 100, 300]) {
      const pieces = splitByTokens(story, budget, count);
      expect(pieces.length).toBeGreaterThan(1);
      let at = 0;
      for (const p of pieces) {
        expect(p.tokens).toBeLessThanOrEqual(budget);
        expect(count(p.text)).toBe(p.tokens);
        expect(p.start).toBe(at);
        at = p.end;
      }
      expect(at).toBe(story.length);
      expect(pieces.map((p) => p.text).join('')).toBe(story);
    }
    // A "sentence" longer than the budget is split on words.
    const long = 'word '.repeat(200);
    for (const p of splitByTokens(long, 25, count)) expect(p.tokens).toBeLessThanOrEqual(25);
  });

  it('groups results for a reduce so each group fits, and always makes progress', () => {
    expect(groupForReduce([10, 10, 10, 10], 25)).toEqual([
      [0, 1],
      [2, 3],
    ]);
    expect(groupForReduce([10, 10, 10], 100)).toEqual([[0, 1, 2]]);
    expect(groupForReduce([50, 50, 50], 40)).toEqual([[0, 1], [2]]);
  });

  it('maps every piece with the model, reduces level by level until one result, within the budgets', async () => {
    const mapped: number[] = [];
    const reduceSizes: number[] = [];
    const progress: number[] = [];
    const out = await mapReduce<string>({
      text: story,
      countTokens: count,
      pieceTokens: 120,
      reduceTokens: 40,
      map: async (piece) => {
        mapped.push(piece.tokens);
        const g = await complete(llm, piece.text.slice(-80), { maxTokens: 12 });
        return g.text;
      },
      reduce: async (items) => {
        reduceSizes.push(items.reduce((n, i) => n + count(i), 0));
        return (await complete(llm, items.join(' ').slice(-60), { maxTokens: 12 })).text;
      },
      render: (s) => s,
      onProgress: (p) => progress.push(p.fraction),
    });
    expect(out.mapCalls).toBe(out.pieces.length);
    expect(mapped).toHaveLength(out.pieces.length);
    for (const t of mapped) expect(t).toBeLessThanOrEqual(120);
    expect(out.reduceCalls).toBeGreaterThan(0);
    expect(out.levels).toBeGreaterThan(1);
    // Groups fit the reduce budget unless one item alone is over it (then they are paired).
    for (const s of reduceSizes) expect(s).toBeLessThanOrEqual(2 * 40);
    expect(typeof out.result).toBe('string');
    expect(progress.at(-1)).toBe(1);
    for (let i = 1; i < progress.length; i++) expect(progress[i]!).toBeGreaterThanOrEqual(progress[i - 1]!);
  });

  it('one piece: mapped, never reduced', async () => {
    const reduce = vi.fn();
    const out = await mapReduce<string>({
      text: 'Lily saw a cat.',
      countTokens: count,
      pieceTokens: 100,
      reduceTokens: 100,
      map: async (p) => p.text,
      reduce,
      render: (s) => s,
    });
    expect(out).toMatchObject({ result: 'Lily saw a cat.', mapCalls: 1, reduceCalls: 0, levels: 0 });
    expect(reduce).not.toHaveBeenCalled();
  });

  it('stops promptly when cancelled during a call, and makes no call after', async () => {
    const ac = new AbortController();
    let calls = 0;
    let abortedAt = 0;
    const run = mapReduce<string>({
      text: story,
      countTokens: count,
      pieceTokens: 100,
      reduceTokens: 1000,
      map: async (piece, signal) => {
        calls++;
        if (calls === 2) {
          setTimeout(() => {
            abortedAt = performance.now();
            ac.abort(new Error('the user cancelled'));
          }, 50);
        }
        // The second call is a generation far longer than the time allowed: only the signal ends it.
        const maxTokens = calls === 2 ? 100_000 : 5;
        return (await complete(llm, piece.text, { maxTokens, ...(signal ? { signal } : {}) })).text;
      },
      reduce: async () => 'never',
      render: (s) => s,
      signal: ac.signal,
    });
    await expect(run).rejects.toBeInstanceOf(LlmAborted);
    expect(performance.now() - abortedAt).toBeLessThan(2000);
    expect(calls).toBe(2);
    // The model is still usable after a cancelled call.
    expect((await complete(llm, 'Once upon a time', { maxTokens: 5 })).tokens).toBeGreaterThan(0);
  });
});

describe('cancellation', () => {
  it('a long generation stops within a bound of the abort, as LlmAborted', async () => {
    const ac = new AbortController();
    let tokens = 0;
    const t0 = performance.now();
    setTimeout(() => ac.abort(), 200);
    await expect(
      complete(llm, 'Once upon a time', {
        maxTokens: 1_000_000,
        signal: ac.signal,
        onTokens: (n) => (tokens = n),
      }),
    ).rejects.toBeInstanceOf(LlmAborted);
    expect(performance.now() - t0).toBeLessThan(2200);
    expect(tokens).toBeGreaterThan(0);
  });

  it('a long prompt is read a chunk at a time and cancelled between chunks, before any token is generated', async () => {
    const seq = llm.sequence;
    await seq.clearHistory();
    const ac = new AbortController();
    const chunks: number[] = [];
    const evaluate = seq.evaluateWithoutGeneratingNewTokens.bind(seq);
    const spy = vi.spyOn(seq, 'evaluateWithoutGeneratingNewTokens').mockImplementation(async (tokens, o) => {
      chunks.push(tokens.length);
      if (chunks.length === 2) ac.abort();
      return evaluate(tokens, o);
    });
    process.env.EARSHOT_LLM_PREFILL_CHUNK = '32';
    const onTokens = vi.fn();
    try {
      await expect(
        chat(llm, { system: 'You read.', user: story.slice(0, 3000) }, { signal: ac.signal, onTokens }),
      ).rejects.toBeInstanceOf(LlmAborted);
    } finally {
      spy.mockRestore();
      delete process.env.EARSHOT_LLM_PREFILL_CHUNK;
    }
    expect(chunks).toEqual([32, 32]);
    expect(onTokens).not.toHaveBeenCalled();
  });

  it('an already-aborted signal runs nothing', async () => {
    const onTokens = vi.fn();
    await expect(
      chat(llm, { system: 's', user: 'u' }, { signal: AbortSignal.abort(), onTokens }),
    ).rejects.toBeInstanceOf(LlmAborted);
    expect(onTokens).not.toHaveBeenCalled();
  });
});

describe('llmUnderstand (control flow only: stories260K is no instruct model)', () => {
  it('returns plain data in the schemas’ shapes, over several pieces, with progress to 1', async () => {
    const progress: Array<{ stage: string; fraction: number }> = [];
    const out = await llmUnderstand(story + story, {
      model: { id: 'stories260K', path: MODEL },
      llm,
      answerTokens: 200,
      onProgress: (p) => progress.push({ stage: p.stage, fraction: p.fraction }),
    });
    expect(out).toMatchObject({ tier: 'llm', promptVersion: PROMPT_VERSION, modelId: 'stories260K' });
    expect(out.run.pieces).toBeGreaterThan(1);
    expect(out.run.mapCalls).toBe(out.run.pieces);
    expect(out.run.reduceCalls).toBeGreaterThan(0);
    expect(out.run.pieceTokens + 200).toBeLessThan(out.run.contextSize);
    expect(JSON.parse(JSON.stringify(out))).toEqual(out);
    expect(validateJson(SUMMARY_SCHEMA, out.summary).length === 0 || out.run.warnings.length > 0).toBe(true);
    for (const i of out.insights) expect(INSIGHT_TYPES).toContain(i.type);
    for (const i of out.insights) expect(i.piece.end).toBeGreaterThan(i.piece.start);
    expect(progress.map((p) => p.stage)).toEqual(
      expect.arrayContaining(['summary', 'insights', 'entities', 'reduce']),
    );
    expect(progress.at(-1)).toEqual({ stage: 'done', fraction: 1 });
  });

  it('stops when cancelled', async () => {
    const ac = new AbortController();
    const run = llmUnderstand(story, {
      model: { id: 'stories260K', path: MODEL },
      llm,
      signal: ac.signal,
      onProgress: (p) => {
        if (p.stage === 'insights') ac.abort();
      },
    });
    await expect(run).rejects.toBeInstanceOf(LlmAborted);
  });

  it('merges entities by normalized name, keeping the strongest role', () => {
    const merged = mergeEntities(
      [
        { name: 'Lex Fridman', type: 'person', role: 'mentioned', piece: 0 },
        { name: 'lex fridman', type: 'person', role: 'host', piece: 1 },
        { name: 'MIT', type: 'organization', role: 'mentioned', piece: 1 },
      ],
      10,
    );
    expect(merged[0]).toEqual({
      name: 'Lex Fridman',
      type: 'person',
      role: 'host',
      aliases: ['lex fridman'],
      pieces: [0, 1],
    });
    expect(merged).toHaveLength(2);
  });
});

describe('warm reuse', () => {
  it('a prompt that shares its beginning with the last one reads only what is new', async () => {
    const seq = llm.sequence;
    const prompt = { system: 'You read stories.', user: story.slice(0, 2000) };
    await chat(llm, prompt, { maxTokens: 4 });
    const spy = vi.spyOn(seq, 'evaluateWithoutGeneratingNewTokens');
    try {
      const again = await chat(llm, prompt, { maxTokens: 4 });
      expect(again.tokens).toBeGreaterThan(0);
      // The system text and the piece are in the cache already: nothing is prefilled again.
      expect(spy).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
  });

  it('the same model and settings load once per worker; other settings load afresh', async () => {
    const before = llmLoads;
    const again = await acquireLlm(MODEL, cpu);
    expect(again).toBe(llm);
    releaseLlm();
    expect(llmLoads).toBe(before);
    expect(warmLlm()).toBe(llm);
    // Other settings (here the threads) are another load, replacing the warm one.
    const other = await acquireLlm(MODEL, { gpu: false, threads: 2 });
    expect(other).not.toBe(llm);
    expect(other.threads).toBe(2);
    expect(llmLoads).toBe(before + 1);
    releaseLlm();
    llm = await acquireLlm(MODEL, cpu);
    expect(llmLoads).toBe(before + 2);
  });

  it('an idle model is unloaded after EARSHOT_LLM_IDLE_MS, and loaded again on the next job', async () => {
    // The beforeAll acquisition is still held: release it so the model rests.
    const before = llmLoads;
    process.env.EARSHOT_LLM_IDLE_MS = '60000';
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      releaseLlm();
      expect(warmLlm()).toBe(llm);
      vi.advanceTimersByTime(60_000);
    } finally {
      vi.useRealTimers();
      delete process.env.EARSHOT_LLM_IDLE_MS;
    }
    await vi.waitFor(() => expect(warmLlm()).toBeNull());
    llm = await acquireLlm(MODEL, cpu);
    expect(llmLoads).toBe(before + 1);
    expect((await complete(llm, 'Once', { maxTokens: 3 })).tokens).toBeGreaterThan(0);
  });
});

describe('lanes and threads', () => {
  it("runs on the worker's GPU when it is bound to one, else on the CPU; EARSHOT_LLM_GPU=off keeps it off", () => {
    expect(llmGpu({ backend: 'cuda' }, {})).toBe('auto');
    expect(llmGpu({ backend: 'metal' }, {})).toBe('auto');
    expect(llmGpu(null, {})).toBe(false);
    expect(llmGpu({ backend: 'cuda' }, { EARSHOT_LLM_GPU: 'off' })).toBe(false);
  });

  it('threads: EARSHOT_LLM_THREADS, else half the cores on the CPU, at most 4 beside a GPU, never 0', () => {
    expect(llmThreads(false, { EARSHOT_LLM_THREADS: '3' })).toBe(3);
    expect(llmThreads(false, {})).toBeGreaterThanOrEqual(1);
    expect(llmThreads(true, {})).toBeLessThanOrEqual(4);
  });
});
