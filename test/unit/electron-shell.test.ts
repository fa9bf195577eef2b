import fs from 'node:fs';
import { EventEmitter } from 'node:events';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { BrowserWindowConstructorOptions, MenuItemConstructorOptions } from 'electron';
import type { HostMessage, WorkerBoot } from '../../pipeline/engine/protocol.ts';
import type { LaneView } from '../../pipeline/api/contract.ts';

// There is no Electron binary here (and the real package throws without one): every Electron
// object the shell touches is a fake that records what it was asked to do.
const electron = vi.hoisted(() => ({
  contextBridge: { exposeInMainWorld: vi.fn() },
  ipcRenderer: { send: vi.fn(), on: vi.fn() },
}));
vi.mock('electron', () => electron);

const { createTray, trayMenuTemplate } = await import('../../electron/main/tray.ts');
const { createProcessingSwitch, followLanes } = await import('../../electron/main/processing.ts');
const { createMainWindow, denyPermissions, guardAllContents, hideOnClose, isAppUrl, safeExternalUrl } =
  await import('../../electron/main/window.ts');
const { watchPowerSource } = await import('../../electron/main/power.ts');
const { claimSingleInstance } = await import('../../electron/main/single-instance.ts');
const { appMenuTemplate } = await import('../../electron/main/app-menu.ts');
const { acceptWindows } = await import('../../electron/main/connect.ts');
const { parseBoot, servicePortAdapter } = await import('../../electron/main/worker-port.ts');
const { ASSET_SCHEME, handleAssetScheme, registerAssetScheme } =
  await import('../../electron/main/media-protocol.ts');
const { Assets } = await import('../../pipeline/listen/assets.ts');
const { openDatabase, databasePath } = await import('../../pipeline/store/index.ts');
const { tempDir } = await import('../helpers/env.ts');
// The renderer is type-checked by tsconfig.web.json; importing it by a computed URL keeps it out of
// tsconfig.node.json's program (which may not list it), so only its behaviour is tested here.
interface TransportLike {
  readonly kind: 'ipc' | 'http';
  invoke(name: string, ...args: unknown[]): Promise<unknown>;
  on(event: string, listener: (payload: unknown) => void): () => void;
  assetUrl(path: string): string;
}
type BridgeLike = Pick<TransportLike, 'invoke' | 'on'>;
const { httpTransport, ipcTransport, selectTransport } = (await import(
  new URL('../../renderer/src/transport.ts', import.meta.url).href
)) as {
  httpTransport(options: {
    origin: string;
    fetch?: typeof globalThis.fetch;
    WebSocket?: typeof globalThis.WebSocket;
  }): TransportLike;
  ipcTransport(bridge: BridgeLike): TransportLike;
  selectTransport(win: { earshot?: BridgeLike; location: { origin: string } }): TransportLike;
};

afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

const boot: WorkerBoot = {
  registryModule: '/app/out/main/workflows.js',
  dataDir: '/data',
  heartbeatMs: 500,
  lane: 'gpu',
  workerId: 'gpu-0',
};

/** A MessagePort in one process: what is posted on one end arrives on the other. */
class LocalPort extends EventEmitter {
  other: LocalPort | null = null;
  started = false;
  closed = false;
  postMessage(data: unknown) {
    const to = this.other;
    if (!to || to.closed) return;
    queueMicrotask(() => to.emit('message', { data }));
  }
  start() {
    this.started = true;
  }
  close() {
    if (this.closed) return;
    this.closed = true;
    this.other?.emit('close');
  }
  // The DOM shape the preload uses.
  addEventListener(type: string, listener: (e: unknown) => void) {
    this.on(type, listener);
  }
  removeEventListener(type: string, listener: (e: unknown) => void) {
    this.off(type, listener);
  }
}
function localChannel(): [LocalPort, LocalPort] {
  const a = new LocalPort();
  const b = new LocalPort();
  a.other = b;
  b.other = a;
  return [a, b];
}

describe('worker port (utility process side)', () => {
  it('talks over the port main sends first, and exits when the service side closes', async () => {
    const parentPort = new EventEmitter();
    const exits: number[] = [];
    const adapted = servicePortAdapter(parentPort as never, (code) => exits.push(code));
    const [serviceSide, workerSide] = localChannel();
    parentPort.emit('message', { data: { type: 'port' }, ports: [workerSide] });
    const port = await adapted;
    const got: HostMessage[] = [];
    port.onMessage((m) => got.push(m));
    expect(workerSide.started).toBe(true);
    port.send({ type: 'heartbeat', jobId: 1 });
    const atService = await new Promise((resolve) => serviceSide.once('message', (e) => resolve(e.data)));
    expect(atService).toEqual({ type: 'heartbeat', jobId: 1 });
    serviceSide.postMessage({ type: 'shutdown' });
    await new Promise((r) => setImmediate(r));
    expect(got).toEqual([{ type: 'shutdown' }]);
    serviceSide.close();
    expect(exits).toEqual([0]);
  });

  it('reads the boot data, refusing what is missing or malformed', () => {
    expect(parseBoot(JSON.stringify(boot))).toEqual(boot);
    expect(parseBoot(undefined)).toBeNull();
    expect(parseBoot('{not json')).toBeNull();
    expect(parseBoot('{"dataDir":"/d"}')).toBeNull();
  });
});

