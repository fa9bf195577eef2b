/**
 * The Electron main process: windows, tray, menus, the power source, and the library service it
 * forks (a utility process that owns the library and runs the API and the engine; main brokers
 * MessagePorts to it and forks the workers it asks for). Wiring only: each piece lives in its own
 * module that takes the Electron objects it needs, so it can be tested without Electron.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  app,
  BrowserWindow,
  dialog,
  ipcMain,
  Menu,
  MessageChannelMain,
  Notification,
  Tray,
  nativeImage,
  powerMonitor,
  protocol,
  session,
  shell,
  utilityProcess,
} from 'electron';
import { privateUmask, resolveDataDir } from '../../pipeline/store/paths.ts';
import { BATTERY_HOLD } from '../shared/service-protocol.ts';
import { appMenuTemplate } from './app-menu.ts';
import { acceptWindows } from './connect.ts';
import { watchPowerSource } from './power.ts';
import { createProcessingSwitch, followLanes, type LanesClient } from './processing.ts';
import { startServiceHost, type ServiceHost } from './service-host.ts';
import { claimSingleInstance } from './single-instance.ts';
import { handleAssetScheme, registerAssetScheme } from './media-protocol.ts';
import { respondAsset } from '../../pipeline/listen/assets.ts';
import type { AssetSource } from '../../pipeline/api/contract.ts';
import { createTray, type EarshotTray } from './tray.ts';
import { notifyDigestReady } from './notify.ts';
import { followOpenFile, handleChooseFiles } from './files.ts';
import { followActivity, notifyEpisodes, type NotifySettings } from './activity.ts';
import type { AppSettingsView } from '../../pipeline/api/contract.ts';
import {
  createMainWindow,
  denyPermissions,
  entryUrl,
  guardAllContents,
  hideOnClose,
  isAppUrl,
  reveal,
  type RendererEntry,
} from './window.ts';

// The library (and every file the engine and its workers write) is for this user alone.
privateUmask();
// The player's audio and the artwork come through earshot:// (privileged before the app is ready).
registerAssetScheme(protocol);
// One name in development and in the packaged app, so both use the same data folder.
app.setName('Earshot');
if (process.platform === 'win32') app.setAppUserModelId('app.earshot.desktop');

const mainDir = path.dirname(fileURLToPath(import.meta.url)); // out/main
const resourcesDir = path.join(mainDir, '../../resources');
const preload = path.join(mainDir, '../preload/index.cjs');
const devServer = process.env.ELECTRON_RENDERER_URL;
const entry: RendererEntry =
  !app.isPackaged && devServer ? { url: devServer } : { file: path.join(mainDir, '../renderer/index.html') };

/**
 * The one place a link leaves Earshot for the user's browser. Every caller goes through
 * window.ts's openWebLink, which passes only http(s) addresses with a host and no credentials.
 */
const openExternal = (url: string) => shell.openExternal(url);
// Any web contents, whichever window it belongs to, is held to Earshot's page.
guardAllContents(app, entryUrl(entry), openExternal);

// The decoder runs as a process of its own from the bundle (workers inherit the environment).
process.env.EARSHOT_DECODER_ENTRY ??= path.join(mainDir, 'decoder.js');

const processing = createProcessingSwitch();
let window: BrowserWindow | null = null;
// Held here so the icon is not garbage-collected off the menu bar.
let tray: EarshotTray | null = null;
let quitting = false;
let service: ServiceHost | null = null;
/** Settings main follows (the service keeps them; `onSettingsChanged` says when they change). */
let keepRunningInTray = true;
let notifySettings: NotifySettings = { processed: true, failures: true };

function followSettings(s: AppSettingsView): void {
  keepRunningInTray = s.keepRunningInTray;
  notifySettings = s.notifications;
  // Start at login: macOS and Windows (Linux desktops have no such setting to ask for).
  if (process.platform !== 'linux' && app.getLoginItemSettings().openAtLogin !== s.startAtLogin)
    app.setLoginItemSettings({ openAtLogin: s.startAtLogin });
}

/** Files opened with Earshot (the Dock icon, "Open with"), possibly before the app is ready. */
const openedFiles = followOpenFile(
  app,
  async (paths) => {
    if (!service) throw new Error('Earshot is not ready to import yet.');
    return service.client.call('importFiles', [paths]);
  },
  {
    show: () => showWindow(),
    onError: (err) => console.error(`Earshot could not import the files: ${err.message}`),
  },
);

