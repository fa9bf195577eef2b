/**
 * The whisper.cpp bindings Earshot can drive, behind one small interface, so the transcription
 * step never depends on which one this platform uses (see choose.ts for the rule and README for
 * the measurements behind it).
 */
export type BindingId = 'napi-rs' | 'fugood';
/** Builds of @fugood/whisper.node: default (CPU; Metal on macOS), CUDA or Vulkan. */
export type BindingVariant = 'default' | 'cuda' | 'vulkan';

export interface WhisperSegment {
  startMs: number;
  endMs: number;
  text: string;
}

export interface WhisperResult {
  segments: WhisperSegment[];
  /** ISO 639-1 code Whisper detected (or was told); null when the binding does not say. */
  language: string | null;
}

export interface TranscribeOptions {
  /** ISO code, or 'auto' to detect (multilingual models). Default 'auto'. English-only models ignore it. */
  language?: string;
  /** Initial prompt: words Whisper should expect (show and host names). Default none. */
  prompt?: string;
  /** CPU threads for whisper.cpp. Always set explicitly: defaults oversubscribe small machines. */
  threads: number;
  signal?: AbortSignal;
  /** 0..1 as the audio is worked through. */
  onProgress?: (fraction: number) => void;
}

export interface LoadOptions {
  /** Use the GPU backend compiled into the build (CUDA, Metal, Vulkan). */
  gpu: boolean;
  /** Which GPU, for machines with several. Default 0. */
  gpuDevice?: number;
  variant?: BindingVariant;
}

/** A model loaded into a binding; kept warm by its worker between jobs. */
export interface LoadedWhisper {
  readonly binding: BindingId;
  readonly variant: BindingVariant;
  readonly gpu: boolean;
  /** 16 kHz mono float samples in [-1, 1]. */
  transcribe(samples: Float32Array, options: TranscribeOptions): Promise<WhisperResult>;
  close(): Promise<void>;
}

/** The step was cancelled (its AbortSignal fired) while Whisper ran. */
export class TranscriptionAborted extends Error {
  constructor(reason?: unknown) {
    super(reason instanceof Error ? reason.message : 'Transcription was cancelled');
    this.name = 'TranscriptionAborted';
  }
}

export const SAMPLE_RATE = 16_000;