class FakeTray extends EventEmitter {
  static last: FakeTray;
  menu: { template: MenuItemConstructorOptions[] } | null = null;
  tooltip = '';
  destroyed = false;
  readonly image: unknown;
  constructor(image: unknown) {
    super();
    this.image = image;
    FakeTray.last = this;
  }
  setContextMenu(menu: { template: MenuItemConstructorOptions[] }) {
    this.menu = menu;
  }
  setToolTip(text: string) {
    this.tooltip = text;
  }
  destroy() {
    this.destroyed = true;
  }
}

const FakeMenu = { buildFromTemplate: (template: MenuItemConstructorOptions[]) => ({ template }) };

function item(tray: FakeTray, id: string): MenuItemConstructorOptions {
  const found = tray.menu?.template.find((i) => i.id === id);
  if (!found) throw new Error(`no tray item ${id}`);
  return found;
}

function click(menuItem: MenuItemConstructorOptions) {
  (menuItem.click as () => void)();
}

describe('tray', () => {
  const trayDeps = (platform: NodeJS.Platform) => ({
    Tray: FakeTray as never,
    Menu: FakeMenu as never,
    platform,
  });

  it('offers Show, Pause and Quit', () => {
    const labels = trayMenuTemplate(
      { userPaused: false, onBattery: false },
      { show() {}, setPaused() {}, quit() {} },
    ).map((i) => i.label ?? i.type);
    expect(labels).toEqual(['Show Earshot', 'Pause processing', 'separator', 'Quit Earshot']);
  });

  it('Pause and Resume toggle the processing callback, and the menu follows the state', () => {
    const processing = createProcessingSwitch();
    const setPaused = vi.fn((paused: boolean) => processing.setUserPaused(paused));
    const tray = createTray(
      trayDeps('darwin'),
      'tray.png',
      { show() {}, setPaused, quit() {} },
      processing.state,
    );
    processing.onChange((s) => tray.update(s));
    const fake = FakeTray.last;

    click(item(fake, 'pause'));
    expect(setPaused).toHaveBeenLastCalledWith(true);
    expect(item(fake, 'pause').label).toBe('Resume processing');
    expect(fake.tooltip).toMatch(/paused/);

    click(item(fake, 'pause'));
    expect(setPaused).toHaveBeenLastCalledWith(false);
    expect(item(fake, 'pause').label).toBe('Pause processing');
    expect(fake.tooltip).toBe('Earshot');
  });

  it('Show and Quit call their actions; a click on the icon shows the window outside macOS', () => {
    const show = vi.fn();
    const quit = vi.fn();
    createTray(
      trayDeps('win32'),
      'tray.png',
      { show, setPaused() {}, quit },
      { userPaused: false, onBattery: false },
    );
    const fake = FakeTray.last;
    click(item(fake, 'show'));
    expect(show).toHaveBeenCalledTimes(1);
    fake.emit('click');
    expect(show).toHaveBeenCalledTimes(2);
    click(item(fake, 'quit'));
    expect(quit).toHaveBeenCalledTimes(1);

    createTray(
      trayDeps('darwin'),
      'tray.png',
      { show, setPaused() {}, quit },
      { userPaused: false, onBattery: false },
    );
    expect(FakeTray.last.listenerCount('click')).toBe(0);
  });

  it('says so in the tooltip when the machine is on battery', () => {
    const tray = createTray(
      trayDeps('linux'),
      'tray.png',
      { show() {}, setPaused() {}, quit() {} },
      { userPaused: false, onBattery: false },
    );
    tray.update({ userPaused: false, onBattery: true });
    expect(FakeTray.last.tooltip).toMatch(/battery/);
    tray.destroy();
    expect(FakeTray.last.destroyed).toBe(true);
  });
});

describe('processing switch', () => {
  it('notifies only on a real change', () => {
    const processing = createProcessingSwitch();
    const seen: unknown[] = [];
    const stop = processing.onChange((s) => seen.push(s));
    processing.setUserPaused(false);
    processing.setOnBattery(true);
    processing.setOnBattery(true);
    processing.setUserPaused(true);
    stop();
    processing.setUserPaused(false);
    expect(seen).toEqual([
      { userPaused: false, onBattery: true },
      { userPaused: true, onBattery: true },
    ]);
    expect(processing.state).toEqual({ userPaused: false, onBattery: true });
  });
});

