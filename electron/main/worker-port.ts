import type { WorkerPort } from '../../pipeline/engine/worker-runtime.ts';
import type { HostMessage, WorkerBoot, WorkerMessage } from '../../pipeline/engine/protocol.ts';
import type { PortMainLike } from '../service/ports.ts';

/** What a worker needs of `process.parentPort`: the first message's ports. */
export interface ParentPortLike {
  once(event: 'message', listener: (event: { data: unknown; ports: PortMainLike[] }) => void): unknown;
}

/**
 * The worker's port to the library service: main sends it as the parentPort's first message.
 * When the service goes (its side of the port closes), nobody can commit this worker's work, so
 * the worker exits at once, as a CLI worker does when its engine disconnects.
 */
export function servicePortAdapter(
  parentPort: ParentPortLike,
  exit: (code: number) => void = (code) => process.exit(code),
): Promise<WorkerPort> {
  return new Promise((resolve) => {
    parentPort.once('message', (event) => {
      const port = event.ports?.[0];
      if (!port) {
        console.error('earshot worker: the first message from main carried no port.');
        exit(2);
        return;
      }
      port.on('close', () => exit(0));
      let started = false;
      resolve({
        send: (message: WorkerMessage) => port.postMessage(message),
        onMessage: (listener) => {
          port.on('message', (e) => listener(e.data as HostMessage));
          if (!started) {
            started = true;
            port.start();
          }
        },
      });
    });
  });
}

export function parseBoot(raw: string | undefined): WorkerBoot | null {
  if (!raw) return null;
  try {
    const boot = JSON.parse(raw) as Partial<WorkerBoot> | null;
    return boot && typeof boot.registryModule === 'string' && typeof boot.workerId === 'string'
      ? (boot as WorkerBoot)
      : null;
  } catch {
    return null;
  }
}