function openWindow(): BrowserWindow {
  const win = createMainWindow(
    { BrowserWindow, openExternal },
    {
      preload,
      entry,
      icon: process.platform === 'linux' ? path.join(resourcesDir, 'icon.png') : undefined,
    },
  );
  // Keep working in the tray (Settings) hides the window on close; otherwise closing it quits.
  hideOnClose(win, () => quitting || !keepRunningInTray);
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
  const dataDir = resolveDataDir(undefined, process.env);
  // The same library as the CLI: EARSHOT_DATA_DIR, else the app-data folder (userData).
  const host = startServiceHost({
    utilityProcess,
    MessageChannelMain,
    serviceEntry: path.join(mainDir, 'service.js'),
    workerEntry: path.join(mainDir, 'worker.js'),
    // Read at each start of the service: the power source as it is now, never a stored pause.
    boot: () => ({
      dataDir,
      registryModule: path.join(mainDir, 'workflows.js'),
      holds: powerMonitor.isOnBatteryPower() ? [{ lane: 'gpu', reason: BATTERY_HOLD }] : [],
    }),
    onReady: () => {
      void lanes.refresh();
      void activity.refresh();
      void host.client.invoke('settings').then(followSettings, () => undefined);
    },
  });
  service = host;
  const lanes = followLanes(host.client as LanesClient, processing);
  const activity = followActivity(host.client as never, (a) => processing.setActivity(a));
  host.client.on('onSettingsChanged', followSettings);
  const route = (hash: string) => {
    showWindow();
    void window?.webContents.executeJavaScript(`location.hash = ${JSON.stringify(hash)}`);
  };
  // Episodes processed or failed: one notification per batch, as Settings allow.
  notifyEpisodes(
    host.client as never,
    Notification,
    () => notifySettings,
    (kind) => route(kind === 'failed' ? '#/problems' : '#/inbox'),
  );
  // "Add files…": the system's dialog, for Earshot's own page only.
  handleChooseFiles(
    ipcMain,
    { dialog, windowOf: (c) => BrowserWindow.fromWebContents(c), platform: process.platform },
    (url) => isAppUrl(url, entryUrl(entry)),
  );
  openedFiles.ready();
  // Only Earshot's own page gets a port to the service.
  acceptWindows(ipcMain, host, (url) => isAppUrl(url, entryUrl(entry)));
  // The bytes come from where the service says they are: main reads files and streams, never the library.
  handleAssetScheme(protocol, {
    respond: async (request) =>
      respondAsset(
        (await host.client.call('assetSource', [new URL(request.url).pathname])) as AssetSource,
        request,
      ),
  });
  // A scheduled digest was made: a system notification that opens it.
  host.client.on('onDigestReady', (event) =>
    notifyDigestReady(Notification, event, (id) => {
      showWindow();
      // The renderer routes by hash: open the digest it announced.
      void window?.webContents.executeJavaScript(`location.hash = '#/digest/${Number(id)}'`);
    }),
  );
  Menu.setApplicationMenu(
    Menu.buildFromTemplate(appMenuTemplate({ platform: process.platform, isDev: !app.isPackaged })),
  );
  window = openWindow();
  const shellTray = createTray(
    { Tray, Menu, platform: process.platform },
    trayImage(),
    { show: showWindow, setPaused: (paused) => void lanes.setUserPaused(paused), quit: () => app.quit() },
    processing.state,
  );
  tray = shellTray;
  processing.onChange((state) => shellTray.update(state));
  watchPowerSource(powerMonitor, (source) => {
    const onBattery = source === 'battery';
    processing.setOnBattery(onBattery);
    host.setHold('gpu', BATTERY_HOLD, onBattery);
  });
}

if (!claimSingleInstance(app, showWindow)) {
  app.quit();
} else {
  app.on('before-quit', (event) => {
    quitting = true;
    if (!service) return;
    // Let running steps finish (or hand them back) before the process goes.
    event.preventDefault();
    const stopping = service;
    service = null;
    void stopping.stop().finally(() => app.quit());
  });
  // Earshot keeps working from the tray: closing every window is not quitting (unless Settings says so).
  app.on('window-all-closed', () => {
    if (!keepRunningInTray) app.quit();
  });
  // macOS: clicking the Dock icon brings the window back.
  app.on('activate', showWindow);
  app.on('will-quit', () => tray?.destroy());
  app.whenReady().then(start, (err: unknown) => {
    console.error('Earshot could not start:', err);
    app.exit(1);
  });
}
