/**
 * Control from the desktop app, with Electron faked: files dropped on the window are imported
 * through the preload (paths from webUtils.getPathForFile, then the API's importFiles over the
 * service port), "Add files…" goes through main's native dialog, files opened from the Dock are
 * gathered and imported, the tray says what Earshot is doing, and notifications are coalesced.
 */
import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { MenuItemConstructorOptions } from 'electron';

const electron = vi.hoisted(() => ({
  contextBridge: { exposeInMainWorld: vi.fn() },
  ipcRenderer: { send: vi.fn(), on: vi.fn(), invoke: vi.fn() },
  webUtils: { getPathForFile: vi.fn() },
}));
vi.mock('electron', () => electron);

const { chooseFilesOptions, followOpenFile, handleChooseFiles } =
  await import('../../electron/main/files.ts');
const { createProcessingSwitch, describeProcessing, activityOf } =
  await import('../../electron/main/processing.ts');
const { createTray, trayMenuTemplate } = await import('../../electron/main/tray.ts');
const { batchNotice, followActivity, notifyEpisodes } = await import('../../electron/main/activity.ts');

afterEach(() => {
  vi.useRealTimers();
});

/** A MessagePort in one process (the DOM shape the preload uses). */
class LocalPort extends EventEmitter {
  other: LocalPort | null = null;
  postMessage(data: unknown) {
    const to = this.other;
    if (to) queueMicrotask(() => to.emit('message', { data }));
  }
  start() {}
  close() {
    this.other?.emit('close');
  }
  addEventListener(type: string, listener: (e: unknown) => void) {
    this.on(type, listener);
  }
  removeEventListener(type: string, listener: (e: unknown) => void) {
    this.off(type, listener);
  }
}

describe('drop → import in the preload', () => {
  type Bridge = {
    importDropped(files: unknown[]): Promise<unknown>;
    chooseAndImport(): Promise<unknown>;
  };
  let bridge: Bridge;
  let calls: { method: string; args: unknown[] }[];

  beforeEach(async () => {
    vi.resetModules();
    electron.contextBridge.exposeInMainWorld.mockReset();
    electron.ipcRenderer.on.mockReset();
    electron.ipcRenderer.invoke.mockReset();
    electron.webUtils.getPathForFile.mockReset();
    await import('../../electron/preload/index.ts');
    bridge = electron.contextBridge.exposeInMainWorld.mock.calls[0]![1] as Bridge;
    // The library service's side of the port: records calls and answers importFiles.
    calls = [];
    const mine = new LocalPort();
    const theirs = new LocalPort();
    mine.other = theirs;
    theirs.other = mine;
    mine.on('message', ({ data }: { data: { rpc: string; id: number; method: string; args: unknown[] } }) => {
      if (data.rpc !== 'call') return;
      calls.push({ method: data.method, args: data.args });
      const paths = data.args[0] as string[];
      mine.postMessage({
        rpc: 'result',
        id: data.id,
        ok: true,
        value: {
          imported: paths.map((p, i) => ({ path: p, episodeId: i + 1 })),
          duplicates: [],
          rejected: [],
        },
      });
    });
    const onPort = electron.ipcRenderer.on.mock.calls[0]![1] as (e: unknown) => void;
    onPort({ ports: [theirs] });
  });

  it("resolves each dropped file's path with webUtils.getPathForFile and imports them in one call", async () => {
    const a = { name: 'memo.mp3' };
    const b = { name: 'Interviews' };
    const made = { name: 'made-by-the-page.mp3' };
    const where = new Map<unknown, string>([
      [a, '/Users/me/memo.mp3'],
      [b, '/Users/me/Interviews'],
      [made, ''],
    ]);
    electron.webUtils.getPathForFile.mockImplementation((f: unknown) => where.get(f) ?? '');
    const result = (await bridge.importDropped([a, b, made])) as { imported: { path: string }[] };
    expect(electron.webUtils.getPathForFile).toHaveBeenCalledTimes(3);
    // A file the page made itself has no path: left out, the rest imported.
    expect(calls).toEqual([
      { method: 'importFiles', args: [['/Users/me/memo.mp3', '/Users/me/Interviews']] },
    ]);
    expect(result.imported.map((i) => i.path)).toEqual(['/Users/me/memo.mp3', '/Users/me/Interviews']);
  });

  it('says so when nothing dropped is a file on this computer, and calls nothing', async () => {
    electron.webUtils.getPathForFile.mockReturnValue('');
    await expect(bridge.importDropped([{ name: 'x' }])).rejects.toThrow(/Drop audio files or folders/);
    await expect(bridge.importDropped('not a list' as never)).rejects.toThrow(TypeError);
    expect(calls).toEqual([]);
  });

  it('"Add files…" asks main for the dialog and imports what was chosen; cancelled, it imports nothing', async () => {
    electron.ipcRenderer.invoke.mockResolvedValueOnce(['/Music/a.m4a', 42]);
    await bridge.chooseAndImport();
    expect(electron.ipcRenderer.invoke).toHaveBeenCalledWith('earshot:choose-files');
    expect(calls).toEqual([{ method: 'importFiles', args: [['/Music/a.m4a']] }]);
    electron.ipcRenderer.invoke.mockResolvedValueOnce([]);
    await expect(bridge.chooseAndImport()).resolves.toBeNull();
    expect(calls).toHaveLength(1);
  });
});

