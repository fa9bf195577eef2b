import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ParentPort } from 'electron';
import type { WorkerPort } from '../../pipeline/engine/worker-runtime.ts';
import type { HostMessage, WorkerBoot } from '../../pipeline/engine/protocol.ts';

/** The engine's worker port over a utility process's `process.parentPort`. */
export function parentPortAdapter(parentPort: ParentPort): WorkerPort {
  return {
    send: (message) => parentPort.postMessage(message),
    onMessage: (listener) => parentPort.on('message', (event) => listener(event.data as HostMessage)),
  };
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

/** `import()` wants a URL for an absolute path: a bare `C:\...` fails on Windows. */
export function moduleSpecifier(modulePath: string): string {
  return path.isAbsolute(modulePath) ? pathToFileURL(modulePath).href : modulePath;
}
