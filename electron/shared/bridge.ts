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

/** The page asks main for the system's "open files" dialog (ipcRenderer.invoke): paths, or []. */
export const CHOOSE_FILES_CHANNEL = 'earshot:choose-files';

/**
 * What the preload puts on `window.earshot`: the typed API's two verbs, and two ways to import
 * (which need what only the preload and main have: a dropped file's path, the system's dialog).
 * Both end in the API's `importFiles`; nothing else of Node or Electron reaches the page.
 */
export interface EarshotBridge {
  invoke(name: string, ...args: unknown[]): Promise<unknown>;
  /** Returns a function that removes the listener. */
  on(event: string, listener: (payload: unknown) => void): () => void;
  /** Import files and folders dropped on the window (their paths found with webUtils.getPathForFile). */
  importDropped(files: unknown[]): Promise<unknown>;
  /** Open the system's file dialog and import what was chosen; null when it was cancelled. */
  chooseAndImport(): Promise<unknown>;
}
