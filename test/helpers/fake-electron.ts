/**
 * Electron's process model, faked with Node for tests and benchmarks: `utilityProcess.fork`
 * starts a real child process (through fake-utility-child.ts, which gives it a
 * `process.parentPort`), and `MessageChannelMain` makes port pairs that can be handed to any
 * process. A port pair is a Unix socket (a named pipe on Windows): the end transferred first
 * listens, the other connects, so two children talk straight to each other and messages between
 * them never pass through this process, as with Electron's own MessagePorts.
 */
import { EventEmitter } from 'node:events';
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';

export interface FakePortSpec {
  fakePort: true;
  path: string;
  side: 'listen' | 'connect';
}

export function isFakePortSpec(v: unknown): v is FakePortSpec {
  return typeof v === 'object' && v !== null && (v as { fakePort?: unknown }).fakePort === true;
}

function socketPath(): string {
  const name = `es-${randomBytes(6).toString('hex')}`;
  return process.platform === 'win32' ? `\\\\.\\pipe\\${name}` : path.join(os.tmpdir(), `${name}.sock`);
}

/** One end of a port pair, with MessagePortMain's surface (message events with `data`, start, close, 'close'). */
export class FakePort extends EventEmitter {
  readonly spec: FakePortSpec;
  private socket: net.Socket | null = null;
  private server: net.Server | null = null;
  private materialized = false;
  private transferred = false;
  private started = false;
  private closed = false;
  private readonly outbox: Buffer[] = [];
  private readonly inbox: unknown[] = [];
  private pending: Buffer = Buffer.alloc(0);

  constructor(spec: FakePortSpec) {
    super();
    this.spec = spec;
  }

  /** Hand this end to another process: it may no longer be used here. */
  transfer(): FakePortSpec {
    if (this.materialized) throw new Error('A port in use here cannot be transferred');
    this.transferred = true;
    return this.spec;
  }

  private materialize(): void {
    if (this.materialized) return;
    if (this.transferred) throw new Error('This port was transferred to another process');
    this.materialized = true;
    if (this.spec.side === 'listen') {
      this.server = net.createServer((socket) => {
        this.server?.close();
        this.server = null;
        this.attach(socket);
      });
      this.server.listen(this.spec.path);
    } else {
      const tryConnect = (attempt: number) => {
        const socket = net.connect(this.spec.path);
        socket.once('connect', () => this.attach(socket));
        socket.once('error', (err: NodeJS.ErrnoException) => {
          if (this.socket === socket) return;
          socket.destroy();
          if (!this.closed && attempt < 1000 && (err.code === 'ENOENT' || err.code === 'ECONNREFUSED'))
            setTimeout(() => tryConnect(attempt + 1), 10);
          else this.onGone();
        });
      };
      tryConnect(0);
    }
  }

  private attach(socket: net.Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => this.read(chunk));
    socket.on('close', () => this.onGone());
    socket.on('error', () => socket.destroy());
    for (const frame of this.outbox.splice(0)) socket.write(frame);
  }

  private read(chunk: Buffer): void {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    while (this.pending.length >= 4) {
      const size = this.pending.readUInt32LE(0);
      if (this.pending.length < 4 + size) break;
      const message = v8.deserialize(this.pending.subarray(4, 4 + size)) as unknown;
      this.pending = this.pending.subarray(4 + size);
      if (this.started) this.deliver(message);
      else this.inbox.push(message);
    }
  }

  private deliver(message: unknown): void {
    this.emit('message', { data: message, ports: [] });
  }

  private onGone(): void {
    if (this.closed) return;
    this.closed = true;
    this.server?.close();
    this.emit('close');
  }

  postMessage(message: unknown): void {
    if (this.closed) return;
    this.materialize();
    const body = v8.serialize(message);
    const frame = Buffer.alloc(4 + body.length);
    frame.writeUInt32LE(body.length, 0);
    body.copy(frame, 4);
    if (this.socket) this.socket.write(frame);
    else this.outbox.push(frame);
  }

  start(): void {
    this.materialize();
    if (this.started) return;
    this.started = true;
    for (const m of this.inbox.splice(0)) this.deliver(m);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket?.end();
    this.server?.close();
    this.server = null;
  }
}

export class FakeMessageChannelMain {
  readonly port1: FakePort;
  readonly port2: FakePort;
  constructor() {
    const p = socketPath();
    this.port1 = new FakePort({ fakePort: true, path: p, side: 'listen' });
    this.port2 = new FakePort({ fakePort: true, path: p, side: 'connect' });
  }
}

/** Replace FakePort objects by their specs (for a message that crosses to another process). */
export function transferPorts(transfer: readonly unknown[] | undefined): FakePortSpec[] {
  return (transfer ?? []).map((p) => {
    if (!(p instanceof FakePort))
      throw new TypeError('Only ports made by FakeMessageChannelMain can be transferred');
    return p.transfer();
  });
}

const childShim = fileURLToPath(new URL('./fake-utility-child.ts', import.meta.url));

/** A child process with UtilityProcess's surface: message/exit/error events, postMessage with ports, kill. */
export class FakeUtilityProcess extends EventEmitter {
  readonly child: ChildProcess;
  private exited = false;
  constructor(child: ChildProcess) {
    super();
    this.child = child;
    child.on('message', (m: { data: unknown }) => this.emit('message', m.data));
    child.on('exit', (code, signal) => {
      this.exited = true;
      this.emit('exit', code ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : 0));
    });
    child.on('error', () => {
      if (!this.exited) this.emit('exit', 1);
    });
  }
  get pid(): number | undefined {
    return this.child.pid;
  }
  postMessage(message: unknown, transfer?: unknown[]): void {
    if (this.exited || !this.child.connected) return;
    this.child.send({ data: message, ports: transferPorts(transfer) });
  }
  kill(): boolean {
    return this.child.kill('SIGTERM');
  }
}

export interface FakeUtilityOptions {
  /** Collect the children's stderr here instead of inheriting it. */
  stderr?: (text: string) => void;
  /** Every child forked so far. */
  forked?: FakeUtilityProcess[];
}

/** `utilityProcess` as Electron offers it, forking `modulePath` (a .ts file runs under Node's type stripping). */
export function fakeUtilityProcess(options: FakeUtilityOptions = {}) {
  return {
    fork(
      modulePath: string,
      _args: string[],
      forkOptions: { serviceName?: string; env?: NodeJS.ProcessEnv; stdio?: string } = {},
    ): FakeUtilityProcess {
      const child = fork(childShim, [], {
        env: { ...(forkOptions.env ?? process.env), FAKE_UTILITY_ENTRY: modulePath },
        execArgv: ['--disable-warning=ExperimentalWarning'],
        serialization: 'advanced',
        stdio: ['ignore', 'inherit', options.stderr ? 'pipe' : 'inherit', 'ipc'],
      });
      child.stderr?.on('data', (d: Buffer) => options.stderr?.(d.toString()));
      const proc = new FakeUtilityProcess(child);
      options.forked?.push(proc);
      return proc;
    },
  };
}

/** Remove a socket file left by a port that never connected (tests clean up after themselves). */
export function removeSocket(spec: FakePortSpec): void {
  if (process.platform !== 'win32') fs.rmSync(spec.path, { force: true });
}
