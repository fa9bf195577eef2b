import fs from 'node:fs';
import os from 'node:os';
import type {
  ChatHistoryItem,
  Llama,
  LlamaContext,
  LlamaContextSequence,
  LlamaGrammar,
  LlamaModel,
  Token,
} from 'node-llama-cpp';

/**
 * The language-model runtime: node-llama-cpp behind a small interface, Electron-free. One model is
 * kept loaded ("warm") per worker process, like Whisper in pipeline/steps/transcribe.ts: loading a
 * multi-gigabyte GGUF takes seconds, and a summary job makes dozens of calls.
 *
 * Lanes: LLM work runs on the gpu lane, which runs one job per GPU device (sharing it with Whisper,
 * one job at a time), or one at a time on the CPU where there is no GPU; the model is loaded once
 * per gpu-lane worker, never once per cpu worker. The step passes `gpu: llmGpu(ctx.device)` to
 * `acquireLlm`: the worker's process sees only its own device.
 */

/** Where generation runs: 'auto' picks CUDA/Metal (then Vulkan) when a binary for it works; false is CPU only. */
export type LlmGpu = 'auto' | false;

export interface LlmLoadOptions {
  /** 'auto' (CUDA or Metal when usable, else CPU) or false (CPU only). Default 'auto'. */
  gpu?: LlmGpu;
  /** Threads for generation and prompt evaluation. Default llmThreads(gpu !== false). */
  threads?: number;
  /** Upper bound on the context, in tokens; the model's train context caps it too. Default 4096 (EARSHOT_LLM_CONTEXT). */
  maxContext?: number;
  /** Cancels a load in progress. */
  signal?: AbortSignal;
}

export interface LoadedLlm {
  readonly file: string;
  readonly llama: Llama;
  readonly model: LlamaModel;
  readonly context: LlamaContext;
  /** The one sequence every call on this model uses, one call at a time (see `exclusive`). */
  readonly sequence: LlamaContextSequence;
  /** 'cuda' | 'metal' | 'vulkan', or 'cpu'. */
  readonly backend: string;
  /** Names of the GPU devices in use (empty on the CPU). */
  readonly devices: string[];
  /** Layers offloaded to the GPU, of `layers`. */
  readonly gpuLayers: number;
  readonly layers: number;
  readonly contextSize: number;
  readonly trainContextSize: number;
  readonly threads: number;
  /** The model's chat wrapper (its chat template): how prompts are framed for it. */
  readonly chatWrapper: string;
}

/** A cancelled generation: the caller stops, nothing is recorded. */
export class LlmAborted extends Error {
  constructor(reason?: unknown) {
    super(reason instanceof Error ? reason.message : 'Language-model work was cancelled');
    this.name = 'LlmAborted';
  }
}

/** The model could not be loaded: the message says why and what the person can do. */
export class LlmLoadError extends Error {
  constructor(file: string, cause: unknown) {
    const why = (cause instanceof Error ? cause.message : String(cause)).replace(/\.+$/, '');
    const memory = /memory|alloc|vram|ram/i.test(why);
    super(
      `Earshot could not load the language model ${file}: ${why}. ` +
        (memory
          ? 'It needs more memory than is free: close other programs, or choose a smaller model (`earshot models use`).'
          : 'The file may be damaged or of a kind this version cannot run: install it again (`earshot models install`) or choose another (`earshot models use`).') +
        ' Until then, episodes are understood with the classic tier.',
      { cause },
    );
    this.name = 'LlmLoadError';
  }
}

/** The model answered with something unusable (cut off, not JSON): retrying may help, a bigger model more. */
export class LlmOutputError extends Error {
  readonly output: string;
  constructor(message: string, output: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LlmOutputError';
    this.output = output;
  }
}

export const DEFAULT_MAX_CONTEXT = 4096;

/**
 * Threads for llama.cpp: EARSHOT_LLM_THREADS, else half the cores on the CPU (the cpu lane also
 * runs embeddings and NLP, and llama.cpp's spinning threads slow to a crawl when oversubscribed),
 * 4 at most beside a GPU (which does the math). Always at least 1.
 */