class FakeWebContents extends EventEmitter {
  openHandler: ((details: { url: string }) => { action: string }) | null = null;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: string }) {
    this.openHandler = handler;
  }
}

class FakeBrowserWindow extends EventEmitter {
  static last: FakeBrowserWindow;
  webContents = new FakeWebContents();
  show = vi.fn();
  hide = vi.fn();
  loadURL = vi.fn(() => Promise.resolve());
  loadFile = vi.fn(() => Promise.resolve());
  readonly options: BrowserWindowConstructorOptions;
  constructor(options: BrowserWindowConstructorOptions) {
    super();
    this.options = options;
    FakeBrowserWindow.last = this;
  }
}

function navigate(contents: FakeWebContents, url: string): boolean {
  let prevented = false;
  contents.emit('will-navigate', { url, preventDefault: () => (prevented = true) });
  return prevented;
}

describe('main window', () => {
  const indexHtml = path.resolve('out/renderer/index.html');

  it('is created isolated and sandboxed, without Node, with the preload', () => {
    const win = createMainWindow(
      { BrowserWindow: FakeBrowserWindow as never, openExternal: vi.fn() },
      { preload: '/app/out/preload/index.cjs', entry: { file: indexHtml } },
    ) as unknown as FakeBrowserWindow;
    const prefs = win.options.webPreferences!;
    expect(prefs.contextIsolation).toBe(true);
    expect(prefs.sandbox).toBe(true);
    expect(prefs.nodeIntegration).toBe(false);
    expect(prefs.nodeIntegrationInWorker).toBe(false);
    expect(prefs.nodeIntegrationInSubFrames).toBe(false);
    expect(prefs.webSecurity).toBe(true);
    expect(prefs.allowRunningInsecureContent).toBe(false);
    expect(prefs.experimentalFeatures).toBe(false);
    expect(prefs.webviewTag).toBe(false);
    expect(prefs.navigateOnDragDrop).toBe(false);
    expect(prefs.disableBlinkFeatures).toBe('Auxclick');
    expect(prefs).not.toHaveProperty('enableBlinkFeatures');
    expect(prefs.preload).toBe('/app/out/preload/index.cjs');
    expect(win.loadFile).toHaveBeenCalledWith(indexHtml);
    expect(win.loadURL).not.toHaveBeenCalled();
    // Shown only once painted, so it never flashes empty.
    expect(win.options.show).toBe(false);
    expect(win.show).not.toHaveBeenCalled();
    win.emit('ready-to-show');
    expect(win.show).toHaveBeenCalledTimes(1);
  });

  it('loads the dev server when given a URL', () => {
    createMainWindow(
      { BrowserWindow: FakeBrowserWindow as never, openExternal: vi.fn() },
      { preload: 'p.cjs', entry: { url: 'http://localhost:5173/' } },
    );
    expect(FakeBrowserWindow.last.loadURL).toHaveBeenCalledWith('http://localhost:5173/');
  });

  it('never navigates away: web links open in the browser, other pages are refused', () => {
    const openExternal = vi.fn();
    createMainWindow(
      { BrowserWindow: FakeBrowserWindow as never, openExternal },
      { preload: 'p.cjs', entry: { file: indexHtml } },
    );
    const contents = FakeBrowserWindow.last.webContents;

    expect(contents.openHandler!({ url: 'https://example.com/show' })).toEqual({ action: 'deny' });
    expect(openExternal).toHaveBeenCalledWith('https://example.com/show');
    expect(contents.openHandler!({ url: 'file:///etc/passwd' })).toEqual({ action: 'deny' });
    expect(openExternal).toHaveBeenCalledTimes(1);

    expect(navigate(contents, `${pathToFileURL(indexHtml).href}#/status`)).toBe(false);
    expect(navigate(contents, 'https://evil.example/')).toBe(true);
    expect(openExternal).toHaveBeenLastCalledWith('https://evil.example/');
    expect(navigate(contents, pathToFileURL(path.resolve('elsewhere.html')).href)).toBe(true);
    expect(openExternal).toHaveBeenCalledTimes(2);
  });

  it('opens only validated web links: http(s), a host, no credentials', () => {
    expect(safeExternalUrl('https://example.com/a b')).toBe('https://example.com/a%20b');
    expect(safeExternalUrl('HTTP://Example.com')).toBe('http://example.com/');
    for (const bad of [
      'file:///etc/passwd',
      'javascript:alert(1)',
      'smb://server/share',
      'ms-msdt:/id',
      'data:text/html,x',
      'https://user:pass@example.com/',
      'https://trusted.example@evil.example/',
      'http://',
      'not a url',
      `https://example.com/${'a'.repeat(3000)}`,
    ]) {
      expect(safeExternalUrl(bad), bad).toBeNull();
    }
    const openExternal = vi.fn();
    createMainWindow(
      { BrowserWindow: FakeBrowserWindow as never, openExternal },
      { preload: 'p.cjs', entry: { file: indexHtml } },
    );
    const contents = FakeBrowserWindow.last.webContents;
    expect(contents.openHandler!({ url: 'https://a:b@evil.example/' })).toEqual({ action: 'deny' });
    expect(navigate(contents, 'javascript:alert(1)')).toBe(true);
    expect(navigate(contents, 'smb://server/share')).toBe(true);
    expect(openExternal).not.toHaveBeenCalled();
  });

  it('follows no redirect off its page and attaches no <webview>', () => {
    createMainWindow(
      { BrowserWindow: FakeBrowserWindow as never, openExternal: vi.fn() },
      { preload: 'p.cjs', entry: { file: indexHtml } },
    );
    const contents = FakeBrowserWindow.last.webContents;
    const fire = (name: string, url?: string) => {
      let prevented = false;
      contents.emit(name, { url, preventDefault: () => (prevented = true) });
      return prevented;
    };
    expect(fire('will-redirect', 'https://evil.example/')).toBe(true);
    expect(fire('will-redirect', `${pathToFileURL(indexHtml).href}#/x`)).toBe(false);
    expect(fire('will-attach-webview')).toBe(true);
  });

  it('holds every web contents the app creates to its page, once each', () => {
    const app = new EventEmitter();
    const openExternal = vi.fn();
    const appUrl = pathToFileURL(indexHtml).href;
    guardAllContents(app as never, appUrl, openExternal);
    const other = new FakeWebContents();
    app.emit('web-contents-created', {}, other);
    app.emit('web-contents-created', {}, other);
    expect(other.openHandler!({ url: 'https://example.com/' })).toEqual({ action: 'deny' });
    expect(openExternal).toHaveBeenCalledTimes(1);
    expect(navigate(other, 'https://example.com/')).toBe(true);
    // Guarded once: one navigation opens one browser tab, not two.
    expect(openExternal).toHaveBeenCalledTimes(2);
    expect(other.listenerCount('will-navigate')).toBe(1);
  });

  it('tells app pages from others by origin for a dev server', () => {
    expect(isAppUrl('http://localhost:5173/#/x', 'http://localhost:5173/')).toBe(true);
    expect(isAppUrl('http://localhost:5174/', 'http://localhost:5173/')).toBe(false);
    expect(isAppUrl('not a url', 'http://localhost:5173/')).toBe(false);
  });

  it('hides instead of closing unless Earshot is quitting', () => {
    const win = new FakeBrowserWindow({});
    let quitting = false;
    hideOnClose(win as never, () => quitting);
    const close = () => {
      const event = { preventDefault: vi.fn() };
      win.emit('close', event);
      return event.preventDefault.mock.calls.length > 0;
    };
    expect(close()).toBe(true);
    expect(win.hide).toHaveBeenCalledTimes(1);
    quitting = true;
    expect(close()).toBe(false);
    expect(win.hide).toHaveBeenCalledTimes(1);
  });

  it('grants no permissions but sanitized clipboard writes', () => {
    let request: ((wc: unknown, permission: string, cb: (granted: boolean) => void) => void) | null = null;
    let check: ((wc: unknown, permission: string) => boolean) | null = null;
    let device: ((details: unknown) => boolean) | null = null;
    denyPermissions({
      setPermissionRequestHandler: (h: never) => (request = h),
      setPermissionCheckHandler: (h: never) => (check = h),
      setDevicePermissionHandler: (h: never) => (device = h),
    } as never);
    expect(device!({ deviceType: 'usb' })).toBe(false);
    expect(device!({ deviceType: 'hid' })).toBe(false);
    const granted = (permission: string) => {
      let answer: boolean | undefined;
      request!(null, permission, (g) => (answer = g));
      return answer;
    };
    expect(granted('media')).toBe(false);
    expect(granted('geolocation')).toBe(false);
    expect(granted('clipboard-sanitized-write')).toBe(true);
    expect(check!(null, 'notifications')).toBe(false);
    for (const p of [
      'notifications',
      'midi',
      'midiSysex',
      'pointerLock',
      'fullscreen',
      'openExternal',
      'clipboard-read',
      'display-capture',
    ]) {
      expect(granted(p), p).toBe(false);
    }
  });
});

