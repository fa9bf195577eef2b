import type { WorkerHandle, WorkerHost } from '../../pipeline/engine/worker-host.ts';
import type { HostMessage, WorkerBoot, WorkerMessage } from '../../pipeline/engine/protocol.ts';
import type { FromService } from '../shared/service-protocol.ts';
import type { PortMainLike } from './ports.ts';

interface Pending {
  handle: BrokeredHandle;
}

class BrokeredHandle implements WorkerHandle {
  pid: number | undefined = undefined;
  private port: PortMainLike | null = null;
  private readonly outbox: HostMessage[] = [];
  private readonly messageListeners: ((m: WorkerMessage) => void)[] = [];
  private readonly exitListeners: ((reason: string) => void)[] = [];
  private exited = false;
  private readonly workerId: string;
  private readonly ask: (m: FromService) => void;

  constructor(workerId: string, ask: (m: FromService) => void) {
    this.workerId = workerId;
    this.ask = ask;
  }

  connected(port: PortMainLike, pid: number): void {
    if (this.exited) {
      port.close();
      return;
    }
    this.port = port;
    this.pid = pid;
    port.on('message', (event) => {
      for (const l of this.messageListeners) l(event.data as WorkerMessage);
    });
    port.start();
    for (const m of this.outbox.splice(0)) port.postMessage(m);
  }

  gone(reason: string): void {
    if (this.exited) return;
    this.exited = true;
    this.port?.close();
    this.port = null;
    for (const l of this.exitListeners) l(reason);
  }

  send(message: HostMessage): void {
    if (this.exited) return;
    if (this.port) this.port.postMessage(message);
    else this.outbox.push(message);
  }

  onMessage(listener: (message: WorkerMessage) => void): void {
    this.messageListeners.push(listener);
  }

  onExit(listener: (reason: string) => void): void {
    this.exitListeners.push(listener);
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (!this.exited) this.ask({ type: 'kill-worker', workerId: this.workerId, signal });
  }
}

/**
 * The engine's workers as seen from the library service: utility processes only Electron's main
 * process can fork. `spawn` asks main to fork one; main answers with a MessagePort straight to
 * the worker (heartbeats, progress and results never pass through main) and tells when it exits.
 */
export class BrokeredWorkerHost implements WorkerHost {
  private readonly pending = new Map<string, Pending>();
  private readonly ask: (m: FromService) => void;

  constructor(ask: (m: FromService) => void) {
    this.ask = ask;
  }

  spawn(boot: WorkerBoot): WorkerHandle {
    // A worker id is reused when a slot restarts its worker: the old one's exit came first.
    const handle = new BrokeredHandle(boot.workerId, this.ask);
    this.pending.set(boot.workerId, { handle });
    this.ask({ type: 'spawn-worker', boot });
    return handle;
  }

  /** Main forked the worker: its port and pid. */
  workerPort(workerId: string, pid: number, port: PortMainLike): void {
    const p = this.pending.get(workerId);
    if (p) p.handle.connected(port, pid);
    else port.close();
  }

  /** Main saw the worker exit (or could not fork it). */
  workerExit(workerId: string, reason: string): void {
    const p = this.pending.get(workerId);
    if (!p) return;
    this.pending.delete(workerId);
    p.handle.gone(reason);
  }
}