export function llmThreads(gpu: boolean, env: NodeJS.ProcessEnv = process.env): number {
  const set = Number(env.EARSHOT_LLM_THREADS);
  if (Number.isInteger(set) && set > 0) return set;
  const cores = os.availableParallelism();
  return Math.max(1, gpu ? Math.min(4, cores) : Math.floor(cores / 2));
}

/**
 * Where a job's generation runs: on its worker's GPU ('auto': the layers that fit, the rest on
 * the CPU) when the worker is bound to one, else on the CPU. LLM work runs on the gpu lane (one
 * job per device, the model loaded once per device); on a machine without a GPU that lane runs
 * it on the CPU, one job at a time. EARSHOT_LLM_GPU=off keeps it off the GPU.
 */
export function llmGpu(device: { backend: string } | null, env: NodeJS.ProcessEnv = process.env): LlmGpu {
  if (env.EARSHOT_LLM_GPU === 'off' || !device) return false;
  return 'auto';
}

/** The context to ask for: the model's train context, capped by `maxContext` (default 4096). */
export function contextSizeFor(trainContextSize: number, maxContext?: number): number {
  const cap = maxContext ?? (Number(process.env.EARSHOT_LLM_CONTEXT) || DEFAULT_MAX_CONTEXT);
  return Math.max(64, Math.min(cap, trainContextSize || cap));
}

// One llama.cpp binding per gpu setting per process: getLlama() loads and self-tests a native
// binary, which takes most of a second.
const bindings = new Map<string, Promise<Llama>>();

async function bindingFor(gpu: LlmGpu, threads: number): Promise<Llama> {
  const key = String(gpu);
  let llama = bindings.get(key);
  if (!llama) {
    llama = (async () => {
      const { getLlama, LlamaLogLevel } = await import('node-llama-cpp');
      // build 'never': Earshot uses the prebuilt binaries it ships; it never compiles on a user's machine.
      return getLlama({
        gpu,
        build: 'never',
        maxThreads: threads,
        logLevel: LlamaLogLevel.error,
        progressLogs: false,
      });
    })();
    bindings.set(key, llama);
    llama.catch(() => bindings.delete(key));
  }
  const ready = await llama;
  // maxThreads caps every context of this binding: raise it when a caller asks for more.
  if (ready.maxThreads !== 0 && ready.maxThreads < threads) ready.maxThreads = threads;
  return ready;
}

/**
 * Loads a GGUF model and one context for it. On a GPU, node-llama-cpp offloads as many layers as
 * fit beside the context ('auto'); on the CPU none. Prefer `acquireLlm`, which keeps it warm.
 */
export async function loadLlm(file: string, options: LlmLoadOptions = {}): Promise<LoadedLlm> {
  checkGgufHeader(file);
  const gpu = options.gpu ?? 'auto';
  const threads = options.threads ?? llmThreads(gpu !== false);
  const llama = await bindingFor(gpu, threads);
  const backend = llama.gpu === false ? 'cpu' : llama.gpu;
  let model: LlamaModel;
  try {
    model = await llama.loadModel({
      modelPath: file,
      gpuLayers: backend === 'cpu' ? 0 : 'auto',
      ...(options.signal ? { loadSignal: options.signal } : {}),
    });
  } catch (err) {
    if (options.signal?.aborted) throw new LlmAborted(options.signal.reason);
    throw new LlmLoadError(file, err);
  }
  try {
    const wanted = contextSizeFor(model.trainContextSize, options.maxContext);
    const context = await model.createContext({
      // Smaller than asked only when memory is short: map-reduce reads the size it got.
      contextSize: { min: Math.min(512, wanted), max: wanted },
      threads,
      sequences: 1,
      ...(options.signal ? { createSignal: options.signal } : {}),
    });
    const sequence = context.getSequence();
    const { LlamaChat } = await import('node-llama-cpp');
    // Which chat template the model's metadata resolves to (recorded with the step's output).
    const probe = new LlamaChat({ contextSequence: sequence, autoDisposeSequence: false });
    const chatWrapper = probe.chatWrapper.wrapperName;
    probe.dispose({ disposeSequence: false });
    return {
      file,
      llama,
      model,
      context,
      sequence,
      backend,
      devices: backend === 'cpu' ? [] : await llama.getGpuDeviceNames(),
      gpuLayers: model.gpuLayers,
      layers: model.fileInsights.totalLayers,
      contextSize: context.contextSize,
      trainContextSize: model.trainContextSize,
      threads,
      chatWrapper,
    };
  } catch (err) {
    await model.dispose();
    if (options.signal?.aborted) throw new LlmAborted(options.signal.reason);
    throw new LlmLoadError(file, err);
  }
}

