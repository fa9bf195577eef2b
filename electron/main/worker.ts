/**
 * Entry point of a worker utility process (bundled to out/main/worker.js). The same loop as the
 * CLI's worker-main.ts. Main forks it and hands it, as its first message, a MessagePort to the
 * library service whose engine runs its steps: everything after that goes over the port.
 */
import { loadRegistry } from '../../pipeline/engine/workflow.ts';
import { runWorker } from '../../pipeline/engine/worker-runtime.ts';
import { parseBoot, servicePortAdapter, type ParentPortLike } from './worker-port.ts';

const boot = parseBoot(process.env.EARSHOT_WORKER_BOOT);
const parentPort = process.parentPort as unknown as ParentPortLike | undefined;
if (!boot || !parentPort) {
  console.error('earshot worker: start me through the engine (no boot data or parent port).');
  process.exit(2);
}

try {
  // loadRegistry imports the path through a file URL (a bare C:\... fails on Windows).
  const registry = await loadRegistry(boot.registryModule);
  const port = await servicePortAdapter(parentPort);
  runWorker(port, registry, boot);
} catch (err) {
  console.error(`earshot worker: could not start (${boot.registryModule}):`, err);
  process.exit(1);
}
