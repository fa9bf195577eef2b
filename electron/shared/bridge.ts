/**
 * What the preload bridge and the main process agree on: channel names and the envelope a call's
 * result travels in. Pure (no electron, no Node) so both sides and their tests can import it.
 */

/** API and event names are plain identifiers, so a name can never reach another channel. */
const NAME = /^[A-Za-z][A-Za-z0-9]*$/;

export function isApiName(name: unknown): name is string {
  return typeof name === 'string' && NAME.test(name);
}

/** Channel of an API call (`ipcRenderer.invoke` / `ipcMain.handle`). */
export function invokeChannel(name: string): string {
  return `earshot:${name}`;
}

/** Channel of an event pushed from the main process to the window. */
export function eventChannel(event: string): string {
  return `earshot:event:${event}`;
}

/**
 * A call's result. Errors travel as data, not as a rejected `invoke`, because Electron rewrites a
 * rejection's message ("Error invoking remote method ...") and the user should read ours.
 */
export type InvokeResult =
  { ok: true; value: unknown } | { ok: false; error: { name: string; message: string } };

/** What the preload puts on `window.earshot`: the typed API's two verbs and nothing else. */
export interface EarshotBridge {
  invoke(name: string, ...args: unknown[]): Promise<unknown>;
  /** Returns a function that removes the listener. */
  on(event: string, listener: (payload: unknown) => void): () => void;
}