/**
 * Refuses a file that is not a GGUF of a version llama.cpp reads (1 to 3) before node-llama-cpp
 * sees it: its GGUF reader waits forever on some malformed headers (3.21.1: "GGUF" followed by
 * garbage), which would hang the worker instead of failing the job.
 */
export function checkGgufHeader(file: string): void {
  let head: Buffer;
  try {
    const fd = fs.openSync(file, 'r');
    try {
      head = Buffer.alloc(24);
      head = head.subarray(0, fs.readSync(fd, head, 0, 24, 0));
    } finally {
      fs.closeSync(fd);
    }
  } catch (err) {
    throw new LlmLoadError(file, err);
  }
  if (head.length < 24 || head.toString('latin1', 0, 4) !== 'GGUF')
    throw new LlmLoadError(file, new Error('it is not a GGUF model file'));
  const version = head.readUInt32LE(4);
  if (version < 1 || version > 3)
    throw new LlmLoadError(
      file,
      new Error(`it is a GGUF file of version ${version}, which llama.cpp cannot read`),
    );
}

/** Frees a loaded model and its context (the binding stays for the next load). */
export async function closeLlm(llm: LoadedLlm): Promise<void> {
  await llm.context.dispose();
  await llm.model.dispose();
}

// Calls on one model share its single sequence: they run one after another.
const queues = new WeakMap<LoadedLlm, Promise<unknown>>();

interface Warm {
  key: string;
  llm: LoadedLlm;
  idle: NodeJS.Timeout | null;
  users: number;
}
let warm: Warm | null = null;
let loading: Promise<LoadedLlm> | null = null;
/** Loads so far in this process: tests read it to prove the model stayed warm. */
export let llmLoads = 0;

/** Unloaded after this long without work (EARSHOT_LLM_IDLE_MS, default 10 minutes). */
function idleMs(): number {
  return Number(process.env.EARSHOT_LLM_IDLE_MS ?? 10 * 60_000);
}
/** Below this much free memory after a job, the model is unloaded rather than kept warm. */
const LOW_MEMORY_BYTES = 1024 * 1024 * 1024;

function warmKey(file: string, options: LlmLoadOptions): string {
  const gpu = options.gpu ?? 'auto';
  return JSON.stringify([
    file,
    gpu,
    options.threads ?? llmThreads(gpu !== false),
    options.maxContext ?? null,
  ]);
}

/** Unloads the warm model now (a worker shutting down, memory pressure, a model change). */
export async function unloadLlm(): Promise<void> {
  const w = warm;
  warm = null;
  if (!w) return;
  if (w.idle) clearTimeout(w.idle);
  // A call still running on it finishes first (or fails by its own signal), then it is freed.
  await queues.get(w.llm);
  await closeLlm(w.llm);
}

/** The warm model, if one is loaded in this process (for status and tests). */
export function warmLlm(): LoadedLlm | null {
  return warm?.llm ?? null;
}

/**
 * The model for this file and settings, loaded once per worker and kept warm between jobs. Call
 * `releaseLlm()` when the job is done (in a finally): the idle timer starts then.
 */
