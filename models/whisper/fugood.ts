import {
  TranscriptionAborted,
  type LoadOptions,
  type LoadedWhisper,
  type TranscribeOptions,
  type WhisperResult,
} from './types.ts';

const FUGOOD = '@fugood/whisper.node';

interface FugoodContext {
  transcribeData(
    audio: ArrayBuffer,
    options: {
      language?: string;
      maxThreads?: number;
      prompt?: string;
      onProgress?: (percent: number) => void;
    },
  ): {
    stop(): Promise<void>;
    promise: Promise<{
      language?: string;
      isAborted: boolean;
      segments: { text: string; t0: number; t1: number }[];
    }>;
  };
  release(): Promise<void>;
}

interface FugoodModule {
  initWhisper(
    options: { filePath: string; useGpu?: boolean },
    variant?: 'default' | 'cuda' | 'vulkan',
  ): Promise<FugoodContext>;
}

/**
 * @fugood/whisper.node: prebuilt for macOS (Metal), Windows and Linux, with CUDA and Vulkan
 * builds. Transcription runs on its own native thread, reports progress as it goes and stops
 * when asked, so the whole episode is one call.
 */
export async function loadFugood(modelPath: string, options: LoadOptions): Promise<LoadedWhisper> {
  // Typed here: the package ships its TypeScript sources, not declarations, and they do not
  // compile under this project's settings.
  const { initWhisper } = (await import(FUGOOD)) as FugoodModule;
  const variant = options.variant ?? 'default';
  const ctx = await initWhisper({ filePath: modelPath, useGpu: options.gpu }, variant);
  let busy = false;
  let closed = false;
  /** A run that was told to stop and may still be going. */
  let running: Promise<void> | null = null;
  return {
    binding: 'fugood',
    variant,
    gpu: options.gpu,
    async transcribe(samples: Float32Array, opts: TranscribeOptions): Promise<WhisperResult> {
      if (closed) throw new Error('This Whisper model was unloaded');
      if (busy || running) throw new Error('This Whisper model is busy (one job at a time)');
      if (opts.signal?.aborted) throw new TranscriptionAborted(opts.signal.reason);
      busy = true;
      // The binding wants an ArrayBuffer of exactly these samples.
      const data =
        samples.byteOffset === 0 && samples.byteLength === samples.buffer.byteLength
          ? (samples.buffer as ArrayBuffer)
          : samples.slice().buffer;
      const job = ctx.transcribeData(data, {
        language: opts.language ?? 'auto',
        maxThreads: opts.threads,
        ...(opts.prompt ? { prompt: opts.prompt } : {}),
        onProgress: (p) => opts.onProgress?.(Math.max(0, Math.min(1, p / 100))),
      });
      // Asked to stop, the binding does not always settle its promise (seen on the CPU build):
      // the step is answered at once, and the native run is left to finish or stop on its own;
      // the context is released only after it has.
      let stopped: () => void = () => {};
      const aborted = new Promise<never>((_, reject) => {
        stopped = () => reject(new TranscriptionAborted(opts.signal?.reason));
      });
      const onAbort = () => {
        running = job.promise.then(
          () => undefined,
          () => undefined,
        );
        void job.stop().catch(() => undefined);
        stopped();
      };
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      try {
        const r = await Promise.race([job.promise, aborted]);
        if (r.isAborted || opts.signal?.aborted) throw new TranscriptionAborted(opts.signal?.reason);
        return {
          language: r.language ?? null,
          segments: r.segments.map((s) => ({ startMs: s.t0, endMs: s.t1, text: s.text.trim() })),
        };
      } finally {
        opts.signal?.removeEventListener('abort', onAbort);
        busy = false;
      }
    },
    async close() {
      closed = true;
      // Never release a context a stopped run may still be using: wait for it (bounded), else
      // leave it to the process's end.
      if (running) {
        const settled = await Promise.race([
          running.then(() => true),
          new Promise<boolean>((r) => setTimeout(() => r(false), 30_000).unref()),
        ]);
        if (!settled) return;
      }
      await ctx.release();
    },
  };
}
