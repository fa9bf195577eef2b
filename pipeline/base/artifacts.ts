import fs from 'node:fs';
import path from 'node:path';
import { fsyncDir, fsyncFile } from '../store/fsync.ts';

/**
 * The one way Earshot puts a file in the library: whole or not at all, and durable before it is
 * recorded. The content goes to a temporary file beside the target, is flushed to disk, renamed
 * over the target (atomic on one file system) and the folder's entry flushed too, so a crash or
 * a power cut leaves the old file or the new one, never half of one, and a commit that records
 * the file never points at one that is not on disk yet.
 */
export function writeArtifact(file: string, content: string | Uint8Array): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  try {
    fs.writeFileSync(tmp, content);
    commitFile(tmp, file);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/** `writeArtifact` of a value as JSON. */
export function writeJsonArtifact(file: string, value: unknown): void {
  writeArtifact(file, JSON.stringify(value));
}

/**
 * Move a file that is complete (a finished download's .part, a decoder's output, a model staged
 * aside) into place: flushed, renamed, the folder flushed.
 */
export function commitFile(tmp: string, file: string): void {
  fsyncFile(tmp);
  fs.renameSync(tmp, file);
  fsyncDir(path.dirname(file));
}
