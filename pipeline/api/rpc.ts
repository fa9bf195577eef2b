/**
 * The typed API over a message port: what a window (through its preload) and Electron's main
 * process speak to the library service, over a MessagePort that main brokers. Pure: no Node, no
 * Electron, no DOM, so the preload bundle, the service and tests share it. Calls go through the
 * service's dispatcher (validated there, once); events are sent only for the names a client
 * listens to.
 */
import type { Api, ApiEvent, ApiEvents, ApiMethod, ApiResult } from './contract.ts';

/** Anything that carries structured-clone messages both ways: a MessagePort (DOM or Electron's MessagePortMain), a parentPort. */
export interface RpcPort {
  postMessage(message: unknown): void;
  /** Returns a function that stops listening. */
  onMessage(listener: (message: unknown) => void): () => void;
  /** Called once when the other side has gone (port closed, process exited). Optional. */
  onClose?(listener: () => void): void;
  close?(): void;
}

export type RpcRequest =
  | { rpc: 'call'; id: number; method: string; args: unknown[] }
  | { rpc: 'listen'; event: string; on: boolean };

export type RpcReply =
  | { rpc: 'result'; id: number; ok: true; value: unknown }
  | { rpc: 'result'; id: number; ok: false; error: { name: string; message: string } }
  | { rpc: 'event'; event: string; payload: unknown };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

export interface RpcServerOptions {
  /** Answers a call: the service's `dispatch(api, method, args)`. */
  call(method: string, args: unknown[]): Promise<unknown>;
  /** Starts forwarding one event; returns a function that stops it. */
  subscribe(event: string, send: (payload: unknown) => void): (() => void) | null;
  toWire(err: unknown): { name: string; message: string };
}

/** The service's side of one port. Returns a function that stops serving it (and its event forwarding). */
export function serveRpc(port: RpcPort, options: RpcServerOptions): () => void {
  const listening = new Map<string, () => void>();
  const stopAll = () => {
    for (const stop of listening.values()) stop();
    listening.clear();
  };
  const post = (reply: RpcReply) => {
    try {
      port.postMessage(reply);
    } catch {
      // The other side went away mid-answer: nothing is left to tell.
    }
  };
  const off = port.onMessage((raw) => {
    if (!isRecord(raw)) return;
    const m = raw as RpcRequest;
    if (m.rpc === 'call' && typeof m.id === 'number' && typeof m.method === 'string') {
      const args = Array.isArray(m.args) ? m.args : [];
      options.call(m.method, args).then(
        (value) => post({ rpc: 'result', id: m.id, ok: true, value }),
        (err: unknown) => post({ rpc: 'result', id: m.id, ok: false, error: options.toWire(err) }),
      );
    } else if (m.rpc === 'listen' && typeof m.event === 'string') {
      const had = listening.get(m.event);
      if (m.on && !had) {
        const stop = options.subscribe(m.event, (payload) => post({ rpc: 'event', event: m.event, payload }));
        if (stop) listening.set(m.event, stop);
      } else if (!m.on && had) {
        had();
        listening.delete(m.event);
      }
    }
  });
  port.onClose?.(stopAll);
  return () => {
    off();
    stopAll();
  };
}

/** Why a call could not be answered: the service went away before it did. */
export class ServiceGoneError extends Error {
  constructor(method: string) {
    super(
      `Earshot's library service stopped while answering "${method}". It restarts on its own; try again in a moment.`,
    );
    this.name = 'ServiceGoneError';
  }
}

export interface RpcClient {
  invoke<K extends ApiMethod>(method: K, ...args: Parameters<Api[K]>): Promise<ApiResult<K>>;
  /** Untyped form, for bridges that pass names through (the preload). */
  call(method: string, args: unknown[]): Promise<unknown>;
  on<E extends ApiEvent>(event: E, listener: (payload: ApiEvents[E]) => void): () => void;
  /** Untyped form of `on`. */
  listen(event: string, listener: (payload: unknown) => void): () => void;
  /**
   * Use a new port (the service restarted, or the first port arrived): calls waiting for one are
   * sent, calls in flight on the old one fail with ServiceGoneError, listeners carry over.
   */
  attach(port: RpcPort): void;
  /** Fail calls in flight on the current port (it closed); later calls wait for `attach`. */
  detach(): void;
}

