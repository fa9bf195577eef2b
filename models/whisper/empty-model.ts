/**
 * "Empty" whisper.cpp models: the real header (hyper-parameters) and mel filterbank of a Whisper
 * size, optionally a vocabulary, and NO tensors. whisper.cpp's loader accepts such a file ("no
 * tensors loaded from model file - assuming empty model for testing"), allocates the weights of
 * the declared size uninitialised and runs the whole pipeline (mel, encoder, decoder) at that
 * size's real cost, writing no words. Earshot uses them to measure what a machine can do before
 * any model is downloaded (`earshot models advise`), and tests use them for the plumbing.
 *
 * Layout written (little-endian), as whisper_model_load reads it:
 *   u32 magic 0x67676d6c ("ggml")
 *   i32 n_vocab, n_audio_ctx, n_audio_state, n_audio_head, n_audio_layer,
 *       n_text_ctx, n_text_state, n_text_head, n_text_layer, n_mels, ftype
 *   i32 n_mel, i32 n_fft, then n_mel * n_fft f32   (mel filterbank, row-major by mel band)
 *   i32 count, then count * (u32 length, bytes)     (BPE token bytes, ids 0..count-1)
 * The filterbank is computed as Whisper's mel_filters.npz was (librosa.filters.mel: Slaney mel
 * scale and area norm, 16 kHz, n_fft 400 -> 201 bins); it matches whisper.cpp's test models bit
 * for bit at 80 mels.
 */
import fs from 'node:fs';

export type WhisperModelSize =
  'tiny.en' | 'tiny' | 'base.en' | 'base' | 'small.en' | 'small' | 'medium' | 'large-v3-turbo';

export interface WhisperDims {
  n_vocab: number;
  n_audio_ctx: number;
  n_audio_state: number;
  n_audio_head: number;
  n_audio_layer: number;
  n_text_ctx: number;
  n_text_state: number;
  n_text_head: number;
  n_text_layer: number;
  n_mels: number;
}

/** The ModelDimensions of OpenAI's published checkpoints (what the ggml-*.bin files carry). */
export const WHISPER_DIMS: Readonly<Record<WhisperModelSize, Readonly<WhisperDims>>> = {
  'tiny.en': dims(51864, 384, 6, 4, 4),
  tiny: dims(51865, 384, 6, 4, 4),
  'base.en': dims(51864, 512, 8, 6, 6),
  base: dims(51865, 512, 8, 6, 6),
  'small.en': dims(51864, 768, 12, 12, 12),
  small: dims(51865, 768, 12, 12, 12),
  medium: dims(51865, 1024, 16, 24, 24),
  'large-v3-turbo': dims(51866, 1280, 20, 32, 4, 128),
};

function dims(
  nVocab: number,
  state: number,
  heads: number,
  audioLayers: number,
  textLayers: number,
  nMels = 80,
): WhisperDims {
  return {
    n_vocab: nVocab,
    n_audio_ctx: 1500,
    n_audio_state: state,
    n_audio_head: heads,
    n_audio_layer: audioLayers,
    n_text_ctx: 448,
    n_text_state: state,
    n_text_head: heads,
    n_text_layer: textLayers,
    n_mels: nMels,
  };
}

export const GGML_MAGIC = 0x67676d6c;
/** ftype 1 = F16 weights, as in the distributed ggml-*.bin files (sets the size of the weight buffers). */
export const GGML_FTYPE_F16 = 1;
export const WHISPER_SAMPLE_RATE = 16000;
export const WHISPER_N_FFT = 400;

// Slaney's auditory-toolbox mel scale (librosa's default, htk=False): linear below 1 kHz, log above.
const F_SP = 200 / 3;
const MIN_LOG_HZ = 1000;
const MIN_LOG_MEL = MIN_LOG_HZ / F_SP;
const LOG_STEP = Math.log(6.4) / 27;

function hzToMel(hz: number): number {
  return hz >= MIN_LOG_HZ ? MIN_LOG_MEL + Math.log(hz / MIN_LOG_HZ) / LOG_STEP : hz / F_SP;
}

