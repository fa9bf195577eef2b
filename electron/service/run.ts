import { startService, type Service } from '../../pipeline/api/service.ts';
import type { FromService, ServiceBoot, ToService } from '../shared/service-protocol.ts';
import { rpcPortOf, type PortMainLike } from './ports.ts';
import { BrokeredWorkerHost } from './worker-host.ts';

/** What the service sees of its parent: Electron's `process.parentPort` (or the tests' fake). */
export interface ParentLike {
  postMessage(message: FromService): void;
  on(event: 'message', listener: (event: { data: unknown; ports: PortMainLike[] }) => void): unknown;
}

export function parseServiceBoot(raw: string | undefined): ServiceBoot | null {
  if (!raw) return null;
  try {
    const boot = JSON.parse(raw) as Partial<ServiceBoot> | null;
    return boot && typeof boot.dataDir === 'string' && typeof boot.registryModule === 'string'
      ? { holds: [], ...boot, dataDir: boot.dataDir, registryModule: boot.registryModule }
      : null;
  } catch {
    return null;
  }
}

/**
 * The library service inside its utility process: the library API and the engine over the one
 * library it writes, clients (windows, main) on ports main brokers, workers forked by main on
 * request. Resolves once it has stopped (main asked it to, with a grace period for running steps).
 */
export async function runServiceProcess(
  parent: ParentLike,
  boot: ServiceBoot,
  onError: (err: Error) => void = (err) => console.error(`Earshot library service: ${err.message}`),
): Promise<void> {
  const ask = (m: FromService) => parent.postMessage(m);
  const workers = new BrokeredWorkerHost(ask);
  // Messages that come before the service is up (a window's port, the power source) wait for it.
  let service: Service | null = null;
  const early: { data: ToService; ports: PortMainLike[] }[] = [];
  let stopped!: () => void;
  const done = new Promise<void>((resolve) => (stopped = resolve));
  const handle = (m: ToService, ports: PortMainLike[]) => {
    if (m.type === 'worker-port') return workers.workerPort(m.workerId, m.pid, ports[0]!);
    if (m.type === 'worker-exit') return workers.workerExit(m.workerId, m.reason);
    if (!service) {
      early.push({ data: m, ports });
      return;
    }
    const s = service;
    switch (m.type) {
      case 'connect':
        if (ports[0]) s.connect(rpcPortOf(ports[0]));
        return;
      case 'hold':
        try {
          s.setHold(m.lane, m.reason, m.on);
        } catch (err) {
          onError(err as Error);
        }
        return;
      case 'shutdown':
        void s.shutdown(m.graceMs).finally(() => {
          ask({ type: 'stopped' });
          stopped();
        });
        return;
    }
  };
  parent.on('message', (event) => {
    const m = event.data as ToService | null;
    if (m && typeof m === 'object' && typeof m.type === 'string') handle(m, event.ports ?? []);
  });
  try {
    service = await startService({
      dataDir: boot.dataDir,
      registryModule: boot.registryModule,
      workerHost: workers,
      holds: boot.holds,
      ...(boot.lanes ? { lanes: boot.lanes } : {}),
      ...(boot.engine === false ? { engine: false } : {}),
      onError,
    });
  } catch (err) {
    ask({ type: 'failed', message: (err as Error).message });
    throw err;
  }
  for (const e of early.splice(0)) handle(e.data, e.ports);
  ask({ type: 'ready' });
  return done;
}
