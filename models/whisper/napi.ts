import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type * as WorkerThreads from 'node:worker_threads';
import type * as NapiWhisper from '@napi-rs/whisper';
import { planChunks } from './chunks.ts';
import {
  TranscriptionAborted,
  type LoadOptions,
  type LoadedWhisper,
  type TranscribeOptions,
  type WhisperResult,
  type WhisperSegment,
} from './types.ts';

/**
 * @napi-rs/whisper: the fastest CPU build on linux-x64 (AVX), but its whisper_full() is a
 * synchronous call whose progress and segment callbacks only reach JavaScript after it returns,
 * and whose abort callback always answers "go on". So it runs in a worker thread (the worker
 * process's own thread stays free for heartbeats and cancel messages), over pieces of about two
 * minutes cut at quiet spots: progress and cancellation happen between pieces. The tail of each
 * piece's text is carried into the next piece's prompt so the style stays continuous.
 */

interface ThreadRun {
  type: 'run';
  samples: Float32Array;
  cuts: number[];
  language: string;
  prompt: string;
  threads: number;
}

type ThreadMessage =
  | { type: 'loaded' }
  | { type: 'piece'; index: number; segments: WhisperSegment[]; language: string | null }
  | { type: 'stopped' }
  | { type: 'done' }
  | { type: 'error'; message: string };

/**
 * The thread's program. Stringified into an eval'd worker so that it runs the same from the
 * TypeScript sources and from Electron's bundle (no separate entry file to locate); it must not
 * close over anything in this module.
 */
function threadMain(): void {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { parentPort, workerData } = require('node:worker_threads') as typeof WorkerThreads;
  const data = workerData as { bindingPath: string; modelPath: string; gpu: boolean; gpuDevice: number };
  const napi = require(data.bindingPath) as typeof NapiWhisper;
  /* eslint-enable @typescript-eslint/no-require-imports */
  const port = parentPort!;
  // whisper.cpp narrates every load and run on stderr. The binding's setupLogger() would quiet
  // it, but calling it from a worker thread aborts the process (a Rust panic, seen with 0.0.4).
  let whisper: InstanceType<typeof napi.Whisper>;
  try {
    whisper = new napi.Whisper(data.modelPath, { useGpu: data.gpu, gpuDevice: data.gpuDevice });
  } catch (err) {
    port.postMessage({ type: 'error', message: (err as Error).message });
    return;
  }
  let stop = false;
  const squash = (s: string) => s.replace(/\s+/g, '');
  const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 0));
  port.on('message', (msg: { type: string } & Record<string, unknown>) => {
    if (msg.type === 'stop') {
      stop = true;
      return;
    }
    if (msg.type !== 'run') return;
    stop = false;
    const run = msg as unknown as ThreadRun;
    void (async () => {
      let carry = '';
      for (let i = 0; i + 1 < run.cuts.length; i++) {
        // Cancel messages are delivered while we wait here, between pieces.
        await tick();
        if (stop) {
          port.postMessage({ type: 'stopped' });
          return;
        }
        const from = run.cuts[i]!;
        const piece = run.samples.subarray(from, run.cuts[i + 1]!);
        const offsetMs = Math.round((from / 16000) * 1000);
        const got: { text: string; start: number; end: number }[] = [];
        const params = new napi.WhisperFullParams(napi.WhisperSamplingStrategy.Greedy);
        params.nThreads = run.threads;
        params.language = run.language;
        params.printProgress = false;
        params.printRealtime = false;
        params.printTimestamps = false;
        params.printSpecial = false;
        const prompt = [run.prompt, carry].filter(Boolean).join(' ');
        if (prompt) params.initialPrompt = prompt;
        params.onNewSegment = (s) => got.push(s);
        let text: string;
        try {
          text = whisper.full(params, piece);
        } catch (err) {
          port.postMessage({ type: 'error', message: (err as Error).message });
          return;
        }
        // The segment callbacks were queued while full() blocked this thread; let them land
        // (their text, joined, is what full() returned).
        for (let wait = 0; wait < 200 && squash(got.map((g) => g.text).join('')) !== squash(text); wait++)
          await tick();
        const lang = run.language === 'auto' ? napi.Whisper.lang(whisper.fullLangId) : run.language;
        port.postMessage({
          type: 'piece',
          index: i,
          language: lang,
          segments: got.map((g) => ({
            startMs: offsetMs + g.start * 10,
            endMs: offsetMs + g.end * 10,
            text: g.text,
          })),
        });
        carry = text.slice(-200).trim();
      }
      port.postMessage({ type: 'done' });
    })();
  });
  port.postMessage({ type: 'loaded' });
}

