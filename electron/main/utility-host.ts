import { utilityProcess, type UtilityProcess } from 'electron';
import { describeExit, type WorkerHandle, type WorkerHost } from '../../pipeline/engine/worker-host.ts';
import type { HostMessage, WorkerBoot, WorkerMessage } from '../../pipeline/engine/protocol.ts';

export interface UtilityWorkerHostOptions {
  /** The bundled worker entry: `out/main/worker.js` next to the main bundle. */
  entry: string;
  /** Process name in Activity Monitor / Task Manager; the worker id is appended. Default "Earshot worker". */
  serviceName?: string;
  /** Extra environment for the workers, on top of the main process's own. Default none. */
  env?: NodeJS.ProcessEnv;
}

/**
 * Workers as Electron utility processes: Node processes that Electron starts, names and reaps
 * itself, so the packaged app needs no separate Node binary and no ELECTRON_RUN_AS_NODE.
 */
export class UtilityWorkerHost implements WorkerHost {
  private readonly options: UtilityWorkerHostOptions;
  constructor(options: UtilityWorkerHostOptions) {
    this.options = options;
  }

  spawn(boot: WorkerBoot): WorkerHandle {
    const child = utilityProcess.fork(this.options.entry, [], {
      serviceName: `${this.options.serviceName ?? 'Earshot worker'} ${boot.workerId}`,
      env: { ...process.env, ...this.options.env, EARSHOT_WORKER_BOOT: JSON.stringify(boot) },
      stdio: 'inherit',
    });
    return utilityWorkerHandle(child);
  }
}

function utilityWorkerHandle(child: UtilityProcess): WorkerHandle {
  let exited = false;
  let fatal: string | null = null;
  const exitListeners: ((reason: string) => void)[] = [];
  // Electron reports a V8 fatal error first, then the exit; the exit carries both.
  child.on('error', (type, location) => {
    fatal = `${type} at ${location}`;
  });
  child.once('exit', (code) => {
    exited = true;
    const reason = describeExit(code, null);
    for (const listener of exitListeners) listener(fatal ? `${reason} after a ${fatal}` : reason);
  });
  return {
    get pid() {
      return child.pid;
    },
    send(message: HostMessage) {
      if (!exited) child.postMessage(message);
    },
    onMessage(listener: (message: WorkerMessage) => void) {
      child.on('message', (message) => listener(message as WorkerMessage));
    },
    onExit(listener: (reason: string) => void) {
      exitListeners.push(listener);
    },
    kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (exited) return;
      const pid = child.pid;
      // utilityProcess.kill() only asks (SIGTERM); a hung worker needs the signal the engine chose.
      if (signal === 'SIGTERM' || pid === undefined) {
        child.kill();
        return;
      }
      try {
        process.kill(pid, signal);
      } catch {
        child.kill();
      }
    },
  };
}