describe('power source', () => {
  function fakePowerMonitor(onBattery: boolean) {
    return Object.assign(new EventEmitter(), {
      battery: onBattery,
      isOnBatteryPower() {
        return this.battery;
      },
    });
  }

  it('reports the source at once and on each change, never twice in a row', () => {
    const pm = fakePowerMonitor(false);
    const seen: string[] = [];
    const stop = watchPowerSource(pm as never, (s) => seen.push(s));
    pm.emit('on-battery');
    pm.emit('on-battery');
    pm.emit('on-ac');
    expect(seen).toEqual(['ac', 'battery', 'ac']);
    stop();
    pm.emit('on-battery');
    expect(seen).toEqual(['ac', 'battery', 'ac']);
    expect(pm.listenerCount('on-battery') + pm.listenerCount('on-ac') + pm.listenerCount('resume')).toBe(0);
  });

  it('notices a change by polling where the OS sends no event', () => {
    vi.useFakeTimers();
    const pm = fakePowerMonitor(false);
    const seen: string[] = [];
    const stop = watchPowerSource(pm as never, (s) => seen.push(s), { pollMs: 1000 });
    pm.battery = true;
    vi.advanceTimersByTime(999);
    expect(seen).toEqual(['ac']);
    vi.advanceTimersByTime(1);
    expect(seen).toEqual(['ac', 'battery']);
    stop();
    pm.battery = false;
    vi.advanceTimersByTime(5000);
    expect(seen).toEqual(['ac', 'battery']);
  });
});

