/**
 * Empty whisper.cpp models for tests (see models/whisper/empty-model.ts for what they are), with
 * the real GPT-2 byte-level BPE vocabulary from js-tiktoken's ranks so prompts tokenize as they
 * would with a real English model. Multilingual sizes get the same GPT-2 tokens as a stand-in (no
 * registry package ships Whisper's multilingual.tiktoken): whisper.cpp derives the special token
 * ids from n_vocab, so only the text of ordinary tokens differs, and an empty model writes no text.
 */
import gpt2 from 'js-tiktoken/ranks/gpt2';
import {
  WHISPER_DIMS,
  writeEmptyWhisperModel as writeModel,
  type WhisperDims,
  type WhisperModelSize,
} from '../../models/whisper/empty-model.ts';

export {
  GGML_FTYPE_F16,
  GGML_MAGIC,
  melFilterbank,
  WHISPER_DIMS,
  WHISPER_N_FFT,
  WHISPER_SAMPLE_RATE,
  type WhisperDims,
  type WhisperModelSize,
} from '../../models/whisper/empty-model.ts';

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

/** Write a tensor-less whisper.cpp model with the real header, filterbank and GPT-2 vocabulary of `size`. */
export function writeEmptyWhisperModel(file: string, size: WhisperModelSize = 'tiny.en'): void {
  writeModel(file, size, vocabularyFor(WHISPER_DIMS[size]));
}
