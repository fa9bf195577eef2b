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
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      safeDialogs: true,
      // A middle click would otherwise open a link in a new window without asking the handler.
      disableBlinkFeatures: 'Auxclick',
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

/**
 * The address a link may be opened at in the user's browser, or null: http(s) only, a real host,
 * no user name or password in it (which would hide the real host from a reader), at most 2,048
 * characters. Returned as re-serialized by the URL parser, never the raw text.
 */
export function safeExternalUrl(candidate: string): string | null {
  if (typeof candidate !== 'string' || candidate.length > 2048) return null;
  let url: URL;
  try {
    url = new URL(candidate);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  if (!url.hostname || url.username || url.password) return null;
  return url.href;
}

/** Open a web link in the user's browser after validation; anything else is dropped. */
export function openWebLink(openExternal: (url: string) => unknown, candidate: string): boolean {
  const url = safeExternalUrl(candidate);
  if (url === null) return false;
  // Validated just above: http(s), a host, no credentials.
  openExternal(url);
  return true;
}

type GuardedContents = Pick<WebContents, 'setWindowOpenHandler' | 'on'>;
const guarded = new WeakSet<object>();

/**
 * Links to the web open in the browser; the window never navigates away from Earshot, opens no
 * window of its own, follows no redirect off its page and attaches no <webview>.
 */
export function guardNavigation(
  contents: GuardedContents,
  appUrl: string,
  openExternal: (url: string) => unknown,
) {
  if (guarded.has(contents)) return;
  guarded.add(contents);
  contents.setWindowOpenHandler(({ url }) => {
    openWebLink(openExternal, url);
    return { action: 'deny' };
  });
  contents.on('will-navigate', (event) => {
    if (isAppUrl(event.url, appUrl)) return;
    event.preventDefault();
    openWebLink(openExternal, event.url);
  });
  contents.on('will-redirect', (event) => {
    if (isAppUrl(event.url, appUrl)) return;
    event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
}

/**
 * Every web contents the app ever creates (not only the main window's) gets the same guard:
 * Electron's `web-contents-created` is the one place no window can slip past.
 */
export function guardAllContents(
  app: {
    on(event: 'web-contents-created', listener: (event: unknown, contents: WebContents) => void): unknown;
  },
  appUrl: string,
  openExternal: (url: string) => unknown,
) {
  app.on('web-contents-created', (_event, contents) => guardNavigation(contents, appUrl, openExternal));
}

/** The UI asks for nothing a web page may ask for (camera, location, ...), so nothing is granted. */
export function denyPermissions(
  session: Pick<
    Session,
    'setPermissionRequestHandler' | 'setPermissionCheckHandler' | 'setDevicePermissionHandler'
  >,
) {
  session.setPermissionRequestHandler((_contents, permission, callback) =>
    callback(permission === 'clipboard-sanitized-write'),
  );
  session.setPermissionCheckHandler((_contents, permission) => permission === 'clipboard-sanitized-write');
  // USB, HID and serial devices: never.
  session.setDevicePermissionHandler(() => false);
}

export function createMainWindow(deps: WindowDeps, options: MainWindowOptions): BrowserWindow {
  const win = new deps.BrowserWindow(mainWindowOptions(options));
  win.once('ready-to-show', () => win.show());
  guardNavigation(win.webContents, entryUrl(options.entry), deps.openExternal);
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