describe('single instance and app menu', () => {
  it('a second instance gets no lock; the first is told of the second launch', () => {
    const onSecond = vi.fn();
    const second = Object.assign(new EventEmitter(), { requestSingleInstanceLock: () => false });
    expect(claimSingleInstance(second as never, onSecond)).toBe(false);
    expect(second.listenerCount('second-instance')).toBe(0);

    const first = Object.assign(new EventEmitter(), { requestSingleInstanceLock: () => true });
    expect(claimSingleInstance(first as never, onSecond)).toBe(true);
    first.emit('second-instance');
    expect(onSecond).toHaveBeenCalledTimes(1);
  });

  it('has the macOS app menu only on macOS, and developer tools only in development', () => {
    const roles = (t: MenuItemConstructorOptions[]) =>
      t.flatMap((i) => [
        i.role,
        ...((i.submenu as MenuItemConstructorOptions[] | undefined) ?? []).map((s) => s.role),
      ]);
    const mac = roles(appMenuTemplate({ platform: 'darwin', isDev: false }));
    expect(mac[0]).toBe('appMenu');
    expect(mac).toContain('editMenu');
    expect(mac).not.toContain('toggleDevTools');
    const win = roles(appMenuTemplate({ platform: 'win32', isDev: true }));
    expect(win).not.toContain('appMenu');
    expect(win).toContain('toggleDevTools');
  });
});

describe('windows reach the library service only through a port main brokers', () => {
  function fakeIpcMain() {
    const listeners = new Map<string, (event: unknown) => void>();
    return {
      listeners,
      on: (channel: string, l: never) => void listeners.set(channel, l),
      removeListener: (channel: string) => void listeners.delete(channel),
    };
  }

  it("hands a port to Earshot's own page and refuses any other", () => {
    const ipc = fakeIpcMain();
    const connected: unknown[] = [];
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    const stop = acceptWindows(ipc as never, { connect: (t) => void connected.push(t) }, (url) =>
      url.startsWith('file:///app/'),
    );
    const sender = { id: 1 };
    ipc.listeners.get('earshot:connect')!({
      senderFrame: { url: 'file:///app/index.html', parent: null },
      sender,
    });
    ipc.listeners.get('earshot:connect')!({
      senderFrame: { url: 'https://evil.example/', parent: null },
      sender: {},
    });
    // Earshot's own address inside an embedded frame, or a sender with no frame: refused too.
    ipc.listeners.get('earshot:connect')!({
      senderFrame: { url: 'file:///app/index.html', parent: { url: 'https://evil.example/' } },
      sender: {},
    });
    ipc.listeners.get('earshot:connect')!({ senderFrame: null, sender: {} });
    expect(connected).toEqual([sender]);
    expect(logged).toHaveBeenCalledWith(expect.stringMatching(/refused its API.*evil\.example/));
    stop();
    expect(ipc.listeners.size).toBe(0);
  });
});

