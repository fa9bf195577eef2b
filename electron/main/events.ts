import type { WebContents } from 'electron';
import { sendEvent } from './ipc.ts';

/** The App's own events (`App.events`), forwarded under their own names. */
export const APP_EVENTS = ['onModelProgress', 'onDigestReady'] as const;

/** The engine's job events under the names `earshot serve` gives them on /events. */
export const ENGINE_EVENTS = {
  started: 'onJobStarted',
  progress: 'onJobProgress',
  finished: 'onJobFinished',
} as const;

/** What an event source must offer: Node's EventEmitter (App.events, the Engine) fits. */
export interface EventSource {
  on(event: string, listener: (payload: unknown) => void): unknown;
  off(event: string, listener: (payload: unknown) => void): unknown;
}

export type EventTarget = Pick<WebContents, 'send' | 'isDestroyed'>;

/**
 * Push the App's and the engine's events to Earshot's windows, so the desktop UI sees the same
 * live progress as a browser on `earshot serve`. `targets` is asked at each event (windows come
 * and go: closed to the tray, reopened). Returns a function that stops forwarding.
 */
export function forwardEvents(
  sources: { app: EventSource; engine: EventSource },
  targets: () => Iterable<EventTarget>,
): () => void {
  const wired: [EventSource, string, (payload: unknown) => void][] = [];
  const forward = (source: EventSource, from: string, to: string) => {
    const listener = (payload: unknown) => {
      // Listeners run inside the engine's own emit: a window that fails must not break the engine.
      try {
        for (const contents of targets()) sendEvent(contents, to, payload);
      } catch (err) {
        console.error(`Earshot could not send ${to} to its window: ${(err as Error).message}`);
      }
    };
    source.on(from, listener);
    wired.push([source, from, listener]);
  };
  for (const name of APP_EVENTS) forward(sources.app, name, name);
  for (const [from, to] of Object.entries(ENGINE_EVENTS)) forward(sources.engine, from, to);
  return () => {
    for (const [source, name, listener] of wired.splice(0)) source.off(name, listener);
  };
}
