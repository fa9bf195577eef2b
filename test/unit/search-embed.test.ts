import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { blobToVector, loadEmbedder, vectorToBlob } from '../../pipeline/search/embed.ts';
import { embeddingFolderProblems } from '../../models/format.ts';
import { gloveModelDir } from '../helpers/search-library.ts';

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i]!, 0);

describe('the GloVe word-average model through transformers.js', () => {
  it('is a transformers.js embedding folder that Earshot can import', () => {
    const dir = gloveModelDir();
    expect(embeddingFolderProblems(dir)).toEqual([]);
    const tokenizer = JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer.json'), 'utf8'));
    expect(tokenizer.model.type).toBe('WordLevel');
    expect(Object.keys(tokenizer.model.vocab).length).toBeGreaterThan(20_000);
    expect(fs.statSync(path.join(dir, 'onnx', 'model.onnx')).size).toBeGreaterThan(8_000_000);
  });

  it('loads from the local folder only and gives normalized 100-d vectors', async () => {
    const e = await loadEmbedder('glove-test', gloveModelDir(), { threads: 1 });
    const { env } = await import('@huggingface/transformers');
    expect(env.allowRemoteModels).toBe(false);
    expect(e.dims).toBe(100);
    const [v] = await e.embed(['A podcast about gardening and compost.']);
    expect(v!.length).toBe(100);
    expect(Math.sqrt(dot(v!, v!))).toBeCloseTo(1, 4);
    // Same text, same vector; the bytes stored in SQLite come back the same.
    const [again] = await e.embed(['A podcast about gardening and compost.']);
    expect(Array.from(again!)).toEqual(Array.from(v!));
    expect(Array.from(blobToVector(vectorToBlob(v!)))).toEqual(Array.from(v!));
  });

  it('puts texts with similar meaning closer than unrelated ones', async () => {
    const e = await loadEmbedder('glove-test', gloveModelDir(), { threads: 1 });
    const [stocks, equities, garden, dog] = await e.embed([
      'The stock market fell sharply as investors sold shares.',
      'Equities dropped and traders dumped their holdings on Wall Street.',
      'Tomatoes and cucumbers grow well in raised beds with compost.',
      'My dog loves playing fetch in the park.',
    ]);
    expect(dot(stocks!, equities!)).toBeGreaterThan(0.8);
    expect(dot(stocks!, equities!)).toBeGreaterThan(dot(stocks!, garden!) + 0.2);
    expect(dot(stocks!, equities!)).toBeGreaterThan(dot(stocks!, dog!) + 0.2);
    const [king, queen, carrot] = await e.embed(['king', 'queen', 'carrot']);
    expect(dot(king!, queen!)).toBeGreaterThan(dot(king!, carrot!));
  });

  it('embeds words it does not know as a zero vector, not NaN', async () => {
    const e = await loadEmbedder('glove-test', gloveModelDir(), { threads: 1 });
    const [v] = await e.embed(['qzxv wprtk']);
    expect(v!.every((x) => x === 0)).toBe(true);
  });
});
