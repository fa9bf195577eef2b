import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { parseFile } from 'music-metadata';
import type { Db } from '../store/db.ts';
import { writeTx } from '../store/db.ts';
import type { Clock } from '../engine/clock.ts';
import { indexListing } from '../search/store.ts';

export const AUDIO_EXTENSIONS = [
  '.mp3',
  '.m4a',
  '.m4b',
  '.aac',
  '.wav',
  '.ogg',
  '.oga',
  '.opus',
  '.flac',
  '.mp4',
  '.m4v',
  '.mkv',
  '.webm',
  '.mov',
];

export interface ImportedFile {
  path: string;
  episodeId: number;
  key: string;
  title: string;
  durationMs: number | null;
}

export interface ImportResult {
  imported: ImportedFile[];
  /** Already in the library (same content), with the episode it is. */
  duplicates: { path: string; episodeId: number }[];
  rejected: { path: string; reason: string }[];
}

function expand(p: string, out: string[], rejected: ImportResult['rejected']): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(p);
  } catch {
    rejected.push({ path: p, reason: 'there is no such file or folder' });
    return;
  }
  if (st.isDirectory()) {
    for (const name of fs.readdirSync(p).sort()) {
      if (name.startsWith('.')) continue;
      const child = path.join(p, name);
      // Inside folders, only audio files are candidates; other files are not worth a complaint.
      if (fs.statSync(child).isDirectory() || AUDIO_EXTENSIONS.includes(path.extname(name).toLowerCase())) {
        expand(child, out, rejected);
      }
    }
  } else out.push(p);
}

async function sha256(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/**
 * Import audio files and folders (what drag-and-drop calls). Identity is the content hash, so
 * importing the same file twice does nothing; unsupported or unreadable files are rejected with
 * the reason. The files themselves are copied into the library by the episode's first step.
 */
export async function importFiles(db: Db, clock: Clock, paths: string[]): Promise<ImportResult> {
  const result: ImportResult = { imported: [], duplicates: [], rejected: [] };
  const files: string[] = [];
  for (const p of paths) expand(path.resolve(p), files, result.rejected);
  for (const file of files) {
    const ext = path.extname(file).toLowerCase();
    if (!AUDIO_EXTENSIONS.includes(ext)) {
      result.rejected.push({
        path: file,
        reason: `${ext || 'a file without an extension'} is not an audio or video format Earshot reads`,
      });
      continue;
    }
    let meta;
    try {
      meta = await parseFile(file, { duration: true, skipCovers: true, includeChapters: true });
    } catch (err) {
      result.rejected.push({
        path: file,
        reason: `it could not be read as audio (${(err as Error).message})`,
      });
      continue;
    }
    if (!meta.format.container && !meta.format.codec && !meta.format.duration) {
      result.rejected.push({ path: file, reason: 'it holds no audio Earshot can find' });
      continue;
    }
    const hash = await sha256(file);
    const key = `local-${hash.slice(0, 24)}`;
    const existing = db.prepare('SELECT id FROM episodes WHERE key = ?').get(key) as
      { id: number } | undefined;
    if (existing) {
      result.duplicates.push({ path: file, episodeId: existing.id });
      continue;
    }
    const title = meta.common.title?.trim() || path.basename(file, ext);
    const durationMs = meta.format.duration ? Math.round(meta.format.duration * 1000) : null;
    const chapters = (meta.format.chapters ?? []).map((c) => ({
      startMs: Math.round((c.start / (c.timeScale || 1000)) * 1000),
      title: c.title,
    }));
    const now = clock.now();
    const notes = meta.common.comment?.map((c) => (typeof c === 'string' ? c : c.text)).join('\n') || null;
    const episodeId = writeTx(db, 'importing a file', () => {
      const id = Number(
        db
          .prepare(
            `INSERT INTO episodes (feed_id, key, key_source, title, description, published_at, duration_ms, extra,
               status, created_at, updated_at)
             VALUES (NULL, ?, 'content-hash', ?, ?, ?, ?, ?, 'queued', ?, ?)`,
          )
          .run(
            key,
            title,
            notes,
            fs.statSync(file).mtimeMs,
            durationMs,
            JSON.stringify({
              localPath: file,
              sha256: hash,
              artist: meta.common.artist ?? null,
              show: meta.common.album ?? null,
              podloveChapters: chapters,
              container: meta.format.container ?? null,
              codec: meta.format.codec ?? null,
            }),
            now,
            now,
          ).lastInsertRowid,
      );
      // Searchable by its title at once, like a listed episode.
      indexListing(db, id, title, notes);
      return id;
    });
    result.imported.push({ path: file, episodeId, key, title, durationMs });
  }
  return result;
}
