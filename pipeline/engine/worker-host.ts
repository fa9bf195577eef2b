import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { HostMessage, WorkerBoot, WorkerMessage } from './protocol.ts';
import { deviceEnv } from './devices.ts';

/**
 * A worker process as the engine sees it. Implemented with Node's child_process.fork here and
 * with Electron's utilityProcess.fork in the desktop shell; the engine knows only this.
 */
export interface WorkerHandle {
  readonly pid: number | undefined;
  send(message: HostMessage): void;
  onMessage(listener: (message: WorkerMessage) => void): void;
  /** Called once when the process has gone, with a plain description of why. */
  onExit(listener: (reason: string) => void): void;
  kill(signal?: NodeJS.Signals): void;
}

export interface WorkerHost {
  spawn(boot: WorkerBoot): WorkerHandle;
}

export function describeExit(code: number | null, signal: NodeJS.Signals | string | null): string {
  if (signal) return `the worker process was killed by ${signal}`;
  if (code === 0) return 'the worker process exited';
  return `the worker process exited with code ${code}`;
}

export const workerEntry = fileURLToPath(new URL('./worker-main.ts', import.meta.url));

/** Workers as Node child processes. `execArgv` defaults to the parent's (so loaders carry over). */
export class NodeWorkerHost implements WorkerHost {
  private readonly options: { entry?: string; execArgv?: string[]; env?: NodeJS.ProcessEnv };
  constructor(options: { entry?: string; execArgv?: string[]; env?: NodeJS.ProcessEnv } = {}) {
    this.options = options;
  }

  spawn(boot: WorkerBoot): WorkerHandle {
    const child: ChildProcess = fork(this.options.entry ?? workerEntry, [], {
      env: {
        ...process.env,
        ...this.options.env,
        ...deviceEnv(boot.device),
        EARSHOT_WORKER_BOOT: JSON.stringify(boot),
      },
      execArgv: this.options.execArgv ?? ['--disable-warning=ExperimentalWarning'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'json',
    });
    let exited = false;
    const exitListeners: ((reason: string) => void)[] = [];
    const fire = (reason: string) => {
      if (exited) return;
      exited = true;
      for (const l of exitListeners) l(reason);
    };
    child.on('exit', (code, signal) => fire(describeExit(code, signal)));
    child.on('error', (err) => fire(`the worker process could not run: ${err.message}`));
    return {
      get pid() {
        return child.pid;
      },
      send(message) {
        if (child.connected) child.send(message);
      },
      onMessage(listener) {
        child.on('message', (m) => listener(m as WorkerMessage));
      },
      onExit(listener) {
        exitListeners.push(listener);
      },
      kill(signal = 'SIGKILL') {
        child.kill(signal);
      },
    };
  }
}
