/**
 * What the preload bridge and the main process agree on: channel names and the bridge's shape.
 * Pure (no electron, no Node) so both sides and their tests can import it.
 */

/** API and event names are plain identifiers, so a name can never reach another channel. */
const NAME = /^[A-Za-z][A-Za-z0-9]*$/;

export function isApiName(name: unknown): name is string {
  return typeof name === 'string' && NAME.test(name);
}

/** The page asks main for a port to the library service (ipcRenderer.send). */
export const CONNECT_CHANNEL = 'earshot:connect';

/** Main hands the page its port to the library service (webContents.postMessage). */
export const PORT_CHANNEL = 'earshot:port';

/** What the preload puts on `window.earshot`: the typed API's two verbs and nothing else. */
export interface EarshotBridge {
  invoke(name: string, ...args: unknown[]): Promise<unknown>;
  /** Returns a function that removes the listener. */
  on(event: string, listener: (payload: unknown) => void): () => void;
}
