import {
  API_EVENTS,
  API_METHODS,
  type Api,
  type ApiEvent,
  type ApiEvents,
  type ApiMethod,
  type ApiResult,
} from './contract.ts';
import { ApiInputError, parseArgs, parseEvent } from './schemas.ts';

/**
 * The one way into the typed API: every shell (IPC, HTTP/WebSocket, the service's MessagePort,
 * the CLI through `validated`) calls `dispatch`, which validates the arguments against the
 * method's schema once and calls the implementation with typed parameters. The implementation
 * (app.ts) never re-checks its arguments.
 */
const METHODS = new Set<string>(API_METHODS);
const EVENTS = new Set<string>(API_EVENTS);

export function isApiMethod(name: unknown): name is ApiMethod {
  return typeof name === 'string' && METHODS.has(name);
}

export function isApiEvent(name: unknown): name is ApiEvent {
  return typeof name === 'string' && EVENTS.has(name);
}

/** Call `method` on `api` with arguments from outside (a window, a browser, the command line). */
export async function dispatch<K extends ApiMethod>(
  api: Api,
  method: K,
  args: readonly unknown[],
): Promise<ApiResult<K>> {
  if (!isApiMethod(method)) throw new ApiInputError(`There is no API method "${String(method)}".`);
  const parsed = parseArgs(method, args);
  const fn = api[method] as (...a: Parameters<Api[K]>) => Promise<ApiResult<K>>;
  return fn.apply(api, parsed);
}

/**
 * The implementation behind a validating front: each API method goes through `dispatch`; every
 * other member (the App's context, its events) passes through untouched. What the CLI and tests
 * hold, so a bad argument from a command line meets the same schema as one from a window.
 */
export function validated<T extends Api>(impl: T): T {
  const wrapped = new Map<string, (...args: unknown[]) => Promise<unknown>>();
  return new Proxy(impl, {
    get(target, prop, receiver) {
      if (typeof prop === 'string' && METHODS.has(prop)) {
        let fn = wrapped.get(prop);
        if (!fn) {
          fn = (...args: unknown[]) => dispatch(target, prop as ApiMethod, args);
          wrapped.set(prop, fn);
        }
        return fn;
      }
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
}

/** Errors the user caused or can act on (a bad input, an unreachable feed, a full disk): HTTP 400. */
export const USER_ERRORS: readonly string[] = ['ApiInputError', 'IngestError', 'StoreError', 'ModelError'];

/** An error as it crosses a process or network boundary: its name and its message, nothing else. */
export interface WireError {
  name: string;
  message: string;
}

export function toWireError(err: unknown): WireError {
  const e = err instanceof Error ? err : new Error(String(err));
  return { name: e.name, message: e.message };
}

/** The error a caller rethrows from a WireError: same name, same message. */
export function fromWireError(wire: WireError): Error {
  const error = new Error(wire.message);
  error.name = wire.name;
  return error;
}

type Listener<E extends ApiEvent> = (payload: ApiEvents[E]) => void;

/**
 * The API's events, typed by `ApiEvents`: `emit` validates the payload against its schema before
 * any listener sees it (one that does not fit is dropped and reported through `onError`, never
 * thrown into the emitter: the engine emits from inside its own loop). A listener that throws
 * is reported the same way and does not stop the others.
 */
export class ApiEventBus {
  private readonly listeners = new Map<ApiEvent, Set<Listener<ApiEvent>>>();
  private readonly onError: (err: Error) => void;

  constructor(onError: (err: Error) => void = (err) => console.error(`Earshot: ${err.message}`)) {
    this.onError = onError;
  }

  on<E extends ApiEvent>(event: E, listener: Listener<E>): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener as Listener<ApiEvent>);
    return () => this.off(event, listener);
  }

  off<E extends ApiEvent>(event: E, listener: Listener<E>): void {
    this.listeners.get(event)?.delete(listener as Listener<ApiEvent>);
  }

  /** Every event, by name: what a transport forwards. Returns a function that stops it. */
  onAny(listener: <E extends ApiEvent>(event: E, payload: ApiEvents[E]) => void): () => void {
    const offs = API_EVENTS.map((event) => this.on(event, (payload) => listener(event, payload)));
    return () => {
      for (const off of offs) off();
    };
  }

  listenerCount(event: ApiEvent): number {
    return this.listeners.get(event)?.size ?? 0;
  }

  emit<E extends ApiEvent>(event: E, payload: ApiEvents[E]): void {
    const set = this.listeners.get(event);
    if (!set || set.size === 0) return;
    let checked: ApiEvents[E];
    try {
      checked = parseEvent(event, payload);
    } catch (err) {
      this.onError(err as Error);
      return;
    }
    for (const listener of [...set]) {
      try {
        (listener as Listener<E>)(checked);
      } catch (err) {
        this.onError(err instanceof Error ? err : new Error(String(err)));
      }
    }
  }
}
