import type { IpcMain, IpcMainInvokeEvent, WebContents } from 'electron';
import { eventChannel, invokeChannel, type InvokeResult } from '../shared/bridge.ts';

type Method = (...args: never[]) => unknown;
type MethodName<T> = { [K in keyof T]: T[K] extends Method ? K : never }[keyof T] & string;

/**
 * Answers the preload's `invoke(name, ...args)` by calling `api[name](...args)`, for the listed
 * names only. Input validation is the API's own (zod at its boundary); here only the sender is
 * checked: a frame that is not Earshot's page (`isTrustedSender(url)` false) gets an error.
 * Returns a function that removes the handlers.
 */
export function registerApi<T extends object>(
  ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>,
  api: T,
  names: readonly MethodName<T>[],
  isTrustedSender: (url: string) => boolean,
): () => void {
  for (const name of names) {
    const method = api[name] as Method;
    if (typeof method !== 'function') throw new TypeError(`The API has no method "${name}"`);
    ipcMain.handle(invokeChannel(name), async (event: IpcMainInvokeEvent, ...args: unknown[]) => {
      const frame = event.senderFrame;
      const url = frame?.url ?? '';
      // Only Earshot's own page, in its top frame (never an embedded frame), may call the API.
      if (!frame || frame.parent !== null || !isTrustedSender(url)) {
        return failure(
          new Error(`A page that is not Earshot's (${url || 'unknown'}) tried to call "${name}".`),
        );
      }
      try {
        return { ok: true, value: await method.apply(api, args as never[]) } satisfies InvokeResult;
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
  const error = err instanceof Error ? err : new Error(String(err));
  return { ok: false, error: { name: error.name, message: error.message } };
}

/** Push an event to a window; its `window.earshot.on(event, ...)` listeners receive `payload`. */
export function sendEvent(
  contents: Pick<WebContents, 'send' | 'isDestroyed'>,
  event: string,
  payload: unknown,
) {
  if (!contents.isDestroyed()) contents.send(eventChannel(event), payload);
}
