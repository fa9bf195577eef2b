import type { WebContents } from 'electron';
import type { ApiEventBus } from '../../pipeline/api/dispatch.ts';
import { sendEvent } from './ipc.ts';

export type EventTarget = Pick<WebContents, 'send' | 'isDestroyed'>;

/**
 * Push the API's events (contract.ts `ApiEvents`: job progress, model progress, lanes, episodes)
 * to Earshot's windows under their own names, so the desktop UI sees the same live progress as a
 * browser on `earshot serve`. `targets` is asked at each event (windows come and go: closed to
 * the tray, reopened). Returns a function that stops forwarding.
 */
export function forwardEvents(events: ApiEventBus, targets: () => Iterable<EventTarget>): () => void {
  return events.onAny((event, payload) => {
    // Listeners run inside the engine's own emit: a window that fails must not break the engine.
    try {
      for (const contents of targets()) sendEvent(contents, event, payload);
    } catch (err) {
      console.error(`Earshot could not send ${event} to its window: ${(err as Error).message}`);
    }
  });
}
