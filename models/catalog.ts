import sources from './catalog-sources.json' with { type: 'json' };

/**
 * The models Earshot offers. File facts (name, URL, size, hashes, licence) live in
 * catalog-sources.json, each with the public source it was read from — never typed in by hand.
 * What Earshot adds here: a label, a one-line quality note, and the memory estimate.
 */
export type ModelKind = 'whisper' | 'llm' | 'embedding';

export interface ModelSource {
  id: string;
  kind: ModelKind;
  file: string;
  url: string;
  bytes: number | null;
  sha256: string | null;
  sha1: string | null;
  licence: string;
  source: string;
}

export interface CatalogEntry extends ModelSource {
  label: string;
  quality: string;
  /**
   * Memory the model needs while loaded, estimated as the file size plus 10 % and 256 MiB of
   * working space (context, buffers); null when the file size is not known. An estimate, used to
   * warn, never to refuse.
   */
  memoryBytes: number | null;
}

const NOTES: Record<string, { label: string; quality: string }> = {
  'whisper-tiny.en': {
    label: 'Whisper tiny (English)',
    quality: 'Fastest; misses names and quiet speech. For very slow machines.',
  },
  'whisper-tiny.en-q5_1': {
    label: 'Whisper tiny (English, compact)',
    quality: 'Tiny, quantized: smallest download, lowest accuracy.',
  },
  'whisper-base.en': { label: 'Whisper base (English)', quality: 'Fast and usable for clear studio speech.' },
  'whisper-base.en-q5_1': {
    label: 'Whisper base (English, compact)',
    quality: 'Base, quantized: a third of the download, near the same accuracy.',
  },
  'whisper-small.en': {
    label: 'Whisper small (English)',
    quality: 'Good accuracy for most podcasts; the CPU default.',
  },
  'whisper-small.en-q5_1': {
    label: 'Whisper small (English, compact)',
    quality: 'Small, quantized: good accuracy in 190 MB.',
  },
  'whisper-tiny': {
    label: 'Whisper tiny (multilingual)',
    quality: 'Fastest, any language; misses names and quiet speech.',
  },
  'whisper-tiny-q5_1': {
    label: 'Whisper tiny (multilingual, compact)',
    quality: 'Tiny, quantized, any language: smallest download, lowest accuracy.',
  },
  'whisper-base': {
    label: 'Whisper base (multilingual)',
    quality: 'Fast, any language; usable for clear studio speech.',
  },
  'whisper-base-q5_1': {
    label: 'Whisper base (multilingual, compact)',
    quality: 'Base, quantized, any language: 60 MB, near the same accuracy.',
  },
  'whisper-small': {
    label: 'Whisper small (multilingual)',
    quality: 'Good accuracy in any language; the CPU default for shows not in English.',
  },
  'whisper-small-q5_1': {
    label: 'Whisper small (multilingual, compact)',
    quality: 'Small, quantized, any language: good accuracy in 190 MB.',
  },
  'whisper-medium': {
    label: 'Whisper medium (multilingual)',
    quality: 'High accuracy, any language; wants a GPU.',
  },
  'whisper-medium-q5_0': {
    label: 'Whisper medium (multilingual, compact)',
    quality: 'Medium, quantized: high accuracy in a third of the size.',
  },
  'whisper-large-v3-turbo': {
    label: 'Whisper large v3 turbo (multilingual)',
    quality: 'Best accuracy, any language; fast on a GPU.',
  },
  'whisper-large-v3-turbo-q5_0': {
    label: 'Whisper large v3 turbo (compact)',
    quality: 'Large turbo, quantized: near-best accuracy in 574 MB.',
  },
  'qwen2.5-0.5b-instruct-q4_k_m': {
    label: 'Qwen2.5 0.5B Instruct',
    quality: 'Very small: quick summaries, weak at grounded insights.',
  },
  'qwen2.5-1.5b-instruct-q4_k_m': {
    label: 'Qwen2.5 1.5B Instruct',
    quality: 'Small and capable: the CPU default for summaries and entities.',
  },
  'qwen2.5-3b-instruct-q4_k_m': {
    label: 'Qwen2.5 3B Instruct',
    quality: 'Better insights; research licence (not for commercial use).',
  },
  'llama-3.2-1b-instruct-q4_k_m': {
    label: 'Llama 3.2 1B Instruct',
    quality: 'Small, good English summaries.',
  },
  'llama-3.2-3b-instruct-q4_k_m': {
    label: 'Llama 3.2 3B Instruct',
    quality: 'Strong summaries and insights; wants 4 GB of memory.',
  },
  'all-minilm-l6-v2-onnx-quantized': {
    label: 'all-MiniLM-L6-v2 (quantized)',
    quality: 'Fast English semantic search; the default.',
  },
  'all-minilm-l6-v2-onnx-fp32-supabase': {
    label: 'all-MiniLM-L6-v2 (full precision)',
    quality: 'Same model unquantized: slightly better, four times larger.',
  },
};

export function memoryFor(bytes: number | null): number | null {
  return bytes === null ? null : Math.round(bytes * 1.1 + 256 * 1024 * 1024);
}

export const CATALOG: readonly CatalogEntry[] = (sources as ModelSource[]).map((s) => {
  const note = NOTES[s.id];
  if (!note) throw new Error(`The model catalog has no label for "${s.id}"`);
  return { ...s, ...note, memoryBytes: memoryFor(s.bytes) };
});

export function catalogEntry(id: string): CatalogEntry {
  const e = CATALOG.find((m) => m.id === id);
  if (!e) {
    throw new Error(`Earshot knows no model "${id}"; \`earshot models list\` shows the catalog.`);
  }
  return e;
}

export const NOTE_IDS = Object.keys(NOTES);
