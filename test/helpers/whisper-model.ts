/**
 * "Empty" whisper.cpp models for tests.
 *
 * Why this file exists: real Whisper weights cannot be fetched on the machines this project is
 * built and tested on (no network beyond the package registries), and shipping them is out of the
 * question (75 MB to 1.6 GB). whisper.cpp's loader, however, accepts a ggml model file that carries
 * the header, the mel filterbank and the vocabulary but NO tensors: it logs "no tensors loaded from
 * model file - assuming empty model for testing", allocates the weights of the declared size
 * uninitialised, and then runs the full pipeline (mel spectrogram, encoder, decoder) at the real
 * cost of that model size. It yields no text (no segments), but every code path of a binding — load,
 * threads, audio hand-off, progress, timings, memory — is exercised for real.
 *
 * The file written here has the layout whisper.cpp's `whisper_model_load` reads (little-endian):
 *   u32 magic 0x67676d6c ("ggml")
 *   i32 n_vocab, n_audio_ctx, n_audio_state, n_audio_head, n_audio_layer,
 *       n_text_ctx, n_text_state, n_text_head, n_text_layer, n_mels, ftype
 *   i32 n_mel, i32 n_fft, then n_mel * n_fft f32   (mel filterbank, row-major by mel band)
 *   i32 count, then count * (u32 length, bytes)     (BPE token bytes, ids 0..count-1)
 *   ...and then nothing, where a real model has its tensors.
 *
 * The hyper-parameters are those of the published models; the filterbank is computed here the way
 * Whisper's mel_filters.npz was made (librosa.filters.mel: Slaney mel scale, Slaney area norm,
 * 16 kHz, n_fft 400 → 201 bins, 0..8 kHz); the vocabulary is the GPT-2 byte-level BPE from
 * js-tiktoken's ranks. Multilingual sizes get the same GPT-2 tokens as a stand-in (no registry
 * package ships Whisper's multilingual.tiktoken): whisper.cpp derives all special token ids from
 * n_vocab, not from the vocabulary, so only the text of ordinary tokens differs — and an empty
 * model produces no text anyway.
 */
import fs from 'node:fs';
import gpt2 from 'js-tiktoken/ranks/gpt2';

export type WhisperModelSize = 'tiny.en' | 'tiny' | 'base.en' | 'small.en' | 'medium' | 'large-v3-turbo';

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
  'small.en': dims(51864, 768, 12, 12, 12),
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

let gpt2Tokens: Buffer[] | undefined;

/**
 * GPT-2's byte-level BPE vocabulary as raw token bytes, id order: the 50,256 mergeable ranks, then
 * <|endoftext|> (50256). js-tiktoken ships them as lines "<first char> <first rank> <base64 token>...".
 */
export function gpt2Vocabulary(): readonly Buffer[] {
  if (gpt2Tokens) return gpt2Tokens;
  const tokens: Buffer[] = [];
  for (const line of gpt2.bpe_ranks.split('\n')) {
    if (!line) continue;
    const [, offset, ...b64] = line.split(' ');
    const first = Number(offset);
    b64.forEach((t, i) => (tokens[first + i] = Buffer.from(t, 'base64')));
  }
  for (const [text, id] of Object.entries(gpt2.special_tokens)) tokens[id] = Buffer.from(text, 'utf8');
  for (let i = 0; i < tokens.length; i++) {
    if (!tokens[i]) throw new Error(`GPT-2 vocabulary has no token ${i}`);
  }
  gpt2Tokens = tokens;
  return tokens;
}

/** The tokens written for a model: 50,257 in both cases, as in the real files. */
function vocabularyFor(d: WhisperDims): readonly Buffer[] {
  const gpt2Vocab = gpt2Vocabulary();
  const multilingual = d.n_vocab >= 51865;
  // Whisper's multilingual vocabulary has an empty token at 50256 and <|endoftext|> at 50257,
  // which whisper.cpp adds itself from n_vocab; GPT-2 has <|endoftext|> at 50256.
  return multilingual ? [...gpt2Vocab.slice(0, 50256), Buffer.alloc(0)] : gpt2Vocab;
}

/** Write a tensor-less whisper.cpp model with the real header, filterbank and vocabulary of `size`. */
export function writeEmptyWhisperModel(file: string, size: WhisperModelSize = 'tiny.en'): void {
  const d = WHISPER_DIMS[size];
  const filters = melFilterbank(d.n_mels);
  const nBins = filters.length / d.n_mels;
  const vocab = vocabularyFor(d);
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