function melToHz(mel: number): number {
  return mel >= MIN_LOG_MEL ? MIN_LOG_HZ * Math.exp(LOG_STEP * (mel - MIN_LOG_MEL)) : F_SP * mel;
}

/**
 * Triangular mel filterbank with Slaney area normalisation, as librosa.filters.mel computes it
 * (float64 maths, float32 result), shape [nMels][1 + nFft/2], row-major.
 */
export function melFilterbank(
  nMels: number,
  nFft = WHISPER_N_FFT,
  sampleRate = WHISPER_SAMPLE_RATE,
): Float32Array {
  const nBins = 1 + Math.floor(nFft / 2);
  const fftFreqs = Array.from({ length: nBins }, (_, i) => (i * sampleRate) / nFft);
  const minMel = hzToMel(0);
  const maxMel = hzToMel(sampleRate / 2);
  const step = (maxMel - minMel) / (nMels + 1);
  const melF = Array.from({ length: nMels + 2 }, (_, i) =>
    melToHz(i === nMels + 1 ? maxMel : minMel + i * step),
  );
  const out = new Float32Array(nMels * nBins);
  for (let m = 0; m < nMels; m++) {
    const lo = melF[m]!;
    const mid = melF[m + 1]!;
    const hi = melF[m + 2]!;
    const enorm = 2 / (hi - lo);
    for (let k = 0; k < nBins; k++) {
      const f = fftFreqs[k]!;
      const lower = (f - lo) / (mid - lo);
      const upper = (hi - f) / (hi - mid);
      const w = Math.fround(Math.max(0, Math.min(lower, upper)));
      out[m * nBins + k] = w * enorm;
    }
  }
  return out;
}

let placeholders: Buffer[] | undefined;
function placeholderVocabulary(): readonly Buffer[] {
  // Every single byte is a token (as in GPT-2's first 256), so any text can be tokenized.
  placeholders ??= Array.from({ length: 50_257 }, (_, i) =>
    i < 256 ? Buffer.from([i]) : Buffer.from(`[${i}]`),
  );
  return placeholders;
}

/**
 * Write a tensor-less whisper.cpp model with the real header and filterbank of `size`, and the
 * given token bytes (ids 0..n-1). The default is placeholder text for the 50,257 ordinary tokens
 * beginning with every single byte (whisper.cpp adds the special ones from n_vocab; without byte
 * tokens it cannot tokenize and aborts while decoding): enough to measure speed. Tests pass GPT-2's real tokens for realistic prompts.
 */
export function writeEmptyWhisperModel(
  file: string,
  size: WhisperModelSize = 'tiny.en',
  vocab: readonly Buffer[] = placeholderVocabulary(),
): void {
  const d = WHISPER_DIMS[size];
  const filters = melFilterbank(d.n_mels);
  const nBins = filters.length / d.n_mels;
  const bytes = 4 * 12 + 8 + filters.byteLength + 4 + vocab.reduce((sum, token) => sum + 4 + token.length, 0);
  const buf = Buffer.alloc(bytes);
  let o = 0;
  const i32 = (v: number): void => {
    o = buf.writeInt32LE(v, o);
  };
  o = buf.writeUInt32LE(GGML_MAGIC, o);
  for (const v of [
    d.n_vocab,
    d.n_audio_ctx,
    d.n_audio_state,
    d.n_audio_head,
    d.n_audio_layer,
    d.n_text_ctx,
    d.n_text_state,
    d.n_text_head,
    d.n_text_layer,
    d.n_mels,
    GGML_FTYPE_F16,
  ]) {
    i32(v);
  }
  i32(d.n_mels);
  i32(nBins);
  for (const f of filters) o = buf.writeFloatLE(f, o);
  i32(vocab.length);
  for (const token of vocab) {
    o = buf.writeUInt32LE(token.length, o);
    o += token.copy(buf, o);
  }
  if (o !== bytes) throw new Error(`whisper model: wrote ${o} of ${bytes} bytes`);
  fs.writeFileSync(file, buf);
}
