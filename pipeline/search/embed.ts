import os from 'node:os';
import path from 'node:path';

/**
 * Sentence embeddings with transformers.js (onnxruntime on the CPU), from a model folder on
 * this machine only: nothing is ever downloaded. The folder is the transformers.js layout
 * (config.json, tokenizer.json, onnx/model.onnx) that `earshot models import` accepts.
 * Vectors are mean-pooled over the tokens and L2-normalized, so cosine = dot product.
 */

export interface Embedder {
  /** The model id (what the stored vectors are keyed by). */
  modelId: string;
  dims: number;
  embed(texts: string[]): Promise<Float32Array[]>;
  close(): Promise<void>;
}

/** Threads for one embedding session. Default: EARSHOT_EMBED_THREADS, else half the cores (at least 1). */
export function embedThreads(env: NodeJS.ProcessEnv = process.env): number {
  const fromEnv = Number(env.EARSHOT_EMBED_THREADS);
  if (Number.isInteger(fromEnv) && fromEnv > 0) return fromEnv;
  return Math.max(1, Math.floor(os.availableParallelism() / 2));
}

interface FeatureExtractor {
  (
    texts: string[],
    options: { pooling: 'mean'; normalize: boolean },
  ): Promise<{
    dims: number[];
    data: Float32Array;
  }>;
  dispose(): Promise<void>;
}

/** Texts per forward pass: long chunks padded together cost memory, so batches stay small. */
const BATCH = 16;

const loaded = new Map<string, Promise<Embedder>>();
let opening: Promise<unknown> = Promise.resolve();

/**
 * Load (once per process and folder) the embedding model in `folder`. `modelId` names its
 * vectors in the store. Options: threads (default embedThreads()).
 */
export function loadEmbedder(
  modelId: string,
  folder: string,
  options: { threads?: number } = {},
): Promise<Embedder> {
  const key = `${modelId}\u0000${path.resolve(folder)}`;
  let p = loaded.get(key);
  if (!p) {
    // env.localModelPath is global: loads run one after another so each sees its own folder.
    const run = opening.then(() => open(modelId, path.resolve(folder), options.threads ?? embedThreads()));
    opening = run.catch(() => undefined);
    p = run;
    loaded.set(key, p);
    p.catch(() => loaded.delete(key));
  }
  return p;
}

async function open(modelId: string, folder: string, threads: number): Promise<Embedder> {
  const { env, pipeline } = await import('@huggingface/transformers');
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = path.dirname(folder);
  const extractor = (await pipeline('feature-extraction', path.basename(folder), {
    local_files_only: true,
    device: 'cpu',
    dtype: 'fp32',
    session_options: { intraOpNumThreads: threads, interOpNumThreads: 1 },
  })) as unknown as FeatureExtractor;
  let dims = 0;
  const embedder: Embedder = {
    modelId,
    get dims() {
      return dims;
    },
    async embed(texts) {
      const out: Float32Array[] = [];
      for (let i = 0; i < texts.length; i += BATCH) {
        const batch = texts.slice(i, i + BATCH).map((t) => (t.trim() ? t : '.'));
        const r = await extractor(batch, { pooling: 'mean', normalize: true });
        const d = r.dims[r.dims.length - 1]!;
        dims = d;
        for (let j = 0; j < batch.length; j++) {
          const v = Float32Array.from(r.data.subarray(j * d, (j + 1) * d));
          // An all-unknown text pools to zeros (NaN after normalizing): keep it a zero vector.
          if (v.some((x) => Number.isNaN(x))) v.fill(0);
          out.push(v);
        }
      }
      return out;
    },
    async close() {
      loaded.delete(`${modelId}\u0000${folder}`);
      await extractor.dispose();
    },
  };
  // One pass to learn the dimension before anyone asks.
  await embedder.embed(['hello']);
  return embedder;
}

/** A vector as the bytes stored in SQLite (float32, little-endian as on every platform Earshot runs). */
export function vectorToBlob(v: Float32Array): Buffer {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

export function blobToVector(b: Buffer): Float32Array {
  const copy = new Float32Array(b.byteLength / 4);
  new Uint8Array(copy.buffer).set(b);
  return copy;
}
