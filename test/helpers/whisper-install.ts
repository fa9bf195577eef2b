import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Db } from '../../pipeline/store/db.ts';
import { ModelManager } from '../../models/manager.ts';
import { writeEmptyWhisperModel, type WhisperModelSize } from './whisper-model.ts';

const made = new Map<string, string>();

/** An empty whisper.cpp model file of that size, written once per test process. */
export function emptyWhisperFile(size: WhisperModelSize = 'tiny.en'): string {
  let file = made.get(size);
  if (!file) {
    file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'earshot-whisper-')), `ggml-empty-${size}.bin`);
    writeEmptyWhisperModel(file, size);
    made.set(size, file);
  }
  return file;
}

/**
 * Install an empty Whisper model into a library the way a user would (`earshot models import`,
 * then `use`), so episodes queued afterwards are transcribed with it. Returns its model id.
 */
export async function installEmptyWhisper(
  dataDir: string,
  db: Db,
  size: WhisperModelSize = 'tiny.en',
): Promise<string> {
  const manager = new ModelManager({ dataDir, db, env: {} });
  const imported = await manager.import(emptyWhisperFile(size));
  manager.use(imported.model.id);
  return imported.model.id;
}
