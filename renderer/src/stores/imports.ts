import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { ImportView } from '../../../pipeline/api/contract.ts';
import { transport as defaultTransport } from '../api.ts';
import type { EarshotBridge, Transport } from '../transport.ts';

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** One line of what an import did, for the list under the drop zone. */
export interface ImportLine {
  kind: 'working' | 'imported' | 'duplicate' | 'rejected' | 'error';
  text: string;
}

/** The import under way or last done: a heading and a line per file. */
export interface ImportRun {
  id: number;
  heading: string;
  done: boolean;
  lines: ImportLine[];
}

/** What an import's answer says, file by file, in the app's words. */
export function describeImport(view: ImportView): ImportLine[] {
  const name = (p: string) => p.split(/[\\/]/).pop() ?? p;
  return [
    ...view.imported.map((i) => ({
      kind: 'imported' as const,
      text: `Added “${i.title}” to Your files; it is being processed.`,
    })),
    ...view.duplicates.map((d) => ({
      kind: 'duplicate' as const,
      text: d.title
        ? `${name(d.path)} is already in your library, as “${d.title}”.`
        : `${name(d.path)} is already in your library.`,
    })),
    ...view.rejected.map((r) => ({ kind: 'rejected' as const, text: `${name(r.path)}: ${r.reason}` })),
  ];
}

export function importHeading(view: ImportView): string {
  const n = view.imported.length;
  const parts: string[] = [];
  if (n > 0) parts.push(`${n} ${n === 1 ? 'file' : 'files'} added`);
  if (view.duplicates.length > 0) parts.push(`${view.duplicates.length} already there`);
  if (view.rejected.length > 0) parts.push(`${view.rejected.length} not imported`);
  return parts.join(' · ') || 'Nothing to import';
}

/**
 * Importing your own audio: files dropped on the window or chosen with "Add files…". In the
 * desktop app the preload finds where they are and the library imports them in place; in a
 * browser each file is uploaded to `earshot serve` (POST /upload) and imported from there.
 */
