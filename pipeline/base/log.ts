import fs from 'node:fs';
import path from 'node:path';
import { pino, type Logger } from 'pino';

export type { Logger };

/** The library's log file: JSON lines, one per event, `<data dir>/logs/earshot.log`. */
export function logFile(dataDir: string): string {
  return path.join(dataDir, 'logs', 'earshot.log');
}

/**
 * A structured logger (pino) writing JSON lines to the library's log file, each with the
 * process's pid and `component` (engine, worker, service). The engine gives every job its own
 * child logger bound to the job and workflow ids, so every line about a job names it; a step
 * gets the same through `ctx.log`. Several processes append to one file (each line is one
 * write). `EARSHOT_LOG_LEVEL` (default info; `silent` writes nothing) sets the level.
 */
export function createLog(dataDir: string, component: string, env: NodeJS.ProcessEnv = process.env): Logger {
  const level = env.EARSHOT_LOG_LEVEL ?? 'info';
  if (level === 'silent') return pino({ level: 'silent' });
  const file = logFile(dataDir);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const destination = pino.destination({
    // Opened here, synchronously: a process that exits at once (a worker told to stop) can still
    // flush; a destination still opening its file throws "sonic boom is not ready yet" on exit.
    dest: fs.openSync(file, 'a'),
    // Buffered: a busy engine logs two lines per job and must not wait on the disk for each.
    // The engine flushes it when it stops.
    sync: false,
    minLength: 4096,
  });
  return pino(
    { level, base: { pid: process.pid, component }, timestamp: pino.stdTimeFunctions.isoTime },
    destination,
  );
}

/** A logger that writes nothing (tests that build a step context by hand). */
export const silentLog: Logger = pino({ level: 'silent' });