describe('tray pause follows the stored user pause, not the power source', () => {
  const view = (lane: LaneView['lane'], paused: boolean, holds: string[] = []): LaneView => ({
    lane,
    paused,
    holds,
    concurrency: 1,
    queued: 0,
    delayed: 0,
    running: 0,
  });

  it('reads the lanes at start, follows onLaneChanged, and pauses every lane when asked', async () => {
    const lanes = new Map([
      ['gpu', view('gpu', true, ['on battery'])],
      ['cpu', view('cpu', true)],
      ['io', view('io', true)],
    ]);
    let changed: ((l: LaneView) => void) | null = null;
    const client = {
      async invoke(method: string, lane?: LaneView['lane']) {
        if (method === 'status') return { lanes: [...lanes.values()] };
        const v = view(lane!, method === 'pauseLane');
        lanes.set(lane!, v);
        return v;
      },
      on(_event: string, l: (lane: LaneView) => void) {
        changed = l;
        return () => (changed = null);
      },
    };
    const processing = createProcessingSwitch();
    const follower = followLanes(client as never, processing);
    await follower.refresh();
    expect(processing.state.userPaused).toBe(true);
    // One lane resumed elsewhere (`earshot resume io`): not every lane is paused any more.
    changed!(view('io', false));
    expect(processing.state.userPaused).toBe(false);
    await follower.setUserPaused(true);
    expect([...lanes.values()].every((l) => l.paused)).toBe(true);
    expect(processing.state.userPaused).toBe(true);
    await follower.setUserPaused(false);
    expect([...lanes.values()].some((l) => l.paused)).toBe(false);
    expect(processing.state).toEqual({ userPaused: false, onBattery: false });
    follower.stop();
    expect(changed).toBeNull();
  });
});

describe('earshot:// protocol (audio and artwork in the window)', () => {
  it('is privileged as a standard, secure, streaming scheme before the app is ready', () => {
    const protocol = { registerSchemesAsPrivileged: vi.fn() };
    registerAssetScheme(protocol);
    expect(protocol.registerSchemesAsPrivileged).toHaveBeenCalledWith([
      {
        scheme: 'earshot',
        privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true },
      },
    ]);
  });

  it("answers with the downloaded file by Range, the way serve's /media does, and stops when told", async () => {
    const dataDir = tempDir('earshot-protocol-');
    const db = openDatabase(databasePath(dataDir));
    const file = path.join(dataDir, 'media', 'ep.mp3');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const bytes = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));
    fs.writeFileSync(file, bytes);
    const id = Number(
      db.prepare(`INSERT INTO episodes (feed_id, key, title, created_at) VALUES (NULL, 'ep', 'Ep', 0)`).run()
        .lastInsertRowid,
    );
    db.prepare(
      `INSERT INTO artifacts (episode_id, kind, path, fingerprint, schema_version, created_at) VALUES (?, 'audio', ?, 'f', 1, 0)`,
    ).run(id, file);
    let handler: ((request: Request) => Promise<Response>) | undefined;
    const protocol = {
      handle: vi.fn((scheme: string, h: (request: Request) => Promise<Response>) => {
        expect(scheme).toBe(ASSET_SCHEME);
        handler = h;
      }),
      unhandle: vi.fn(),
    };
    const stop = handleAssetScheme(protocol, new Assets({ db, dataDir }));
    const res = await handler!(
      new Request(`earshot://app/media/${id}`, { headers: { range: 'bytes=500-599' } }),
    );
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe('bytes 500-599/1000');
    expect(res.headers.get('content-type')).toBe('audio/mpeg');
    expect(Buffer.from(await res.arrayBuffer())).toEqual(bytes.subarray(500, 600));
    expect((await handler!(new Request('earshot://app/media/424242'))).status).toBe(404);
    // A handler that throws answers 500 with the reason, never an unhandled rejection.
    handleAssetScheme(protocol, {
      respond: () => Promise.reject(new Error('disk gone')),
    });
    const broken = await handler!(new Request('earshot://app/media/1'));
    expect(broken.status).toBe(500);
    expect(await broken.text()).toContain('disk gone');
    stop();
    expect(protocol.unhandle).toHaveBeenCalledWith('earshot');
    db.close();
  });
});

