import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { parseFile } from 'music-metadata';
import { fileTypeFromFile } from 'file-type';
import { cleanTitle } from './clean-text.ts';
import type { Db } from '../store/db.ts';
import { writeTx } from '../store/db.ts';
import type { Clock } from '../engine/clock.ts';
import { indexListing } from '../search/store.ts';

import { AUDIO_EXTENSIONS } from './audio-extensions.ts';
export { AUDIO_EXTENSIONS };

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
  duplicates: { path: string; episodeId: number; title: string | null }[];
  rejected: { path: string; reason: string }[];
}

/** What became of one file, as an import goes (for progress). */
export type ImportOutcome =
  | { outcome: 'imported'; path: string; episodeId: number; title: string }
  | { outcome: 'duplicate'; path: string; episodeId: number; title: string | null }
  | { outcome: 'rejected'; path: string; reason: string };

export interface ImportOptions {
  /** Paths never imported (Earshot's own library folder). */
  exclude?: (p: string) => boolean;
  /**
   * Called once the chosen paths are expanded (`done` 0, `file` null), then after each file
   * with what became of it. `total` counts the files found (links and folders followed).
   */
  onProgress?: (p: { done: number; total: number; file: ImportOutcome | null }) => void;
}

/** Why a path cannot be read, in words (a dangling link, a loop, no permission). */
function unreadable(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'it is a link to something that is not there';
  if (code === 'ELOOP') return 'it is a link that loops back on itself';
  if (code === 'EACCES' || code === 'EPERM') return 'Earshot is not allowed to read it';
  return `it could not be read (${code ?? (err as Error).message})`;
}

/**
 * The files a chosen path stands for. A path named directly is followed wherever it leads; inside
 * a chosen folder, links are followed only while they stay inside it (and each folder is read
 * once, so a loop ends). What cannot be read is skipped with the reason, never fatal: dangling
 * links, loops, FIFOs, sockets and devices.
 */
function expand(
  chosen: string,
  out: string[],
  rejected: ImportResult['rejected'],
  exclude: (p: string) => boolean,
): void {
  const seen = new Set<string>();
  const visit = (p: string, root: string | null) => {
    if (exclude(p)) {
      rejected.push({
        path: p,
        reason: "it is inside Earshot's library folder; Earshot does not import its own files",
      });
      return;
    }
    let real: string;
    let st: fs.Stats;
    try {
      const link = fs.lstatSync(p);
      if (link.isSymbolicLink() || root === null) {
        real = fs.realpathSync(p);
        if (root !== null) {
          const rel = path.relative(root, real);
          if (rel.split(path.sep)[0] === '..' || path.isAbsolute(rel)) {
            rejected.push({ path: p, reason: 'it is a link to a place outside the folder you chose' });
            return;
          }
        }
        st = fs.statSync(real);
      } else {
        real = p;
        st = link;
      }
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      rejected.push({
        path: p,
        reason: root === null && code === 'ENOENT' ? 'there is no such file or folder' : unreadable(err),
      });
      return;
    }
    if (exclude(real)) {
      rejected.push({
        path: p,
        reason: "it is inside Earshot's library folder; Earshot does not import its own files",
      });
      return;
    }
    if (st.isDirectory()) {
      if (seen.has(real)) return;
      seen.add(real);
      let names: string[];
      try {
        names = fs.readdirSync(real).sort();
      } catch (err) {
        rejected.push({ path: p, reason: unreadable(err) });
        return;
      }
      for (const name of names) {
        if (name.startsWith('.')) continue;
        const child = path.join(p, name);
        let isDir = false;
        try {
          isDir = fs.lstatSync(child).isDirectory();
        } catch {
          /* reported by visit */
        }
        // Inside folders, only audio files (and links, folders) are candidates; other files are not worth a complaint.
        if (isDir || AUDIO_EXTENSIONS.includes(path.extname(name).toLowerCase()) || isLink(child)) {
          visit(child, root ?? real);
        }
      }
      return;
    }
    if (!st.isFile()) {
      rejected.push({
        path: p,
        reason: st.isFIFO()
          ? 'it is a pipe (FIFO), not a file'
          : 'it is not a regular file (a socket or a device)',
      });
      return;
    }
    out.push(p);
  };
  visit(chosen, null);
}

function isLink(p: string): boolean {
  try {
    return fs.lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
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
export async function importFiles(
  db: Db,
  clock: Clock,
  paths: string[],
  options: ImportOptions = {},
): Promise<ImportResult> {
  const result: ImportResult = { imported: [], duplicates: [], rejected: [] };
  const files: string[] = [];
  for (const p of paths) expand(path.resolve(p), files, result.rejected, options.exclude ?? (() => false));
  // Paths refused while expanding count as looked at too.
  const refusedEarly = result.rejected.length;
  const total = files.length + refusedEarly;
  let done = 0;
  const report = (file: ImportOutcome) => options.onProgress?.({ done: ++done, total, file });
  options.onProgress?.({ done: 0, total, file: null });
  for (const r of result.rejected.slice(0, refusedEarly)) report({ outcome: 'rejected', ...r });
  for (const file of files) {
    const before = {
      imported: result.imported.length,
      duplicates: result.duplicates.length,
      rejected: result.rejected.length,
    };
    await importOne(db, clock, file, result);
    if (result.imported.length > before.imported) {
      const i = result.imported.at(-1)!;
      report({ outcome: 'imported', path: i.path, episodeId: i.episodeId, title: i.title });
    } else if (result.duplicates.length > before.duplicates) {
      report({ outcome: 'duplicate', ...result.duplicates.at(-1)! });
    } else if (result.rejected.length > before.rejected) {
      report({ outcome: 'rejected', ...result.rejected.at(-1)! });
    }
  }
  return result;
}

/** Look at one file and import it, or record it as a duplicate or a refusal in `result`. */
async function importOne(db: Db, clock: Clock, file: string, result: ImportResult): Promise<void> {
  const ext = path.extname(file).toLowerCase();
  if (!AUDIO_EXTENSIONS.includes(ext)) {
    result.rejected.push({
      path: file,
      reason: `${ext || 'a file without an extension'} is not an audio or video format Earshot reads`,
    });
    return;
  }
  // By its content, not its name: a text file or random bytes named .mp3 is refused here.
  let sniffed: string | undefined;
  try {
    sniffed = (await fileTypeFromFile(file))?.mime;
  } catch (err) {
    result.rejected.push({ path: file, reason: unreadable(err) });
    return;
  }
  if (!sniffed || (!/^(audio|video)\//.test(sniffed) && sniffed !== 'application/ogg')) {
    result.rejected.push({
      path: file,
      reason: `its content is not audio or video${sniffed ? ` (it is ${sniffed})` : ''}`,
    });
    return;
  }
  let meta;
  try {
    meta = await parseFile(file, { duration: true, skipCovers: true, includeChapters: true });
  } catch (err) {
    result.rejected.push({
      path: file,
      reason: `it could not be read as audio (${(err as Error).message})`,
    });
    return;
  }
  if (!meta.format.container && !meta.format.codec && !meta.format.duration) {
    result.rejected.push({ path: file, reason: 'it holds no audio Earshot can find' });
    return;
  }
  const hash = await sha256(file);
  const key = `local-${hash.slice(0, 24)}`;
  const existing = db.prepare('SELECT id, title FROM episodes WHERE key = ?').get(key) as
    { id: number; title: string | null } | undefined;
  if (existing) {
    result.duplicates.push({ path: file, episodeId: existing.id, title: existing.title });
    return;
  }
  const title = cleanTitle(meta.common.title ?? '') || cleanTitle(path.basename(file, ext));
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
