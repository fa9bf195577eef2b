import type { IpcMain, IpcMainInvokeEvent, WebContents } from 'electron';
import { eventChannel, invokeChannel, type InvokeResult } from '../shared/bridge.ts';
import type { Api, ApiMethod } from '../../pipeline/api/contract.ts';
import { dispatch, toWireError } from '../../pipeline/api/dispatch.ts';

/**
 * Answers the preload's `invoke(name, ...args)` through the API's dispatcher (arguments validated
 * against the contract's schemas), for the listed names only. Here only the sender is checked: a
 * frame that is not Earshot's page (`isTrustedSender(url)` false) gets an error. Returns a
 * function that removes the handlers.
 */
export function registerApi(
  ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>,
  api: Partial<Api>,
  names: readonly ApiMethod[],
  isTrustedSender: (url: string) => boolean,
): () => void {
  for (const name of names) {
    if (typeof api[name] !== 'function') throw new TypeError(`The API has no method "${name}"`);
    ipcMain.handle(invokeChannel(name), async (event: IpcMainInvokeEvent, ...args: unknown[]) => {
      const url = event.senderFrame?.url ?? '';
      if (!isTrustedSender(url)) {
        return failure(
          new Error(`A page that is not Earshot's (${url || 'unknown'}) tried to call "${name}".`),
        );
      }
      try {
        return { ok: true, value: await dispatch(api as Api, name, args) } satisfies InvokeResult;
      } catch (err) {
        return failure(err);
      }
    });
  }
  return () => {
    for (const name of names) ipcMain.removeHandler(invokeChannel(name));
  };
}

function failure(err: unknown): InvokeResult {
  return { ok: false, error: toWireError(err) };
}

/** Push an event to a window; its `window.earshot.on(event, ...)` listeners receive `payload`. */
export function sendEvent(
  contents: Pick<WebContents, 'send' | 'isDestroyed'>,
  event: string,
  payload: unknown,
) {
  if (!contents.isDestroyed()) contents.send(eventChannel(event), payload);
}
