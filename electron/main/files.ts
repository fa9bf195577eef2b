/**
 * Files reaching Earshot through the desktop: the "Add files…" dialog (asked for by the page, shown
 * by main with `dialog.showOpenDialog`) and files opened with Earshot from the Finder or the Dock
 * icon (`open-file`, macOS). Both end in the library service's `importFiles`.
 */
import type { BrowserWindow, IpcMain, IpcMainInvokeEvent, OpenDialogOptions, WebContents } from 'electron';
import { CHOOSE_FILES_CHANNEL } from '../shared/bridge.ts';
import { AUDIO_EXTENSIONS } from '../../pipeline/ingest/audio-extensions.ts';

export interface DialogDeps {
  dialog: {
    showOpenDialog(
      window: BrowserWindow,
      options: OpenDialogOptions,
    ): Promise<{ canceled: boolean; filePaths: string[] }>;
  };
  /** The window a page lives in (BrowserWindow.fromWebContents). */
  windowOf(contents: WebContents): BrowserWindow | null;
  platform: NodeJS.Platform;
}

/** The dialog's options: audio and video files; folders too where the system allows both (macOS). */
export function chooseFilesOptions(platform: NodeJS.Platform): OpenDialogOptions {
  return {
    title: 'Add files to Earshot',
    buttonLabel: 'Add',
    properties: [
      'openFile',
      'multiSelections',
      // Windows and Linux show a folder picker only when both are asked for.
      ...(platform === 'darwin' ? (['openDirectory'] as const) : []),
    ],
    filters: [
      { name: 'Audio and video', extensions: AUDIO_EXTENSIONS.map((e) => e.slice(1)) },
      { name: 'All files', extensions: ['*'] },
    ],
  };
}

/**
 * Answer the page's "Add files…": the system's dialog, in front of the page's window, and the
 * paths chosen ([] when cancelled). Only Earshot's own page is answered.
 */
export function handleChooseFiles(
  ipcMain: Pick<IpcMain, 'handle'>,
  deps: DialogDeps,
  isApp: (url: string) => boolean,
): void {
  ipcMain.handle(CHOOSE_FILES_CHANNEL, async (event: IpcMainInvokeEvent) => {
    if (!isApp(event.senderFrame?.url ?? event.sender.getURL())) return [];
    const window = deps.windowOf(event.sender);
    if (!window) return [];
    const result = await deps.dialog.showOpenDialog(window, chooseFilesOptions(deps.platform));
    return result.canceled ? [] : result.filePaths;
  });
}

export interface OpenFileDeps {
  on(event: 'open-file', listener: (event: { preventDefault(): void }, path: string) => void): unknown;
}

/**
 * Files opened with Earshot (dragged onto the Dock icon, "Open with"): macOS sends one
 * `open-file` per file, possibly before the app is ready. They are gathered for `gatherMs` and
 * imported together once `importFiles` can be called (`ready()`); `show` brings the window forward.
 */
export function followOpenFile(
  app: OpenFileDeps,
  importFiles: (paths: string[]) => Promise<unknown>,
  options: { show?: () => void; gatherMs?: number; onError?: (err: Error) => void } = {},
): { ready(): void } {
  const pending: string[] = [];
  let ready = false;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const flush = () => {
    timer = null;
    if (!ready || pending.length === 0) return;
    const paths = pending.splice(0);
    options.show?.();
    importFiles(paths).catch((err: unknown) => options.onError?.(err as Error));
  };
  const schedule = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(flush, options.gatherMs ?? 300);
  };
  app.on('open-file', (event, file) => {
    event.preventDefault();
    if (!pending.includes(file)) pending.push(file);
    schedule();
  });
  return {
    ready() {
      ready = true;
      if (pending.length > 0) schedule();
    },
  };
}