export async function acquireLlm(file: string, options: LlmLoadOptions = {}): Promise<LoadedLlm> {
  const key = warmKey(file, options);
  if (loading) await loading.catch(() => undefined);
  if (warm && warm.key === key) {
    if (warm.idle) clearTimeout(warm.idle);
    warm.idle = null;
    warm.users++;
    return warm.llm;
  }
  await unloadLlm();
  loading = loadLlm(file, options);
  try {
    const llm = await loading;
    llmLoads++;
    warm = { key, llm, idle: null, users: 1 };
    return llm;
  } finally {
    loading = null;
  }
}

/** Ends a job's use of the warm model: it stays loaded for the next job unless memory is short. */
export function releaseLlm(): void {
  if (!warm) return;
  warm.users = Math.max(0, warm.users - 1);
  if (warm.users > 0) return;
  if (os.freemem() < LOW_MEMORY_BYTES) {
    void unloadLlm();
    return;
  }
  const w = warm;
  w.idle = setTimeout(() => {
    if (warm === w) void unloadLlm();
  }, idleMs());
  // An idle model never keeps the worker alive on its own.
  w.idle.unref();
}

/** Runs `fn` with the model's sequence to itself. */
export function exclusive<T>(llm: LoadedLlm, fn: () => Promise<T>): Promise<T> {
  const before = queues.get(llm) ?? Promise.resolve();
  const run = before.then(fn, fn);
  queues.set(
    llm,
    run.catch(() => undefined),
  );
  return run;
}

/** Tokens this text is for the model (what budgets are counted in). */
export function countTokens(llm: LoadedLlm, text: string): number {
  return llm.model.tokenize(text).length;
}

export interface GenerateOptions {
  /** Stops generation; the call then throws LlmAborted. */
  signal?: AbortSignal;
  /** Most tokens to generate. Default 512. */
  maxTokens?: number;
  /** Sampling temperature; 0 is greedy (deterministic). Default 0. */
  temperature?: number;
  /** Seed for sampling when temperature > 0. Default none. */
  seed?: number;
  /** Output constrained to this grammar (see generateJson). Default none. */
  grammar?: LlamaGrammar;
  /** Called with each generated piece of text. */
  onText?: (text: string) => void;
  /** Called with the count of tokens generated so far. */
  onTokens?: (generated: number) => void;
}

export interface Generated {
  text: string;
  /** Tokens generated. */
  tokens: number;
  /** Why it stopped: 'eogToken' (the model finished), 'maxTokens', 'abort', … */
  stopReason: string;
}

/** Prompt tokens evaluated between two looks at the signal (EARSHOT_LLM_PREFILL_CHUNK, default 256). */
function prefillChunk(llm: LoadedLlm): number {
  const set = Number(process.env.EARSHOT_LLM_PREFILL_CHUNK);
  return Math.max(16, Math.min(llm.context.batchSize, Number.isInteger(set) && set > 0 ? set : 256));
}

/**
 * Evaluates a prompt into the sequence a chunk at a time, checking the signal between chunks.
 * node-llama-cpp looks at the signal only once tokens are being generated, and a transcript piece
 * of 3,000 tokens takes a large model on a CPU a minute to read: without this, a cancelled job
 * would run that long. The KV cache keeps what an earlier call shared with this prompt; the last
 * token is left for the generation call, which then finds the rest already evaluated (were its
 * tokenization to differ, it re-evaluates from the first difference: slower, never wrong).
 */
async function prefill(llm: LoadedLlm, tokens: Token[], signal: AbortSignal | undefined): Promise<void> {
  const seq = llm.sequence;
  const upTo = tokens.slice(0, -1);
  if (upTo.length === 0) return;
  await seq.adaptStateToTokens(upTo, false);
  const chunk = prefillChunk(llm);
  for (let i = seq.nextTokenIndex; i < upTo.length; i += chunk) {
    if (signal?.aborted) aborted(signal);
    await seq.evaluateWithoutGeneratingNewTokens(upTo.slice(i, i + chunk));
  }
}

function aborted(signal: AbortSignal | undefined): never {
  throw new LlmAborted(signal?.reason);
}

