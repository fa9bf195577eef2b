import type { IpcMain, IpcMainEvent } from 'electron';
import { CONNECT_CHANNEL } from '../shared/bridge.ts';
import type { PortTarget, ServiceHost } from './service-host.ts';

/**
 * A window asks for its port to the library service (`earshot:connect` from the preload); main
 * brokers one, and again after every restart of the service. Only Earshot's own page gets one:
 * a frame whose URL is not the app's (`isTrustedSender` false), or that is embedded in another
 * frame, is refused, so no other page can reach the API. Returns a function that stops answering.
 */
export function acceptWindows(
  ipcMain: Pick<IpcMain, 'on' | 'removeListener'>,
  host: Pick<ServiceHost, 'connect'>,
  isTrustedSender: (url: string) => boolean,
): () => void {
  const onConnect = (event: IpcMainEvent) => {
    const frame = event.senderFrame;
    const url = frame?.url ?? '';
    // Only Earshot's own page, in its top frame (never an embedded frame), gets a port.
    if (!frame || frame.parent !== null || !isTrustedSender(url)) {
      console.error(`Earshot refused its API to a page that is not its own (${url || 'unknown'}).`);
      return;
    }
    host.connect(event.sender as unknown as PortTarget);
  };
  ipcMain.on(CONNECT_CHANNEL, onConnect);
  return () => void ipcMain.removeListener(CONNECT_CHANNEL, onConnect);
}
