import { EventEmitter } from 'node:events';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { BrowserWindowConstructorOptions, MenuItemConstructorOptions } from 'electron';
import type { HostMessage, WorkerBoot, WorkerMessage } from '../../pipeline/engine/protocol.ts';

// There is no Electron binary here (and the real package throws without one): every Electron
// object the shell touches is a fake that records what it was asked to do.
const electron = vi.hoisted(() => ({
  utilityProcess: { fork: vi.fn() },
  contextBridge: { exposeInMainWorld: vi.fn() },
  ipcRenderer: { invoke: vi.fn(), on: vi.fn(), removeListener: vi.fn() },
}));
vi.mock('electron', () => electron);

const { UtilityWorkerHost } = await import('../../electron/main/utility-host.ts');
const { createTray, trayMenuTemplate } = await import('../../electron/main/tray.ts');
const { createProcessingSwitch } = await import('../../electron/main/processing.ts');
const { createMainWindow, denyPermissions, hideOnClose, isAppUrl } =
  await import('../../electron/main/window.ts');
const { watchPowerSource } = await import('../../electron/main/power.ts');
const { claimSingleInstance } = await import('../../electron/main/single-instance.ts');
const { appMenuTemplate } = await import('../../electron/main/app-menu.ts');
const { registerApi, sendEvent } = await import('../../electron/main/ipc.ts');
const { forwardEvents } = await import('../../electron/main/events.ts');
const { ApiEventBus } = await import('../../pipeline/api/dispatch.ts');
const { forwardEngineEvents } = await import('../../pipeline/api/engine-host.ts');
const { moduleSpecifier, parentPortAdapter, parseBoot } = await import('../../electron/main/worker-port.ts');
// The renderer is type-checked by tsconfig.web.json; importing it by a computed URL keeps it out of
// tsconfig.node.json's program (which may not list it), so only its behaviour is tested here.
interface TransportLike {
  readonly kind: 'ipc' | 'http';
  invoke(name: string, ...args: unknown[]): Promise<unknown>;
  on(event: string, listener: (payload: unknown) => void): () => void;
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

class FakeUtilityProcess extends EventEmitter {
  pid: number | undefined = 424242;
  postMessage = vi.fn();
  kill = vi.fn(() => true);
}

describe('UtilityWorkerHost', () => {
  let child: FakeUtilityProcess;
  beforeEach(() => {
    child = new FakeUtilityProcess();
    electron.utilityProcess.fork.mockReset().mockReturnValue(child);
  });

  it('forks the worker entry with the boot data in its environment', () => {
    const handle = new UtilityWorkerHost({ entry: '/app/out/main/worker.js' }).spawn(boot);
    expect(electron.utilityProcess.fork).toHaveBeenCalledTimes(1);
    const [entry, args, options] = electron.utilityProcess.fork.mock.calls[0]!;
    expect(entry).toBe('/app/out/main/worker.js');
    expect(args).toEqual([]);
    expect(options.stdio).toBe('inherit');
    expect(options.serviceName).toContain('gpu-0');
    expect(JSON.parse(options.env.EARSHOT_WORKER_BOOT)).toEqual(boot);
    expect(options.env.PATH).toBe(process.env.PATH);
    expect(handle.pid).toBe(424242);
  });

  it('passes messages both ways', () => {
    const handle = new UtilityWorkerHost({ entry: 'worker.js' }).spawn(boot);
    const received: WorkerMessage[] = [];
    handle.onMessage((m) => received.push(m));
    child.emit('message', { type: 'ready', pid: 424242 });
    child.emit('message', { type: 'heartbeat', jobId: 3 });
    expect(received).toEqual([
      { type: 'ready', pid: 424242 },
      { type: 'heartbeat', jobId: 3 },
    ]);
    const abort: HostMessage = { type: 'abort', jobId: 3, reason: 'cancelled' };
    handle.send(abort);
    expect(child.postMessage).toHaveBeenCalledWith(abort);
  });

  it('reports the exit once, in words, and then sends and kills nothing', () => {
    const handle = new UtilityWorkerHost({ entry: 'worker.js' }).spawn(boot);
    const reasons: string[] = [];
    handle.onExit((r) => reasons.push(r));
    child.emit('exit', 3);
    child.emit('exit', 3);
    expect(reasons).toEqual(['the worker process exited with code 3']);
    handle.send({ type: 'shutdown' });
    handle.kill();
    expect(child.postMessage).not.toHaveBeenCalled();
    expect(child.kill).not.toHaveBeenCalled();
  });

  it('names a fatal V8 error in the exit reason', () => {
    const handle = new UtilityWorkerHost({ entry: 'worker.js' }).spawn(boot);
    const reasons: string[] = [];
    handle.onExit((r) => reasons.push(r));
    child.emit('error', 'FatalError', 'worker.js:10');
    child.emit('exit', 133);
    expect(reasons).toEqual(['the worker process exited with code 133 after a FatalError at worker.js:10']);
  });

  it('kills with the signal asked for, SIGKILL by default', () => {
    const killPid = vi.spyOn(process, 'kill').mockImplementation(() => true);
    const handle = new UtilityWorkerHost({ entry: 'worker.js' }).spawn(boot);
    handle.kill();
    expect(killPid).toHaveBeenCalledWith(424242, 'SIGKILL');
    expect(child.kill).not.toHaveBeenCalled();
    handle.kill('SIGTERM');
    expect(child.kill).toHaveBeenCalledTimes(1);
  });

  it("falls back to Electron's own kill when the pid is unknown or the signal fails", () => {
    const killPid = vi.spyOn(process, 'kill').mockImplementation(() => {
      throw Object.assign(new Error('kill ESRCH'), { code: 'ESRCH' });
    });
    const handle = new UtilityWorkerHost({ entry: 'worker.js' }).spawn(boot);
    handle.kill('SIGKILL');
    expect(killPid).toHaveBeenCalledTimes(1);
    expect(child.kill).toHaveBeenCalledTimes(1);
    child.pid = undefined;
    handle.kill('SIGKILL');
    expect(killPid).toHaveBeenCalledTimes(1);
    expect(child.kill).toHaveBeenCalledTimes(2);
  });
});

describe('worker port (utility process side)', () => {
  it('unwraps parentPort message events and posts replies', () => {
    const parentPort = Object.assign(new EventEmitter(), { postMessage: vi.fn() });
    const port = parentPortAdapter(parentPort as never);
    const got: HostMessage[] = [];
    port.onMessage((m) => got.push(m));
    parentPort.emit('message', { data: { type: 'shutdown' }, ports: [] });
    expect(got).toEqual([{ type: 'shutdown' }]);
    port.send({ type: 'heartbeat', jobId: 1 });
    expect(parentPort.postMessage).toHaveBeenCalledWith({ type: 'heartbeat', jobId: 1 });
  });

  it('reads the boot data, refusing what is missing or malformed', () => {
    expect(parseBoot(JSON.stringify(boot))).toEqual(boot);
    expect(parseBoot(undefined)).toBeNull();
    expect(parseBoot('{not json')).toBeNull();
    expect(parseBoot('{"dataDir":"/d"}')).toBeNull();
  });

  it('imports an absolute registry path through a file URL', () => {
    const file = path.resolve('out/main/workflows.js');
    expect(moduleSpecifier(file)).toBe(pathToFileURL(file).href);
    expect(moduleSpecifier('some-package/workflows')).toBe('some-package/workflows');
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
    denyPermissions({
      setPermissionRequestHandler: (h: never) => (request = h),
      setPermissionCheckHandler: (h: never) => (check = h),
    } as never);
    const granted = (permission: string) => {
      let answer: boolean | undefined;
      request!(null, permission, (g) => (answer = g));
      return answer;
    };
    expect(granted('media')).toBe(false);
    expect(granted('geolocation')).toBe(false);
    expect(granted('clipboard-sanitized-write')).toBe(true);
    expect(check!(null, 'notifications')).toBe(false);
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

describe('IPC: main side', () => {
  function fakeIpcMain() {
    const handlers = new Map<string, (event: unknown, ...args: unknown[]) => Promise<unknown>>();
    return {
      handlers,
      handle: (channel: string, h: never) => void handlers.set(channel, h),
      removeHandler: (channel: string) => void handlers.delete(channel),
    };
  }
  const from = (url: string) => ({ senderFrame: { url } });
  const trusted = (url: string) => url.startsWith('file:///app/');

  it('calls the API for a trusted page and wraps results and errors', async () => {
    const ipc = fakeIpcMain();
    const api = {
      calls: 0,
      async status() {
        this.calls++;
        return { lanes: [] };
      },
      async retry(id: string) {
        throw new Error(`There is no workflow with id ${id}`);
      },
    };
    const dispose = registerApi(ipc as never, api as never, ['status', 'retry'], trusted);
    expect([...ipc.handlers.keys()]).toEqual(['earshot:status', 'earshot:retry']);

    expect(await ipc.handlers.get('earshot:status')!(from('file:///app/index.html'))).toEqual({
      ok: true,
      value: { lanes: [] },
    });
    expect(await ipc.handlers.get('earshot:retry')!(from('file:///app/index.html'), 'w-1')).toEqual({
      ok: false,
      error: { name: 'Error', message: 'There is no workflow with id w-1' },
    });
    expect(api.calls).toBe(1);

    const refused = (await ipc.handlers.get('earshot:status')!(from('https://evil.example/'))) as {
      ok: boolean;
    };
    expect(refused.ok).toBe(false);
    expect(api.calls).toBe(1);

    dispose();
    expect(ipc.handlers.size).toBe(0);
  });

  it('refuses to register a name the API does not have', () => {
    expect(() => registerApi(fakeIpcMain() as never, {}, ['status'], trusted)).toThrow(/no method "status"/);
  });

  it('sends events on their own channel, and not to a closed window', () => {
    const contents = { send: vi.fn(), isDestroyed: () => false };
    sendEvent(contents, 'onProgress', { fraction: 0.5 });
    expect(contents.send).toHaveBeenCalledWith('earshot:event:onProgress', { fraction: 0.5 });
    const closed = { send: vi.fn(), isDestroyed: () => true };
    sendEvent(closed, 'onProgress', {});
    expect(closed.send).not.toHaveBeenCalled();
  });
});

describe('events: main process to windows', () => {
  const window = (destroyed = false) => ({ send: vi.fn(), isDestroyed: () => destroyed });
  /** A library with no episodes: the engine's events name no episode to report. */
  const noEpisodes = { prepare: () => ({ get: () => undefined }) } as never;

  it("forwards model progress and the engine's job events under the contract's names", () => {
    const bus = new ApiEventBus();
    const engine = new EventEmitter();
    const win = window();
    forwardEngineEvents(engine as never, bus, noEpisodes);
    forwardEvents(bus, () => [win]);
    bus.emit('onModelProgress', { id: 'whisper-base.en', bytes: 10, total: 100 });
    engine.emit('started', { jobId: 1, workflowId: 'w', step: 'download', lane: 'io', workerId: 'io-0' });
    engine.emit('progress', { jobId: 1, workflowId: 'w', step: 'download', fraction: 0.5 });
    engine.emit('finished', { jobId: 1, workflowId: 'w', step: 'download', outcome: { kind: 'stale' } });
    engine.emit('crashed', { workerId: 'io-0', lane: 'io', reason: 'x' });
    expect(win.send.mock.calls).toEqual([
      ['earshot:event:onModelProgress', { id: 'whisper-base.en', bytes: 10, total: 100 }],
      [
        'earshot:event:onJobStarted',
        { jobId: 1, workflowId: 'w', step: 'download', lane: 'io', workerId: 'io-0' },
      ],
      ['earshot:event:onJobProgress', { jobId: 1, workflowId: 'w', step: 'download', fraction: 0.5 }],
      [
        'earshot:event:onJobFinished',
        { jobId: 1, workflowId: 'w', step: 'download', outcome: { kind: 'stale' } },
      ],
    ]);
  });

  it('asks for the windows at each event, skips closed ones, and stops when told', () => {
    const bus = new ApiEventBus();
    let windows = [window()];
    const stop = forwardEvents(bus, () => windows);
    bus.emit('onModelProgress', { id: 'a', bytes: 1, total: 2 });
    const [first] = windows;
    const closed = window(true);
    windows = [window(), closed];
    bus.emit('onModelProgress', { id: 'a', bytes: 2, total: 2 });
    expect(first!.send).toHaveBeenCalledTimes(1);
    expect(windows[0]!.send).toHaveBeenCalledWith('earshot:event:onModelProgress', {
      id: 'a',
      bytes: 2,
      total: 2,
    });
    expect(closed.send).not.toHaveBeenCalled();

    stop();
    expect(bus.listenerCount('onModelProgress')).toBe(0);
    bus.emit('onModelProgress', { id: 'a', bytes: 2, total: 2 });
    expect(windows[0]!.send).toHaveBeenCalledTimes(1);
  });

  it('never throws into the engine when a window cannot take an event', () => {
    const bus = new ApiEventBus();
    const engine = new EventEmitter();
    const broken = {
      send: vi.fn(() => {
        throw new Error('An object could not be cloned.');
      }),
      isDestroyed: () => false,
    };
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    forwardEngineEvents(engine as never, bus, noEpisodes);
    forwardEvents(bus, () => [broken]);
    expect(() =>
      engine.emit('progress', { jobId: 1, workflowId: 'w', step: 'download', fraction: 0.1 }),
    ).not.toThrow();
    expect(logged).toHaveBeenCalledWith(expect.stringMatching(/could not send onJobProgress/));
  });

  it('drops a payload that does not fit the contract, and says why', () => {
    const errors: Error[] = [];
    const bus = new ApiEventBus((err) => errors.push(err));
    const win = window();
    forwardEvents(bus, () => [win]);
    bus.emit('onModelProgress', { id: 'a', bytes: -1, total: null });
    bus.emit('onLaneChanged', { lane: 'warp' } as never);
    expect(win.send).not.toHaveBeenCalled();
    expect(errors.map((e) => e.message)).toEqual([
      expect.stringMatching(/onModelProgress event's payload does not fit the contract/),
      expect.stringMatching(/onLaneChanged event's payload does not fit the contract: "warp" is not a lane/),
    ]);
  });
});

describe('preload bridge', () => {
  type Bridge = {
    invoke(name: string, ...args: unknown[]): Promise<unknown>;
    on(event: string, l: (p: unknown) => void): () => void;
  };
  let bridge: Bridge;

  beforeEach(async () => {
    vi.resetModules();
    electron.contextBridge.exposeInMainWorld.mockReset();
    electron.ipcRenderer.invoke.mockReset();
    electron.ipcRenderer.on.mockReset();
    electron.ipcRenderer.removeListener.mockReset();
    await import('../../electron/preload/index.ts');
    expect(electron.contextBridge.exposeInMainWorld).toHaveBeenCalledTimes(1);
    const [key, value] = electron.contextBridge.exposeInMainWorld.mock.calls[0]!;
    expect(key).toBe('earshot');
    bridge = value as Bridge;
  });

  it('exposes invoke and on only, never ipcRenderer', () => {
    expect(Object.keys(bridge).sort()).toEqual(['invoke', 'on']);
    expect(Object.values(bridge)).not.toContain(electron.ipcRenderer);
  });

  it('invokes on the earshot: channel and unwraps the result', async () => {
    electron.ipcRenderer.invoke.mockResolvedValueOnce({ ok: true, value: { lanes: [] } });
    await expect(bridge.invoke('jobs', { limit: 5 })).resolves.toEqual({ lanes: [] });
    expect(electron.ipcRenderer.invoke).toHaveBeenCalledWith('earshot:jobs', { limit: 5 });
  });

  it("rethrows the API's error with its own message", async () => {
    electron.ipcRenderer.invoke.mockResolvedValueOnce({
      ok: false,
      error: { name: 'ApiInputError', message: 'There is no workflow with id x' },
    });
    await expect(bridge.invoke('workflow', 'x')).rejects.toThrow('There is no workflow with id x');
  });

  it('refuses names that could reach another channel', async () => {
    await expect(bridge.invoke('event:onProgress')).rejects.toThrow(/not an Earshot API name/);
    await expect(bridge.invoke('../status')).rejects.toThrow(TypeError);
    expect(electron.ipcRenderer.invoke).not.toHaveBeenCalled();
    expect(() => bridge.on('x:y', () => {})).toThrow(/not an Earshot event name/);
  });

  it('hands listeners the payload only and lets them unsubscribe', () => {
    const listener = vi.fn();
    const off = bridge.on('onProgress', listener);
    const [channel, forward] = electron.ipcRenderer.on.mock.calls[0]!;
    expect(channel).toBe('earshot:event:onProgress');
    forward({ sender: 'the IPC event' }, { fraction: 0.25 });
    expect(listener).toHaveBeenCalledWith({ fraction: 0.25 });
    expect(listener.mock.calls[0]).toHaveLength(1);
    off();
    expect(electron.ipcRenderer.removeListener).toHaveBeenCalledWith('earshot:event:onProgress', forward);
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
