import fs from 'node:fs';
import path from 'node:path';
import type { ModelKind } from './catalog.ts';

/** whisper.cpp's model files start with the uint32 0x67676d6c ("ggml") written little-endian. */
const GGML_MAGIC = 0x67676d6c;
/** GGUF files (llama.cpp, node-llama-cpp) start with the four bytes "GGUF". */
const GGUF_MAGIC = Buffer.from('GGUF', 'ascii');

/** The kind a single model file is, judged by its first bytes; null when it is neither format. */
export function fileKind(file: string): ModelKind | null {
  const head = Buffer.alloc(4);
  const fd = fs.openSync(file, 'r');
  let n: number;
  try {
    n = fs.readSync(fd, head, 0, 4, 0);
  } finally {
    fs.closeSync(fd);
  }
  if (n < 4) return null;
  if (head.readUInt32LE(0) === GGML_MAGIC) return 'whisper';
  if (head.equals(GGUF_MAGIC)) return 'llm';
  return null;
}

/**
 * Whether a folder is a sentence-embedding model in the layout transformers.js loads:
 * config.json, tokenizer.json and at least one onnx/*.onnx. Returns what is missing.
 */
export function embeddingFolderProblems(dir: string): string[] {
  const missing: string[] = [];
  for (const f of ['config.json', 'tokenizer.json']) {
    if (!fs.statSync(path.join(dir, f), { throwIfNoEntry: false })?.isFile()) missing.push(f);
  }
  const onnxDir = path.join(dir, 'onnx');
  const onnx = fs.statSync(onnxDir, { throwIfNoEntry: false })?.isDirectory()
    ? fs.readdirSync(onnxDir).filter((f) => f.endsWith('.onnx'))
    : [];
  if (onnx.length === 0) missing.push('onnx/*.onnx');
  return missing;
}

/** A model id made from a file or folder name: lower case, safe as a folder name. */
export function customId(name: string): string {
  const stem = name.replace(/\.(bin|gguf|ggml)$/i, '');
  const safe = stem
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[-._]+|[-._]+$/g, '')
    .slice(0, 64);
  return `custom-${safe || 'model'}`;
}

/** Ids name folders inside the models folder, so they must never reach outside it. */
export function isSafeId(id: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(id) && !id.includes('..');
}