describe("main's file dialog and files opened from the Dock", () => {
  it("shows the dialog in front of the asking window, for Earshot's page only, and answers the paths", async () => {
    let handler: ((event: unknown) => Promise<string[]>) | null = null;
    const ipcMain = {
      handle: (channel: string, h: (event: unknown) => Promise<string[]>) => {
        expect(channel).toBe('earshot:choose-files');
        handler = h;
      },
    };
    const win = { id: 1 };
    const showOpenDialog = vi.fn(async () => ({ canceled: false, filePaths: ['/a.mp3', '/b.wav'] }));
    handleChooseFiles(
      ipcMain as never,
      { dialog: { showOpenDialog }, windowOf: () => win as never, platform: 'darwin' },
      (url) => url.startsWith('file:///app/'),
    );
    const event = (url: string) => ({ senderFrame: { url }, sender: { getURL: () => url } });
    await expect(handler!(event('file:///app/index.html'))).resolves.toEqual(['/a.mp3', '/b.wav']);
    expect(showOpenDialog).toHaveBeenCalledWith(win, chooseFilesOptions('darwin'));
    await expect(handler!(event('https://evil.example/'))).resolves.toEqual([]);
    expect(showOpenDialog).toHaveBeenCalledTimes(1);
    showOpenDialog.mockResolvedValueOnce({ canceled: true, filePaths: [] });
    await expect(handler!(event('file:///app/index.html'))).resolves.toEqual([]);
    // Folders too on macOS; elsewhere asking for both would show a folder picker only.
    expect(chooseFilesOptions('darwin').properties).toContain('openDirectory');
    expect(chooseFilesOptions('win32').properties).not.toContain('openDirectory');
    expect(chooseFilesOptions('linux').filters?.[0]?.extensions).toContain('mp3');
  });

  it('gathers open-file events (even before the app is ready) and imports them together, once', async () => {
    vi.useFakeTimers();
    const app = new EventEmitter();
    const imported: string[][] = [];
    const show = vi.fn();
    const opened = followOpenFile(
      app as never,
      async (paths) => {
        imported.push(paths);
      },
      { show, gatherMs: 300 },
    );
    const open = (p: string) => {
      const e = { preventDefault: vi.fn() };
      app.emit('open-file', e, p);
      return e;
    };
    expect(open('/a.mp3').preventDefault).toHaveBeenCalled();
    open('/b.mp3');
    open('/a.mp3');
    await vi.advanceTimersByTimeAsync(1000);
    expect(imported).toEqual([]); // not ready yet: kept
    opened.ready();
    await vi.advanceTimersByTimeAsync(299);
    expect(imported).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(imported).toEqual([['/a.mp3', '/b.mp3']]);
    expect(show).toHaveBeenCalledTimes(1);
    open('/c.mp3');
    await vi.advanceTimersByTimeAsync(300);
    expect(imported).toEqual([['/a.mp3', '/b.mp3'], ['/c.mp3']]);
  });
});

