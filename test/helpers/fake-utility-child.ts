/**
 * The child side of fake-electron.ts's utility processes: gives the module `process.parentPort`
 * (Electron's ParentPort surface: message events with `data` and `ports`, postMessage with
 * ports to transfer), then imports it. Ports arrive as specs and become FakePorts here.
 */
import { EventEmitter } from 'node:events';
import { pathToFileURL } from 'node:url';
import { FakePort, isFakePortSpec, transferPorts } from './fake-electron.ts';

const entry = process.env.FAKE_UTILITY_ENTRY;
if (!entry || !process.send) {
  console.error('fake-utility-child: start me through fakeUtilityProcess().fork');
  process.exit(2);
}

class FakeParentPort extends EventEmitter {
  postMessage(message: unknown, transfer?: unknown[]): void {
    if (process.connected) process.send!({ data: message, ports: transferPorts(transfer) });
  }
}
const parentPort = new FakeParentPort();
process.on('message', (raw: { data: unknown; ports?: unknown[] }) => {
  const ports = (raw.ports ?? []).filter(isFakePortSpec).map((spec) => new FakePort(spec));
  parentPort.emit('message', { data: raw.data, ports });
});
// A utility process ends with the app that started it.
process.on('disconnect', () => process.exit(0));
(process as unknown as { parentPort: FakeParentPort }).parentPort = parentPort;

await import(pathToFileURL(entry).href);
