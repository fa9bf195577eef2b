/**
 * The watch folder (Settings): audio files that appear in it, or in folders inside it, are
 * imported by themselves. chokidar watches; a file counts once its size has held still for a
 * while (`awaitWriteFinish`: a copy or a download still being written is not read half-way),
 * names that downloads and editors use while writing (.part, .crdownload, ~$x) are skipped, and
 * files that arrive together are imported in one go once things are quiet.
 */
import path from 'node:path';
import fs from 'node:fs';
import { watch, type FSWatcher } from 'chokidar';
import { AUDIO_EXTENSIONS } from './local-import.ts';

/** Names of files still being written by a browser, a copier or an editor. */
const PARTIAL = /(\.(part|partial|crdownload|download|tmp|temp|opdownload)$)|(^~)|(^\.)/i;

export interface WatchFolderStatus {
  watching: boolean;
  error: string | null;
}

export interface WatchFolderOptions {
  /** Import these files (the API's import, marked as the watch folder's). */
  importFiles(paths: string[]): Promise<unknown>;
  /**
   * Files imported before: their path and modification time, so a restart does not read (and
   * hash) every file in the folder again. A file changed since is looked at again.
   */
  known(): Map<string, number>;
  /** Quiet after the last new file before importing, in ms. Default 1500. */
  debounceMs?: number;
  /** How long a file's size must hold still before it counts as written, in ms. Default 2000. */
  stableMs?: number;
  onError?: (err: Error) => void;
  /** The status changed (watching, or why not). */
  onStatus?: (status: WatchFolderStatus) => void;
}

export function isCandidate(file: string): boolean {
  const name = path.basename(file);
  return !PARTIAL.test(name) && AUDIO_EXTENSIONS.includes(path.extname(name).toLowerCase());
}

export class WatchFolder {
  private readonly options: WatchFolderOptions;
  private watcher: FSWatcher | null = null;
  private dir: string | null = null;
  private pending = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private importing: Promise<void> = Promise.resolve();
  private current: WatchFolderStatus | null = null;

  constructor(options: WatchFolderOptions) {
    this.options = options;
  }

  /** Watching, or why not; null when no folder is set. */
  status(): WatchFolderStatus | null {
    return this.current;
  }

  get folder(): string | null {
    return this.dir;
  }

  private setStatus(status: WatchFolderStatus | null): void {
    this.current = status;
    if (status) this.options.onStatus?.(status);
  }

  /** Watch `dir` (null: stop watching). Resolves once the folder's files have been listed. */
  async watch(dir: string | null): Promise<void> {
    if (dir === this.dir && (dir === null || this.watcher)) return;
    await this.stop();
    this.dir = dir;
    if (dir === null) return;
    const st = fs.statSync(dir, { throwIfNoEntry: false });
    if (!st?.isDirectory()) {
      this.setStatus({
        watching: false,
        error: `The watch folder ${dir} is not there any more; choose another in Settings.`,
      });
      return;
    }
    const known = this.options.known();
    const stable = this.options.stableMs ?? 2000;
    const watcher = watch(dir, {
      ignored: (p, stats) =>
        path.basename(p).startsWith('.') || (stats?.isFile() === true && !isCandidate(p)),
      awaitWriteFinish: { stabilityThreshold: stable, pollInterval: Math.min(200, stable) },
      depth: 8,
      followSymlinks: false,
    });
    this.watcher = watcher;
    watcher.on('add', (file, stats) => {
      if (!isCandidate(file)) return;
      const mtime = stats?.mtimeMs;
      const before = known.get(file);
      if (before !== undefined && mtime !== undefined && Math.abs(before - mtime) < 1) return;
      this.pending.add(file);
      this.schedule();
    });
    watcher.on('unlinkDir', (gone) => {
      if (path.resolve(gone) !== path.resolve(dir)) return;
      this.setStatus({
        watching: false,
        error: `The watch folder ${dir} was removed; choose another in Settings.`,
      });
    });
    watcher.on('error', (err) => {
      this.options.onError?.(err as Error);
      this.setStatus({
        watching: false,
        error: `Earshot cannot watch ${dir}: ${(err as Error).message}. Choose another folder in Settings.`,
      });
    });
    await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
    if (this.watcher === watcher) this.setStatus({ watching: true, error: null });
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), this.options.debounceMs ?? 1500);
    this.timer.unref();
  }

  /** Import what arrived (one import at a time). */
  private flush(): void {
    this.timer = null;
    const batch = [...this.pending];
    this.pending.clear();
    if (batch.length === 0) return;
    this.importing = this.importing
      .then(() => this.options.importFiles(batch))
      .then(
        () => undefined,
        (err: unknown) => this.options.onError?.(err as Error),
      );
  }

  /** Resolves once what arrived so far is imported (tests, a clean stop). */
  async settled(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.flush();
    }
    await this.importing;
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.pending.clear();
    const w = this.watcher;
    this.watcher = null;
    this.dir = null;
    this.current = null;
    await w?.close();
    await this.importing;
  }
}
