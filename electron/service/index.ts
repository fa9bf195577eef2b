/**
 * Entry point of the library service utility process (bundled to out/main/service.js): the
 * library API, search, feed refresh, imports, model management and the engine, off the main
 * process. Main forks it, brokers MessagePorts to it (windows, workers) and restarts it if it
 * dies; it owns the library as its only writer.
 */
import { SERVICE_BOOT_ENV } from '../shared/service-protocol.ts';
import { parseServiceBoot, runServiceProcess, type ParentLike } from './run.ts';

const boot = parseServiceBoot(process.env[SERVICE_BOOT_ENV]);
const parentPort = process.parentPort as unknown as ParentLike | undefined;
if (!boot || !parentPort) {
  console.error('earshot service: start me through the desktop app (no boot data or parent port).');
  process.exit(2);
}

try {
  await runServiceProcess(parentPort, boot);
  process.exit(0);
} catch (err) {
  console.error('earshot service: could not start:', err);
  process.exit(1);
}
