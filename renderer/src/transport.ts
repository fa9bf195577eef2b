/**
 * How the UI reaches the typed API: through the preload bridge inside Electron, or over HTTP and
 * a WebSocket from the page `earshot serve` hands to a browser. Views never know which.
 */
import type { Api, ApiEvent, ApiEvents, ApiMethod, ApiResult } from '../../pipeline/api/contract.ts';

export type { ApiResult };

export interface Transport {
  readonly kind: 'ipc' | 'http';
  invoke<K extends ApiMethod>(name: K, ...args: Parameters<Api[K]>): Promise<ApiResult<K>>;
  /** An event of the contract (`ApiEvents`), with its typed payload. Returns a function that removes the listener. */
  on<E extends ApiEvent>(event: E, listener: (payload: ApiEvents[E]) => void): () => void;
  /**
   * Where the page loads an API path for audio or a picture ('/media/12', '/artwork/feed/3'):
   * the `earshot://` protocol in Electron, `earshot serve`'s own origin in a browser.
   */
  assetUrl(path: string): string;
}

/** What Electron's preload puts on `window.earshot` (electron/shared/bridge.ts). */
export interface EarshotBridge {
  invoke(name: string, ...args: unknown[]): Promise<unknown>;
  on(event: string, listener: (payload: unknown) => void): () => void;
  /** Import files dropped on the window: the preload finds where they are on disk. */
  importDropped?(files: File[]): Promise<unknown>;
  /** "Add files…": the system's file dialog (through main), then the import; null when cancelled. */
  chooseAndImport?(): Promise<unknown>;
}

export function ipcTransport(bridge: EarshotBridge): Transport {
  return {
    kind: 'ipc',
    invoke: (name, ...args) => bridge.invoke(name, ...args) as Promise<ApiResult<typeof name>>,
    on: (event, listener) => bridge.on(event, listener as (payload: unknown) => void),
    assetUrl: (path) => `earshot://app${path}`,
  };
}

export interface HttpTransportOptions {
  /** Origin of `earshot serve`. Default: the page's own. */
  origin: string;
  fetch?: typeof globalThis.fetch;
  WebSocket?: typeof globalThis.WebSocket;
  /** Longest wait before reconnecting the event socket, in ms. Default 30000. */
  maxReconnectMs?: number;
}

/** `POST /api/<name>` with the arguments as a JSON array; events from the WebSocket `/events`. */
export function httpTransport(options: HttpTransportOptions): Transport {
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const Socket = options.WebSocket ?? globalThis.WebSocket;
  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  let socket: WebSocket | null = null;
  let retryMs = 1000;
  let retryTimer: ReturnType<typeof setTimeout> | null = null;

  const connect = () => {
    retryTimer = null;
    const url = new URL('/events', options.origin);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new Socket(url.href);
    socket = ws;
    ws.onopen = () => {
      retryMs = 1000;
    };
    ws.onmessage = (message) => {
      let parsed: { event?: unknown; payload?: unknown };
      try {
        parsed = JSON.parse(String(message.data)) as typeof parsed;
      } catch {
        return;
      }
      if (typeof parsed.event !== 'string') return;
      for (const listener of listeners.get(parsed.event) ?? []) listener(parsed.payload);
    };
    ws.onclose = () => {
      if (socket !== ws || listeners.size === 0) return;
      socket = null;
      retryTimer = setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, options.maxReconnectMs ?? 30_000);
    };
  };

  const disconnect = () => {
    if (retryTimer) clearTimeout(retryTimer);
    retryTimer = null;
    const ws = socket;
    socket = null;
    ws?.close();
  };

  async function invoke<K extends ApiMethod>(name: K, ...args: Parameters<Api[K]>): Promise<ApiResult<K>> {
    // JSON has no undefined: trailing omitted arguments are dropped rather than sent as null.
    const sent: unknown[] = [...args];
    while (sent.length > 0 && sent[sent.length - 1] === undefined) sent.pop();
    const response = await doFetch(new URL(`/api/${encodeURIComponent(name)}`, options.origin), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(sent),
    });
    if (!response.ok) throw new Error(await errorMessage(response));
    return (await response.json()) as ApiResult<K>;
  }

  return {
    kind: 'http',
    invoke,
    assetUrl: (path) => new URL(path, options.origin).href,
    on(event, listener) {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      const l = listener as (payload: unknown) => void;
      set.add(l);
      if (!socket && !retryTimer) connect();
      return () => {
        set.delete(l);
        if (set.size === 0) listeners.delete(event);
        if (listeners.size === 0) disconnect();
      };
    },
  };
}

async function errorMessage(response: Response): Promise<string> {
  const text = await response.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { error?: unknown; message?: unknown };
    const message = body.error ?? body.message;
    if (typeof message === 'string' && message) return message;
  } catch {
    // Not JSON: the text itself is the best message there is.
  }
  return text.trim() || `Earshot's server answered ${response.status} ${response.statusText}`.trim();
}

/** The transport for this page: the preload bridge when there is one, else HTTP to our origin. */
export function selectTransport(win: { earshot?: EarshotBridge; location: { origin: string } }): Transport {
  return win.earshot ? ipcTransport(win.earshot) : httpTransport({ origin: win.location.origin });
}