describe('preload bridge', () => {
  type Bridge = {
    invoke(name: string, ...args: unknown[]): Promise<unknown>;
    on(event: string, l: (p: unknown) => void): () => void;
  };
  let bridge: Bridge;
  /** Main's side: hand the page a port, as `webContents.postMessage('earshot:port', null, [port])` does. */
  let givePort: (port: LocalPort) => void;

  beforeEach(async () => {
    vi.resetModules();
    electron.contextBridge.exposeInMainWorld.mockReset();
    electron.ipcRenderer.send.mockReset();
    electron.ipcRenderer.on.mockReset();
    await import('../../electron/preload/index.ts');
    expect(electron.contextBridge.exposeInMainWorld).toHaveBeenCalledTimes(1);
    const [key, value] = electron.contextBridge.exposeInMainWorld.mock.calls[0]!;
    expect(key).toBe('earshot');
    bridge = value as Bridge;
    const [channel, onPort] = electron.ipcRenderer.on.mock.calls[0]!;
    expect(channel).toBe('earshot:port');
    givePort = (port) => onPort({ ports: [port] });
  });

  /** The service's side of a port: answers calls with `answer`, records what it got. */
  function service(answer: (method: string, args: unknown[]) => unknown) {
    const [mine, theirs] = localChannel();
    const got: unknown[] = [];
    mine.on('message', ({ data }: { data: { rpc: string; id: number; method: string; args: unknown[] } }) => {
      got.push(data);
      if (data.rpc !== 'call') return;
      try {
        mine.postMessage({ rpc: 'result', id: data.id, ok: true, value: answer(data.method, data.args) });
      } catch (err) {
        const e = err as Error;
        mine.postMessage({
          rpc: 'result',
          id: data.id,
          ok: false,
          error: { name: e.name, message: e.message },
        });
      }
    });
    return { port: theirs, mine, got };
  }

  it('exposes the API verbs and the two ways to import only, and asks main for its port', () => {
    expect(Object.keys(bridge).sort()).toEqual(['chooseAndImport', 'importDropped', 'invoke', 'on']);
    expect(Object.values(bridge)).not.toContain(electron.ipcRenderer);
    expect(electron.ipcRenderer.send).toHaveBeenCalledWith('earshot:connect');
  });

  it('queues calls until the port arrives, then answers them over it', async () => {
    const pending = bridge.invoke('jobs', { limit: 5 });
    const s = service((method, args) => ({ method, args }));
    givePort(s.port);
    await expect(pending).resolves.toEqual({ method: 'jobs', args: [{ limit: 5 }] });
    // A trailing omitted argument is no argument.
    await expect(bridge.invoke('retry', 'w-1', undefined)).resolves.toEqual({
      method: 'retry',
      args: ['w-1'],
    });
  });

  it("rethrows the API's error with its own name and message", async () => {
    const s = service(() => {
      throw Object.assign(new Error('There is no workflow with id x'), { name: 'ApiInputError' });
    });
    givePort(s.port);
    await expect(bridge.invoke('workflow', 'x')).rejects.toMatchObject({
      name: 'ApiInputError',
      message: 'There is no workflow with id x',
    });
  });

  it('refuses names that could reach another channel', async () => {
    await expect(bridge.invoke('event:onProgress')).rejects.toThrow(/not an Earshot API name/);
    await expect(bridge.invoke('../status')).rejects.toThrow(TypeError);
    expect(() => bridge.on('x:y', () => {})).toThrow(/not an Earshot event name/);
  });

  it('hands listeners the payload only, asks for the events it listens to, and keeps them across a new port', async () => {
    const first = service(() => null);
    givePort(first.port);
    const listener = vi.fn();
    const off = bridge.on('onJobProgress', listener);
    await new Promise((r) => setImmediate(r));
    expect(first.got).toEqual([{ rpc: 'listen', event: 'onJobProgress', on: true }]);
    first.mine.postMessage({ rpc: 'event', event: 'onJobProgress', payload: { fraction: 0.25 } });
    await new Promise((r) => setImmediate(r));
    expect(listener).toHaveBeenCalledWith({ fraction: 0.25 });
    expect(listener.mock.calls[0]).toHaveLength(1);

    // The service dies with a call in flight: it fails plainly; main then sends a new port.
    first.mine.removeAllListeners('message'); // it will never answer
    const inFlight = bridge.invoke('status');
    await new Promise((r) => setImmediate(r));
    first.mine.close();
    await expect(inFlight).rejects.toMatchObject({ name: 'ServiceGoneError' });
    const second = service(() => null);
    givePort(second.port);
    await new Promise((r) => setImmediate(r));
    expect(second.got).toEqual([{ rpc: 'listen', event: 'onJobProgress', on: true }]);
    off();
    await new Promise((r) => setImmediate(r));
    expect(second.got.at(-1)).toEqual({ rpc: 'listen', event: 'onJobProgress', on: false });
  });
});

