/**
 * Entry point of a worker utility process (bundled to out/main/worker.js). The same loop as the
 * CLI's worker-main.ts, over Electron's parentPort instead of Node's IPC channel.
 */
import { loadRegistry } from '../../pipeline/engine/workflow.ts';
import { runWorker } from '../../pipeline/engine/worker-runtime.ts';
import { moduleSpecifier, parentPortAdapter, parseBoot } from './worker-port.ts';

const boot = parseBoot(process.env.EARSHOT_WORKER_BOOT);
const parentPort = process.parentPort as typeof process.parentPort | undefined;
if (!boot || !parentPort) {
  console.error('earshot worker: start me through the engine (no boot data or parent port).');
  process.exit(2);
}

try {
  const registry = await loadRegistry(moduleSpecifier(boot.registryModule));
  runWorker(parentPortAdapter(parentPort), registry, boot);
} catch (err) {
  console.error(`earshot worker: could not load the workflows from ${boot.registryModule}:`, err);
  process.exit(1);
}