function isAbort(err: unknown, signal: AbortSignal | undefined): boolean {
  return !!signal?.aborted || (err instanceof Error && err.name === 'AbortError');
}

/**
 * Raw text completion (no chat template): the prompt is continued. What the benchmark measures, and
 * the way to drive a base (non-instruct) model.
 */
export function complete(llm: LoadedLlm, prompt: string, options: GenerateOptions = {}): Promise<Generated> {
  return exclusive(llm, async () => {
    if (options.signal?.aborted) aborted(options.signal);
    const { LlamaCompletion } = await import('node-llama-cpp');
    const completion = new LlamaCompletion({ contextSequence: llm.sequence });
    let tokens = 0;
    try {
      // As LlamaCompletion tokenizes its input, so that the prefilled tokens are the ones it reuses.
      const bos = llm.model.tokens.shouldPrependBosToken ? llm.model.tokens.bos : null;
      const input =
        bos !== null
          ? [bos, ...llm.model.tokenize(prompt, false, 'trimLeadingSpace')]
          : llm.model.tokenize(prompt);
      await prefill(llm, input, options.signal);
      const out = await completion.generateCompletionWithMeta(
        prompt,
        samplingOptions(options, (n) => (tokens += n)),
      );
      return { text: out.response, tokens, stopReason: out.metadata.stopReason };
    } catch (err) {
      if (isAbort(err, options.signal)) aborted(options.signal);
      throw err;
    } finally {
      completion.dispose({ disposeSequence: false });
    }
  });
}

/** The generation options both completion and chat pass to node-llama-cpp; `count` adds tokens as they come. */
function samplingOptions(options: GenerateOptions, count: (n: number) => number) {
  return {
    maxTokens: options.maxTokens ?? 512,
    temperature: options.temperature ?? 0,
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    ...(options.grammar ? { grammar: options.grammar } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onText ? { onTextChunk: options.onText } : {}),
    onToken: (t: Token[]) => {
      const total = count(t.length);
      options.onTokens?.(total);
    },
  };
}

export interface ChatPrompt {
  /** Instructions framed as the system message (kept identical across calls so the cache reuses it). */
  system: string;
  user: string;
}

/**
 * One instruction through the model's chat template (a fresh conversation each call). The KV
 * cache keeps the longest prefix the previous call shared with this one, so prompts that put the
 * same system text and transcript first and vary only the task at the end evaluate it once.
 */
export function chat(llm: LoadedLlm, prompt: ChatPrompt, options: GenerateOptions = {}): Promise<Generated> {
  return exclusive(llm, async () => {
    if (options.signal?.aborted) aborted(options.signal);
    const { LlamaChat } = await import('node-llama-cpp');
    const session = new LlamaChat({ contextSequence: llm.sequence, autoDisposeSequence: false });
    const history: ChatHistoryItem[] = [
      { type: 'system', text: prompt.system },
      { type: 'user', text: prompt.user },
      { type: 'model', response: [] },
    ];
    let tokens = 0;
    try {
      const { contextText } = session.chatWrapper.generateContextState({ chatHistory: history });
      await prefill(llm, contextText.tokenize(llm.model.tokenizer), options.signal);
      const out = await session.generateResponse(
        history,
        samplingOptions(options, (n) => (tokens += n)),
      );
      return { text: out.response, tokens, stopReason: out.metadata.stopReason };
    } catch (err) {
      if (isAbort(err, options.signal)) aborted(options.signal);
      throw err;
    } finally {
      session.dispose({ disposeSequence: false });
    }
  });
}

/** What a step records about where and how the model ran. */
export function describeLlm(llm: LoadedLlm): {
  backend: string;
  devices: string[];
  gpuLayers: number;
  layers: number;
  contextSize: number;
  threads: number;
  chatWrapper: string;
} {
  return {
    backend: llm.backend,
    devices: llm.devices,
    gpuLayers: llm.gpuLayers,
    layers: llm.layers,
    contextSize: llm.contextSize,
    threads: llm.threads,
    chatWrapper: llm.chatWrapper,
  };
}
