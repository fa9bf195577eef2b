/**
 * The only bridge between the window and the rest of Earshot. It exposes two verbs on
 * `window.earshot`, never `ipcRenderer` or a port itself, so a page can reach nothing but the
 * typed API. Calls and events travel on a MessagePort straight to the library service (a utility
 * process); main only hands the port over (`earshot:port`) when this page asks (`earshot:connect`),
 * and again whenever the service restarts. Runs sandboxed: it may import only `electron`, plus
 * pure modules bundled into it (electron-vite makes one CommonJS file).
 */
import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron';
import { rpcClient, type RpcPort } from '../../pipeline/api/rpc.ts';
import {
  CHOOSE_FILES_CHANNEL,
  CONNECT_CHANNEL,
  isApiName,
  PORT_CHANNEL,
  type EarshotBridge,
} from '../shared/bridge.ts';

function checkName(kind: string, name: unknown): string {
  if (!isApiName(name)) throw new TypeError(`${JSON.stringify(name)} is not an Earshot ${kind} name`);
  return name;
}

/** What the page's side of a port offers (a DOM MessagePort). */
export interface DomPortLike {
  start(): void;
  postMessage(message: unknown): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  addEventListener(type: 'close', listener: () => void): void;
  removeEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  close(): void;
}

/** A DOM MessagePort (what a renderer receives) as the RPC layer's port. */
export function domPort(port: DomPortLike): RpcPort {
  port.start();
  return {
    postMessage: (message) => port.postMessage(message),
    onMessage(listener) {
      const forward = (event: { data: unknown }) => listener(event.data);
      port.addEventListener('message', forward);
      return () => port.removeEventListener('message', forward);
    },
    onClose: (listener) => port.addEventListener('close', listener),
    close: () => port.close(),
  };
}

const client = rpcClient();
ipcRenderer.on(PORT_CHANNEL, (event: IpcRendererEvent) => {
  const port = event.ports[0] as unknown as DomPortLike | undefined;
  if (port) client.attach(domPort(port));
});
ipcRenderer.send(CONNECT_CHANNEL);

const bridge: EarshotBridge = {
  invoke(name, ...args) {
    try {
      return client.call(checkName('API', name), args);
    } catch (err) {
      return Promise.reject(err as Error);
    }
  },
  on(event, listener) {
    const name = checkName('event', event);
    if (typeof listener !== 'function') throw new TypeError('An Earshot event listener must be a function');
    // Only the payload crosses into the page.
    return client.listen(name, (payload) => listener(payload));
  },
  importDropped(files) {
    try {
      if (!Array.isArray(files)) throw new TypeError('Drop files to import them.');
      // A File made by the page (not from the disk) has no path: it is left out.
      const paths = files.map((f) => webUtils.getPathForFile(f as File)).filter((p) => p !== '');
      if (paths.length === 0)
        throw new TypeError('Nothing dropped is a file on this computer. Drop audio files or folders.');
      return client.call('importFiles', [paths]);
    } catch (err) {
      return Promise.reject(err as Error);
    }
  },
  async chooseAndImport() {
    const paths = (await ipcRenderer.invoke(CHOOSE_FILES_CHANNEL)) as unknown;
    if (!Array.isArray(paths) || paths.length === 0) return null;
    return client.call('importFiles', [paths.filter((p): p is string => typeof p === 'string')]);
  },
};

contextBridge.exposeInMainWorld('earshot', bridge);
