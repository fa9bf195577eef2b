import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/env.ts';
import { GGML_MAGIC, WHISPER_DIMS, writeEmptyWhisperModel } from '../helpers/whisper-model.ts';

const HPARAMS = [
  'n_vocab',
  'n_audio_ctx',
  'n_audio_state',
  'n_audio_head',
  'n_audio_layer',
  'n_text_ctx',
  'n_text_state',
  'n_text_head',
  'n_text_layer',
  'n_mels',
  'ftype',
] as const;

/** Read a ggml whisper model back the way whisper.cpp's loader does, up to where tensors would start. */
function parseModel(file: string) {
  const b = fs.readFileSync(file);
  let o = 0;
  const i32 = (): number => {
    const v = b.readInt32LE(o);
    o += 4;
    return v;
  };
  const magic = b.readUInt32LE(0);
  o = 4;
  const hparams = Object.fromEntries(HPARAMS.map((k) => [k, i32()])) as Record<
    (typeof HPARAMS)[number],
    number
  >;
  const nMel = i32();
  const nFft = i32();
  const filters = Array.from({ length: nMel * nFft }, (_, i) => b.readFloatLE(o + 4 * i));
  o += 4 * nMel * nFft;
  const nTokens = i32();
  const tokens: Buffer[] = [];
  for (let i = 0; i < nTokens; i++) {
    const len = b.readUInt32LE(o);
    o += 4;
    tokens.push(b.subarray(o, o + len));
    o += len;
  }
  return { magic, hparams, nMel, nFft, filters, tokens, trailingBytes: b.length - o };
}

describe('empty whisper.cpp model generator', () => {
  const dir = tempDir('earshot-whisper-model-');
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('writes a tiny.en model whose header, filterbank and vocabulary parse back', () => {
    const file = path.join(dir, 'ggml-tiny.en.bin');
    writeEmptyWhisperModel(file);
    const m = parseModel(file);

    expect(m.magic).toBe(GGML_MAGIC);
    expect(m.hparams).toEqual({ ...WHISPER_DIMS['tiny.en'], ftype: 1 });
    expect(m.hparams).toMatchObject({ n_vocab: 51864, n_audio_state: 384, n_audio_layer: 4, n_mels: 80 });

    expect([m.nMel, m.nFft]).toEqual([80, 201]);
    expect(m.filters.every((w) => w >= 0 && Number.isFinite(w))).toBe(true);
    // Slaney area normalisation: the first band's peak is 2 / (its width in Hz) ≈ 0.0249 at 0..80 Hz.
    expect(Math.max(...m.filters.slice(0, 201))).toBeCloseTo(0.0248626, 6);

    expect(m.tokens).toHaveLength(50257);
    expect(m.tokens[0]!.toString('latin1')).toBe('!');
    expect(m.tokens[262]!.toString('latin1')).toBe(' the');
    expect(m.tokens[50256]!.toString('utf8')).toBe('<|endoftext|>');
    expect(m.trailingBytes).toBe(0); // no tensors: whisper.cpp then runs it as an "empty model for testing"
  });

  it('uses 128 mel bands and the multilingual layout for large-v3-turbo', () => {
    const file = path.join(dir, 'ggml-large-v3-turbo.bin');
    writeEmptyWhisperModel(file, 'large-v3-turbo');
    const m = parseModel(file);
    expect(m.hparams).toMatchObject({ n_vocab: 51866, n_audio_layer: 32, n_text_layer: 4, n_mels: 128 });
    expect([m.nMel, m.nFft]).toEqual([128, 201]);
    expect(m.tokens).toHaveLength(50257);
    expect(m.tokens[50256]!.length).toBe(0);
  });
});
