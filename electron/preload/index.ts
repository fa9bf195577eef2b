/**
 * The only bridge between the window and the rest of Earshot. It exposes two verbs on
 * `window.earshot`, never `ipcRenderer` itself, so a page can reach nothing but the typed API.
 * Runs sandboxed: it may import only `electron` (bundled to CommonJS by electron-vite).
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import {
  eventChannel,
  invokeChannel,
  isApiName,
  type EarshotBridge,
  type InvokeResult,
} from '../shared/bridge.ts';

function checkName(kind: string, name: unknown): string {
  if (!isApiName(name)) throw new TypeError(`${JSON.stringify(name)} is not an Earshot ${kind} name`);
  return name;
}

const bridge: EarshotBridge = {
  async invoke(name, ...args) {
    const result = (await ipcRenderer.invoke(invokeChannel(checkName('API', name)), ...args)) as InvokeResult;
    if (result.ok) return result.value;
    const error = new Error(result.error.message);
    error.name = result.error.name;
    throw error;
  },
  on(event, listener) {
    const channel = eventChannel(checkName('event', event));
    if (typeof listener !== 'function') throw new TypeError('An Earshot event listener must be a function');
    // The IPC event object (with its sender) stays on this side of the bridge.
    const forward = (_event: IpcRendererEvent, payload: unknown) => listener(payload);
    ipcRenderer.on(channel, forward);
    return () => {
      ipcRenderer.removeListener(channel, forward);
    };
  },
};

contextBridge.exposeInMainWorld('earshot', bridge);
