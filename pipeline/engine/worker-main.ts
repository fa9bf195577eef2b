/**
 * Entry point of a worker process: imports the workflow registry, then runs one step at a time
 * as the engine asks, heartbeating while it runs. It never writes the database: the engine
 * commits outputs, checking the fence, so a worker that lost its lease can never commit.
 */
import { loadRegistry } from './workflow.ts';
import { runWorker, type WorkerPort } from './worker-runtime.ts';
import type { WorkerBoot } from './protocol.ts';

const boot = JSON.parse(process.env.EARSHOT_WORKER_BOOT ?? 'null') as WorkerBoot | null;
if (!boot || !process.send) {
  console.error('earshot worker: start me through the engine (no boot data or IPC channel).');
  process.exit(2);
}

const port: WorkerPort = {
  send: (m) => {
    if (process.connected) process.send!(m);
  },
  onMessage: (l) => process.on('message', (m) => l(m as Parameters<typeof l>[0])),
};

// The engine holds our leases; if it is gone nobody can commit our work, so stop at once.
process.on('disconnect', () => process.exit(0));

const registry = await loadRegistry(boot.registryModule);
runWorker(port, registry, boot);