/**
 * A client of the service over a port. Created without one, it queues calls until `attach`
 * hands it a port (a window waits for main to broker it).
 */
export function rpcClient(
  port: RpcPort | null = null,
  fromWire: (error: { name: string; message: string }) => Error = (e) =>
    Object.assign(new Error(e.message), { name: e.name }),
): RpcClient {
  let current: RpcPort | null = null;
  let stopListening: (() => void) | null = null;
  let nextId = 1;
  const inFlight = new Map<number, { method: string; resolve(v: unknown): void; reject(e: Error): void }>();
  const waiting: { method: string; args: unknown[]; resolve(v: unknown): void; reject(e: Error): void }[] =
    [];
  const listeners = new Map<string, Set<(payload: unknown) => void>>();

  const send = (p: RpcPort, request: RpcRequest) => p.postMessage(request);

  const dispatchCall = (
    p: RpcPort,
    method: string,
    args: unknown[],
    resolve: (v: unknown) => void,
    reject: (e: Error) => void,
  ) => {
    const id = nextId++;
    inFlight.set(id, { method, resolve, reject });
    try {
      // JSON-like structured clone has undefined, but a trailing omitted argument is no argument.
      const sent = [...args];
      while (sent.length > 0 && sent[sent.length - 1] === undefined) sent.pop();
      send(p, { rpc: 'call', id, method, args: sent });
    } catch (err) {
      inFlight.delete(id);
      reject(err instanceof Error ? err : new Error(String(err)));
    }
  };

  const failInFlight = () => {
    for (const [id, call] of inFlight) {
      inFlight.delete(id);
      call.reject(new ServiceGoneError(call.method));
    }
  };

  const detach = () => {
    stopListening?.();
    stopListening = null;
    current = null;
    failInFlight();
  };

  const attach = (p: RpcPort) => {
    if (current) detach();
    current = p;
    stopListening = p.onMessage((raw) => {
      if (!isRecord(raw)) return;
      const m = raw as RpcReply;
      if (m.rpc === 'result') {
        const call = inFlight.get(m.id);
        if (!call) return;
        inFlight.delete(m.id);
        if (m.ok) call.resolve(m.value);
        else call.reject(fromWire(m.error));
      } else if (m.rpc === 'event') {
        for (const l of [...(listeners.get(m.event) ?? [])]) l(m.payload);
      }
    });
    p.onClose?.(() => {
      if (current === p) detach();
    });
    for (const event of listeners.keys()) send(p, { rpc: 'listen', event, on: true });
    for (const w of waiting.splice(0)) dispatchCall(p, w.method, w.args, w.resolve, w.reject);
  };

  const call = (method: string, args: unknown[]) =>
    new Promise<unknown>((resolve, reject) => {
      if (current) dispatchCall(current, method, args, resolve, reject);
      else waiting.push({ method, args, resolve, reject });
    });

  const listen = (event: string, listener: (payload: unknown) => void) => {
    let set = listeners.get(event);
    if (!set) {
      listeners.set(event, (set = new Set()));
      if (current) send(current, { rpc: 'listen', event, on: true });
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && listeners.get(event) === set) {
        listeners.delete(event);
        if (current) send(current, { rpc: 'listen', event, on: false });
      }
    };
  };

  if (port) attach(port);
  return {
    invoke: (method, ...args) => call(method, args) as Promise<ApiResult<typeof method>>,
    call,
    on: (event, listener) => listen(event, listener as (payload: unknown) => void),
    listen,
    attach,
    detach,
  };
}