describe('renderer transport', () => {
  function jsonResponse(status: number, body: unknown): Response {
    return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  }

  it('uses the preload bridge when there is one, HTTP otherwise', () => {
    const bridge = { invoke: vi.fn(), on: vi.fn() };
    expect(selectTransport({ earshot: bridge, location: { origin: 'file://' } }).kind).toBe('ipc');
    expect(selectTransport({ location: { origin: 'http://127.0.0.1:4319' } }).kind).toBe('http');
    void ipcTransport(bridge).invoke('pauseLane', 'gpu');
    expect(bridge.invoke).toHaveBeenCalledWith('pauseLane', 'gpu');
  });

  it('loads audio and pictures through earshot:// in Electron and from the origin in a browser', () => {
    expect(ipcTransport({ invoke: vi.fn(), on: vi.fn() }).assetUrl('/media/12')).toBe(
      'earshot://app/media/12',
    );
    expect(httpTransport({ origin: 'http://127.0.0.1:4319' }).assetUrl('/artwork/feed/3')).toBe(
      'http://127.0.0.1:4319/artwork/feed/3',
    );
  });

  it('POSTs the arguments as a JSON array to /api/<name>, dropping trailing undefined', async () => {
    const fetch = vi.fn(async (_url: string | URL | Request, _init?: RequestInit) =>
      jsonResponse(200, { id: 'w-1' }),
    );
    const http = httpTransport({ origin: 'http://127.0.0.1:4319', fetch: fetch as typeof globalThis.fetch });
    await expect(http.invoke('retry', 'w-1', undefined)).resolves.toEqual({ id: 'w-1' });
    const [url, init] = fetch.mock.calls[0]!;
    expect(String(url)).toBe('http://127.0.0.1:4319/api/retry');
    expect(init?.method).toBe('POST');
    expect(init?.body).toBe('["w-1"]');
  });

  it("throws the server's error message", async () => {
    const fetch = vi.fn(async () => jsonResponse(400, { error: 'lane must be one of gpu, cpu, io' }));
    const http = httpTransport({ origin: 'http://127.0.0.1:4319', fetch: fetch as never });
    await expect(http.invoke('pauseLane', 'gpu')).rejects.toThrow('lane must be one of gpu, cpu, io');
  });

  it('receives events over one WebSocket at /events and reconnects after a drop', () => {
    vi.useFakeTimers();
    const sockets: FakeSocket[] = [];
    class FakeSocket {
      onopen: (() => void) | null = null;
      onmessage: ((m: { data: string }) => void) | null = null;
      onclose: (() => void) | null = null;
      closed = false;
      readonly url: string;
      constructor(url: string) {
        this.url = url;
        sockets.push(this);
      }
      close() {
        this.closed = true;
        this.onclose?.();
      }
    }
    const http = httpTransport({
      origin: 'http://127.0.0.1:4319',
      WebSocket: FakeSocket as never,
      fetch: vi.fn() as never,
    });
    const progress = vi.fn();
    const other = vi.fn();
    const offProgress = http.on('onProgress', progress);
    const offOther = http.on('onOther', other);
    expect(sockets.map((s) => s.url)).toEqual(['ws://127.0.0.1:4319/events']);

    sockets[0]!.onmessage!({ data: JSON.stringify({ event: 'onProgress', payload: 0.5 }) });
    sockets[0]!.onmessage!({ data: 'not json' });
    expect(progress).toHaveBeenCalledWith(0.5);
    expect(other).not.toHaveBeenCalled();

    sockets[0]!.onclose!();
    vi.advanceTimersByTime(1000);
    expect(sockets).toHaveLength(2);

    offProgress();
    expect(sockets[1]!.closed).toBe(false);
    offOther();
    expect(sockets[1]!.closed).toBe(true);
    vi.advanceTimersByTime(60_000);
    expect(sockets).toHaveLength(2);
  });
});

describe('the digest notification', () => {
  const event = {
    digestId: 7,
    from: 0,
    to: 7 * 86_400_000,
    stories: 5,
    episodes: 12,
    headline: '5 stories from 12 episodes this week',
  };

  it('shows a system notification that opens the digest, and forwards the event to windows', async () => {
    const { notifyDigestReady } = await import('../../electron/main/notify.ts');
    const shown: { options: { title: string; body: string }; click?: () => void }[] = [];
    class FakeNotification {
      static isSupported = () => true;
      private readonly record: (typeof shown)[number];
      constructor(options: { title: string; body: string }) {
        this.record = { options };
        shown.push(this.record);
      }
      on(_event: 'click', listener: () => void) {
        this.record.click = listener;
        return this;
      }
      show() {}
    }
    const opened: number[] = [];
    expect(notifyDigestReady(FakeNotification, event, (id) => opened.push(id))).toBe(true);
    expect(shown.map((s) => s.options)).toEqual([
      { title: 'Your digest is ready', body: '5 stories from 12 episodes this week.' },
    ]);
    shown[0]!.click!();
    expect(opened).toEqual([7]);
    class Unsupported extends FakeNotification {
      static override isSupported = () => false;
    }
    expect(notifyDigestReady(Unsupported, event, () => {})).toBe(false);
  });
});