const localRequire = createRequire(import.meta.url);

export async function loadNapi(modelPath: string, options: LoadOptions): Promise<LoadedWhisper> {
  const worker = new Worker(`(${threadMain.toString()})()`, {
    eval: true,
    workerData: {
      bindingPath: localRequire.resolve('@napi-rs/whisper'),
      modelPath,
      gpu: options.gpu,
      gpuDevice: options.gpuDevice ?? 0,
    },
  });
  let busy = false;
  let closed = false;
  let lastError: Error | null = null;
  worker.on('error', (err) => (lastError = err));
  await new Promise<void>((resolve, reject) => {
    const onMessage = (m: ThreadMessage) => {
      worker.off('message', onMessage);
      worker.off('exit', onExit);
      if (m.type === 'loaded') resolve();
      else {
        void worker.terminate();
        reject(new Error(m.type === 'error' ? m.message : `unexpected ${m.type}`));
      }
    };
    const onExit = () => reject(lastError ?? new Error('The Whisper thread stopped while loading the model'));
    worker.on('message', onMessage);
    worker.once('exit', onExit);
  });

  return {
    binding: 'napi-rs',
    variant: 'default',
    gpu: options.gpu,
    async transcribe(samples: Float32Array, opts: TranscribeOptions): Promise<WhisperResult> {
      if (closed) throw new Error('This Whisper model was unloaded');
      if (busy) throw new Error('This Whisper model is already transcribing (one job at a time)');
      if (opts.signal?.aborted) throw new TranscriptionAborted(opts.signal.reason);
      busy = true;
      const cuts = planChunks(samples);
      const segments: WhisperSegment[] = [];
      let language: string | null = null;
      try {
        await new Promise<void>((resolve, reject) => {
          const onAbort = () => worker.postMessage({ type: 'stop' });
          const cleanup = () => {
            worker.off('message', onMessage);
            worker.off('exit', onExit);
            opts.signal?.removeEventListener('abort', onAbort);
          };
          const onMessage = (m: ThreadMessage) => {
            if (m.type === 'piece') {
              segments.push(...m.segments);
              language ??= m.language;
              opts.onProgress?.(Math.min(1, cuts[m.index + 1]! / samples.length));
              return;
            }
            cleanup();
            if (m.type === 'done') resolve();
            else if (m.type === 'stopped') reject(new TranscriptionAborted(opts.signal?.reason));
            else reject(new Error(m.type === 'error' ? m.message : `unexpected ${m.type}`));
          };
          const onExit = () => {
            cleanup();
            reject(lastError ?? new Error('The Whisper thread stopped during transcription'));
          };
          opts.signal?.addEventListener('abort', onAbort, { once: true });
          worker.on('message', onMessage);
          worker.once('exit', onExit);
          // A copy, handed over without a second copy: the caller keeps its samples.
          const copy = samples.slice();
          worker.postMessage(
            {
              type: 'run',
              samples: copy,
              cuts,
              language: opts.language ?? 'auto',
              prompt: opts.prompt ?? '',
              threads: opts.threads,
            } satisfies ThreadRun,
            [copy.buffer],
          );
        });
      } finally {
        busy = false;
      }
      return { segments, language };
    },
    async close() {
      closed = true;
      await worker.terminate();
    },
  };
}
