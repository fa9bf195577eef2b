/**
 * The Electron main process: wiring only. Each piece lives in its own module that takes the
 * Electron objects it needs, so it can be tested without Electron.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  app,
  BrowserWindow,
  ipcMain,
  Menu,
  Notification,
  Tray,
  nativeImage,
  powerMonitor,
  session,
  shell,
} from 'electron';
import { resolveDataDir } from '../../pipeline/store/paths.ts';
import { startEngine, type RunningEngine } from './engine-host.ts';
import { UtilityWorkerHost } from './utility-host.ts';
import { appMenuTemplate } from './app-menu.ts';
import { watchPowerSource } from './power.ts';
import { createProcessingSwitch } from './processing.ts';
import { claimSingleInstance } from './single-instance.ts';
import { createTray, type EarshotTray } from './tray.ts';
import { notifyDigestReady } from './notify.ts';
import {
  createMainWindow,
  denyPermissions,
  entryUrl,
  hideOnClose,
  isAppUrl,
  reveal,
  type RendererEntry,
} from './window.ts';

// One name in development and in the packaged app, so both use the same data folder.
app.setName('Earshot');
if (process.platform === 'win32') app.setAppUserModelId('app.earshot.desktop');

const mainDir = path.dirname(fileURLToPath(import.meta.url)); // out/main
const resourcesDir = path.join(mainDir, '../../resources');
const preload = path.join(mainDir, '../preload/index.cjs');
const devServer = process.env.ELECTRON_RENDERER_URL;
const entry: RendererEntry =
  !app.isPackaged && devServer ? { url: devServer } : { file: path.join(mainDir, '../renderer/index.html') };

const processing = createProcessingSwitch();
let window: BrowserWindow | null = null;
// Held here so the icon is not garbage-collected off the menu bar.
let tray: EarshotTray | null = null;
let quitting = false;
let engine: RunningEngine | null = null;

function openWindow(): BrowserWindow {
  const win = createMainWindow(
    { BrowserWindow, openExternal: (url) => shell.openExternal(url) },
    {
      preload,
      entry,
      icon: process.platform === 'linux' ? path.join(resourcesDir, 'icon.png') : undefined,
    },
  );
  hideOnClose(win, () => quitting);
  return win;
}

function showWindow(): void {
  if (!app.isReady()) return;
  if (!window || window.isDestroyed()) window = openWindow();
  reveal(window);
}

function trayImage() {
  // "Template" images are drawn by macOS in the menu bar's colours; @2x files load automatically.
  const file = process.platform === 'darwin' ? 'trayTemplate.png' : 'tray.png';
  return nativeImage.createFromPath(path.join(resourcesDir, file));
}

async function start(): Promise<void> {
  denyPermissions(session.defaultSession);
  // The same library as the CLI: EARSHOT_DATA_DIR, else the app-data folder (userData).
  engine = await startEngine({
    ipcMain,
    host: new UtilityWorkerHost({ entry: path.join(mainDir, 'worker.js') }),
    dataDir: resolveDataDir(undefined, process.env),
    mainDir,
    processing,
    isTrustedSender: (url) => isAppUrl(url, entryUrl(entry)),
    // Every Earshot window, focused or not: one hidden to the tray shows current progress when it
    // comes back. A window showing anything but Earshot's page gets nothing.
    eventTargets: () =>
      BrowserWindow.getAllWindows()
        .map((win) => win.webContents)
        .filter((contents) => !contents.isDestroyed() && isAppUrl(contents.getURL(), entryUrl(entry))),
    onDigestReady: (event) =>
      notifyDigestReady(Notification, event, (id) => {
        showWindow();
        // The renderer routes by hash: open the digest it announced.
        void window?.webContents.executeJavaScript(`location.hash = '#/digest/${Number(id)}'`);
      }),
  });
  Menu.setApplicationMenu(
    Menu.buildFromTemplate(appMenuTemplate({ platform: process.platform, isDev: !app.isPackaged })),
  );
  window = openWindow();
  const shellTray = createTray(
    { Tray, Menu, platform: process.platform },
    trayImage(),
    { show: showWindow, setPaused: (paused) => processing.setUserPaused(paused), quit: () => app.quit() },
    processing.state,
  );
  tray = shellTray;
  processing.onChange((state) => shellTray.update(state));
  watchPowerSource(powerMonitor, (source) => processing.setOnBattery(source === 'battery'));
}

if (!claimSingleInstance(app, showWindow)) {
  app.quit();
} else {
  app.on('before-quit', (event) => {
    quitting = true;
    if (!engine) return;
    // Let running steps finish (or hand them back) before the process goes.
    event.preventDefault();
    const stopping = engine;
    engine = null;
    void stopping.stop().finally(() => app.quit());
  });
  // Earshot keeps working from the tray: closing every window is not quitting.
  app.on('window-all-closed', () => undefined);
  // macOS: clicking the Dock icon brings the window back.
  app.on('activate', showWindow);
  app.on('will-quit', () => tray?.destroy());
  app.whenReady().then(start, (err: unknown) => {
    console.error('Earshot could not start:', err);
    app.exit(1);
  });
}
