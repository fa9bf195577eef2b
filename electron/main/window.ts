import { pathToFileURL } from 'node:url';
import type { BrowserWindow, BrowserWindowConstructorOptions, Session, WebContents } from 'electron';

/** Where the UI comes from: the dev server in development, the built index.html otherwise. */
export type RendererEntry = { url: string } | { file: string };

export interface MainWindowOptions {
  /** The built preload script (out/preload/index.cjs). */
  preload: string;
  entry: RendererEntry;
  /** Window icon on Windows and Linux (macOS uses the app bundle's). Default none. */
  icon?: string;
}

export interface WindowDeps {
  BrowserWindow: new (options: BrowserWindowConstructorOptions) => BrowserWindow;
  /** Opens a web link in the user's browser (`shell.openExternal`). */
  openExternal(url: string): unknown;
}

export function mainWindowOptions(options: MainWindowOptions): BrowserWindowConstructorOptions {
  return {
    title: 'Earshot',
    width: 1200,
    height: 800,
    minWidth: 720,
    minHeight: 480,
    show: false,
    ...(options.icon ? { icon: options.icon } : {}),
    webPreferences: {
      preload: options.preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
    },
  };
}

export function entryUrl(entry: RendererEntry): string {
  return 'url' in entry ? entry.url : pathToFileURL(entry.file).href;
}

/** Whether `candidate` is a page of this app (not a site the UI links to). */
export function isAppUrl(candidate: string, appUrl: string): boolean {
  let c: URL;
  let a: URL;
  try {
    c = new URL(candidate);
    a = new URL(appUrl);
  } catch {
    return false;
  }
  if (a.protocol === 'file:') {
    const page = (u: URL) => decodeURIComponent(u.pathname).toLowerCase();
    return c.protocol === 'file:' && page(c) === page(a);
  }
  return c.origin === a.origin;
}

function isWebLink(url: string): boolean {
  return /^https?:\/\//i.test(url);
}

/** Links to the web open in the browser; the window never navigates away from Earshot. */
export function guardNavigation(
  contents: WebContents,
  appUrl: string,
  openExternal: (url: string) => unknown,
) {
  contents.setWindowOpenHandler(({ url }) => {
    if (isWebLink(url)) openExternal(url);
    return { action: 'deny' };
  });
  contents.on('will-navigate', (event) => {
    if (isAppUrl(event.url, appUrl)) return;
    event.preventDefault();
    if (isWebLink(event.url)) openExternal(event.url);
  });
}

/** The UI asks for nothing a web page may ask for (camera, location, ...), so nothing is granted. */
export function denyPermissions(
  session: Pick<Session, 'setPermissionRequestHandler' | 'setPermissionCheckHandler'>,
) {
  session.setPermissionRequestHandler((_contents, permission, callback) =>
    callback(permission === 'clipboard-sanitized-write'),
  );
  session.setPermissionCheckHandler((_contents, permission) => permission === 'clipboard-sanitized-write');
}

export function createMainWindow(deps: WindowDeps, options: MainWindowOptions): BrowserWindow {
  const win = new deps.BrowserWindow(mainWindowOptions(options));
  win.once('ready-to-show', () => win.show());
  guardNavigation(win.webContents, entryUrl(options.entry), (url) => deps.openExternal(url));
  const loading = 'url' in options.entry ? win.loadURL(options.entry.url) : win.loadFile(options.entry.file);
  loading.catch((err: unknown) => console.error('Earshot could not load its window:', err));
  return win;
}

/**
 * Closing the window hides it: Earshot keeps processing in the background and the tray brings the
 * window back. Only a real quit (`isQuitting()` true) lets it close.
 */
export function hideOnClose(win: Pick<BrowserWindow, 'on' | 'hide'>, isQuitting: () => boolean): void {
  win.on('close', (event) => {
    if (isQuitting()) return;
    event.preventDefault();
    win.hide();
  });
}

/** Bring the window to the front, restoring it if it was minimised or hidden. */
export function reveal(win: Pick<BrowserWindow, 'isMinimized' | 'restore' | 'show' | 'focus'>): void {
  if (win.isMinimized()) win.restore();
  win.show();
  win.focus();
}