describe('tray states', () => {
  class FakeTray extends EventEmitter {
    static last: FakeTray;
    menu: { template: MenuItemConstructorOptions[] } | null = null;
    tooltip = '';
    constructor() {
      super();
      FakeTray.last = this;
    }
    setContextMenu(menu: { template: MenuItemConstructorOptions[] }) {
      this.menu = menu;
    }
    setToolTip(t: string) {
      this.tooltip = t;
    }
    destroy() {}
  }
  const FakeMenu = { buildFromTemplate: (template: MenuItemConstructorOptions[]) => ({ template }) };

  it('says working on N, paused and why, and how many problems', () => {
    const base = { userPaused: false, onBattery: false };
    expect(describeProcessing({ ...base, working: 0, held: [], problems: 0 })).toBe('Earshot');
    expect(describeProcessing({ ...base, working: 3, held: [], problems: 0 })).toBe(
      'Earshot: working on 3 episodes',
    );
    expect(describeProcessing({ ...base, working: 1, held: [], problems: 0 })).toBe(
      'Earshot: working on 1 episode',
    );
    expect(
      describeProcessing({
        userPaused: false,
        onBattery: true,
        working: 0,
        held: ['on battery'],
        problems: 0,
      }),
    ).toBe('Earshot: paused: on battery');
    expect(describeProcessing({ ...base, working: 0, held: [], problems: 2 })).toBe('Earshot: 2 problems');
    expect(describeProcessing({ ...base, working: 2, held: ['on battery'], problems: 1 })).toBe(
      'Earshot: working on 2 episodes · paused: on battery · 1 problem',
    );
    // The user's own pause says so, whatever else holds.
    expect(
      describeProcessing({
        userPaused: true,
        onBattery: true,
        working: 0,
        held: ['on battery'],
        problems: 2,
      }),
    ).toBe('Earshot: processing paused · 2 problems');
    // On battery with Settings saying go on: the service holds nothing, and nothing is said.
    expect(
      describeProcessing({ userPaused: false, onBattery: true, working: 1, held: [], problems: 0 }),
    ).toBe('Earshot: working on 1 episode');
  });

  it("reads the activity from the service's status and redraws the tooltip and the menu's first line", () => {
    const activity = activityOf({
      lanes: [
        { lane: 'gpu', holds: ['on battery'] },
        { lane: 'cpu', holds: [] },
        { lane: 'io', holds: ['on battery'] },
      ],
      workflows: { running: 4, queued: 9 },
      deadLetters: [{}, {}],
    });
    expect(activity).toEqual({ working: 4, held: ['on battery'], problems: 2 });
    const processing = createProcessingSwitch();
    const tray = createTray(
      { Tray: FakeTray as never, Menu: FakeMenu as never, platform: 'darwin' },
      'tray.png',
      { show() {}, setPaused() {}, quit() {} },
      processing.state,
    );
    processing.onChange((s) => tray.update(s));
    // Before the service is read, the menu is as it was.
    expect(FakeTray.last.menu!.template.map((i) => i.id ?? i.type)[0]).toBe('show');
    const seen: unknown[] = [];
    processing.onChange((s) => seen.push(s));
    processing.setActivity(activity);
    processing.setActivity({ ...activity, held: ['on battery'] }); // the same: no redraw
    expect(seen).toHaveLength(1);
    expect(FakeTray.last.tooltip).toBe('Earshot: working on 4 episodes · paused: on battery · 2 problems');
    const first = FakeTray.last.menu!.template[0]!;
    expect(first).toMatchObject({ id: 'status', enabled: false, label: FakeTray.last.tooltip });
    const labels = trayMenuTemplate(processing.state, { show() {}, setPaused() {}, quit() {} }).map(
      (i) => i.label ?? i.type,
    );
    expect(labels.slice(1)).toEqual([
      'separator',
      'Show Earshot',
      'Pause processing',
      'separator',
      'Quit Earshot',
    ]);
  });

  it('reads the status again after work starts or ends (once for a burst)', async () => {
    vi.useFakeTimers();
    const bus = new EventEmitter();
    let reads = 0;
    const client = {
      call: async () => {
        reads++;
        return { lanes: [], workflows: { running: reads }, deadLetters: [] };
      },
      on: (event: string, l: (...args: unknown[]) => void) => {
        bus.on(event, l);
        return () => bus.off(event, l);
      },
    };
    const got: number[] = [];
    const follower = followActivity(client as never, (a) => got.push(a.working), { settleMs: 500 });
    bus.emit('onJobStarted', {});
    bus.emit('onEpisodeChanged', {});
    bus.emit('onLaneChanged', {});
    await vi.advanceTimersByTimeAsync(500);
    expect(got).toEqual([1]);
    follower.stop();
    bus.emit('onJobStarted', {});
    await vi.advanceTimersByTimeAsync(1000);
    expect(got).toEqual([1]);
  });
});

