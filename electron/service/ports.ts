import type { RpcPort } from '../../pipeline/api/rpc.ts';

/**
 * What Electron's MessagePortMain offers (and the Node fake in the tests): messages as events
 * whose `data` is the message, `start()` to begin receiving, a 'close' event when the other
 * side has gone.
 */
export interface PortMainLike {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (event: { data: unknown }) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  off(event: 'message', listener: (event: { data: unknown }) => void): unknown;
  start(): void;
  close(): void;
}

/** A MessagePortMain as the RPC layer's port. */
export function rpcPortOf(port: PortMainLike): RpcPort {
  let started = false;
  return {
    postMessage: (message) => port.postMessage(message),
    onMessage(listener) {
      const forward = (event: { data: unknown }) => listener(event.data);
      port.on('message', forward);
      if (!started) {
        started = true;
        port.start();
      }
      return () => void port.off('message', forward);
    },
    onClose: (listener) => void port.on('close', listener),
    close: () => port.close(),
  };
}