export const useImportsStore = defineStore('imports', () => {
  const runs = ref<ImportRun[]>([]);
  /** Bumped after an import added something (the shows list reads again). */
  const added = ref(0);
  let api: Transport = defaultTransport;
  let nextId = 1;

  const bridge = (): EarshotBridge | undefined => (globalThis as { earshot?: EarshotBridge }).earshot;

  function start(heading: string): ImportRun {
    const run: ImportRun = { id: nextId++, heading, done: false, lines: [] };
    runs.value = [run, ...runs.value].slice(0, 3);
    return runs.value[0]!;
  }

  function finish(run: ImportRun, view: ImportView): void {
    run.heading = importHeading(view);
    run.lines = describeImport(view);
    run.done = true;
    if (view.imported.length > 0) added.value++;
  }

  function fail(run: ImportRun, err: unknown): void {
    run.lines = [...run.lines.filter((l) => l.kind !== 'working'), { kind: 'error', text: message(err) }];
    run.heading = 'The import did not finish';
    run.done = true;
  }

  /** One file to `earshot serve` (POST /upload, the page's cookie), with its upload progress. */
  function upload(file: File, onProgress: (fraction: number) => void): Promise<ImportView> {
    const refused = (reason: string): ImportView => ({
      imported: [],
      duplicates: [],
      rejected: [{ path: file.name, reason }],
    });
    return new Promise((resolve) => {
      const xhr = new XMLHttpRequest();
      xhr.open('POST', '/upload');
      xhr.setRequestHeader('content-type', 'application/octet-stream');
      xhr.setRequestHeader('x-earshot-file-name', encodeURIComponent(file.name));
      xhr.upload.onprogress = (e) => {
        if (e.lengthComputable && e.total > 0) onProgress(e.loaded / e.total);
      };
      xhr.onload = () => {
        let body: (ImportView & { error?: string }) | null = null;
        try {
          body = JSON.parse(xhr.responseText) as ImportView & { error?: string };
        } catch {
          body = null;
        }
        if (xhr.status === 200 && body) resolve(body);
        else resolve(refused(body?.error ?? `Earshot's server answered ${xhr.status}. Try again.`));
      };
      xhr.onerror = () =>
        resolve(refused('The upload was cut off (is `earshot serve` still running?). Drop the file again.'));
      xhr.send(file);
    });
  }

  /** Import what was dropped (or picked with the browser's file input). */
  async function importFiles(files: File[]): Promise<void> {
    if (files.length === 0) return;
    const run = start(`Adding ${files.length} ${files.length === 1 ? 'file' : 'files'}…`);
    try {
      const b = bridge();
      if (api.kind === 'ipc' && b?.importDropped) {
        run.lines = [{ kind: 'working', text: 'Reading the files…' }];
        finish(run, (await b.importDropped(files)) as ImportView);
        return;
      }
      const all: ImportView = { imported: [], duplicates: [], rejected: [] };
      for (const [n, file] of files.entries()) {
        const done = describeImport(all);
        const working = (fraction: number) =>
          (run.lines = [
            ...done,
            {
              kind: 'working',
              text: `Uploading ${file.name} (${n + 1} of ${files.length})… ${Math.round(fraction * 100)} %`,
            },
          ]);
        working(0);
        const view = await upload(file, working);
        all.imported.push(...view.imported);
        all.duplicates.push(...view.duplicates);
        all.rejected.push(...view.rejected);
      }
      finish(run, all);
    } catch (err) {
      fail(run, err);
    }
  }

  /** "Add files…" in the desktop app: the system's dialog. False where there is none (a browser). */
  async function chooseWithDialog(): Promise<boolean> {
    const b = bridge();
    if (api.kind !== 'ipc' || !b?.chooseAndImport) return false;
    const run = start('Choosing files…');
    try {
      const view = (await b.chooseAndImport()) as ImportView | null;
      if (view) finish(run, view);
      else runs.value = runs.value.filter((r) => r.id !== run.id);
    } catch (err) {
      fail(run, err);
    }
    return true;
  }

  /** The desktop app: dropped files and folders are imported where they are (by path). */
  function resolvesPaths(): boolean {
    return api.kind === 'ipc' && typeof bridge()?.importDropped === 'function';
  }

  /**
   * Imports this window did not start (the watch folder, files opened from the Dock): shown as
   * they happen, one panel per import.
   */
  function follow(): () => void {
    const seen = new Map<string, ImportRun>();
    return api.on('onImportProgress', (e) => {
      if (!e.watchFolder) {
        // This window's own import in the desktop app: how far the library has got.
        const mine = runs.value.find((r) => !r.done);
        if (mine && e.file && api.kind === 'ipc')
          mine.lines = [{ kind: 'working', text: `Looked at ${e.done} of ${e.total}: ${e.file.name}` }];
        return;
      }
      let run = seen.get(e.importId);
      if (!run) {
        run = start('From your watch folder');
        seen.set(e.importId, run);
      }
      if (e.file) {
        const view: ImportView = { imported: [], duplicates: [], rejected: [] };
        if (e.file.outcome === 'imported')
          view.imported.push({
            path: e.file.path,
            episodeId: e.file.episodeId!,
            key: '',
            title: e.file.title ?? e.file.name,
            durationMs: null,
            workflowId: null,
          });
        else if (e.file.outcome === 'duplicate')
          view.duplicates.push({ path: e.file.path, episodeId: e.file.episodeId!, title: e.file.title });
        else view.rejected.push({ path: e.file.path, reason: e.file.reason ?? '' });
        run.lines = [...run.lines, ...describeImport(view)];
        if (e.file.outcome === 'imported') added.value++;
      }
      if (e.done >= e.total) {
        run.done = true;
        run.heading = `From your watch folder: ${e.done} ${e.done === 1 ? 'file' : 'files'}`;
        seen.delete(e.importId);
      }
    });
  }

  function dismiss(id: number): void {
    runs.value = runs.value.filter((r) => r.id !== id);
  }

  function setTransport(next: Transport): void {
    api = next;
  }

  return { runs, added, importFiles, chooseWithDialog, resolvesPaths, follow, dismiss, setTransport };
});