describe('notifications for processed and failed episodes', () => {
  it('coalesces a batch into one notification per kind, tells each run once, and follows the settings', async () => {
    vi.useFakeTimers();
    const bus = new EventEmitter();
    const episodes = new Map<number, { title: string | null; workflowId: string; workflowStatus: string }>([
      [1, { title: 'Cues, not willpower', workflowId: 'w1', workflowStatus: 'completed' }],
      [2, { title: 'Start small', workflowId: 'w2', workflowStatus: 'completed' }],
      [3, { title: 'Design beats discipline', workflowId: 'w3', workflowStatus: 'completed' }],
      [4, { title: 'Broken audio', workflowId: 'w4', workflowStatus: 'dead' }],
      [5, { title: 'Half way', workflowId: 'w5', workflowStatus: 'running' }],
    ]);
    const client = {
      call: async (_m: string, [id]: [number]) => episodes.get(id)!,
      on: (event: string, l: (...args: unknown[]) => void) => {
        bus.on(event, l);
        return () => bus.off(event, l);
      },
    };
    const shown: { title: string; body: string; click?: () => void }[] = [];
    class FakeNotification {
      static isSupported = () => true;
      private readonly record: (typeof shown)[number];
      constructor(options: { title: string; body: string }) {
        this.record = { ...options };
        shown.push(this.record);
      }
      on(_e: 'click', l: () => void) {
        this.record.click = l;
        return this;
      }
      show() {}
    }
    let settings = { processed: true, failures: true };
    const opened: string[] = [];
    const n = notifyEpisodes(
      client as never,
      FakeNotification,
      () => settings,
      (k) => opened.push(k),
      {
        gatherMs: 1000,
      },
    );
    for (const id of [1, 2, 2, 3, 4, 5]) bus.emit('onEpisodeChanged', { episodeId: id, status: 'x' });
    await vi.advanceTimersByTimeAsync(1000);
    expect(shown.map(({ title, body }) => ({ title, body }))).toEqual([
      {
        title: '3 episodes ready',
        body: 'Cues, not willpower, Start small and 1 more: transcribed and ready to read.',
      },
      {
        title: 'An episode could not be processed',
        body: 'Broken audio. Open Problems in Earshot to see why and try again.',
      },
    ]);
    shown[1]!.click!();
    expect(opened).toEqual(['failed']);
    // The same runs again (a later step of a finished episode): nothing new to tell.
    bus.emit('onEpisodeChanged', { episodeId: 1, status: 'x' });
    await vi.advanceTimersByTimeAsync(1000);
    expect(shown).toHaveLength(2);
    // Notifications for processed episodes off: a new one is not shown.
    settings = { processed: false, failures: true };
    episodes.set(5, { title: 'Half way', workflowId: 'w5', workflowStatus: 'completed' });
    bus.emit('onEpisodeChanged', { episodeId: 5, status: 'x' });
    await vi.advanceTimersByTimeAsync(1000);
    expect(shown).toHaveLength(2);
    n.stop();
    expect(batchNotice('processed', ['One'])).toEqual({
      title: 'Episode ready',
      body: 'One: transcribed and ready to read.',
    });
    expect(batchNotice('failed', [])).toBeNull();
  });
});
