import http from 'node:http';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import sirv from 'sirv';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Api, ApiEvent, ApiEvents } from './contract.ts';
import { dispatch, isApiMethod, toWireError, USER_ERRORS, type ApiEventBus } from './dispatch.ts';

export interface ServeOptions {
  api: Api;
  /** Built renderer (out/renderer). Default: none (API only). */
  staticDir?: string;
  /** Default 0: any free port. Always bound to 127.0.0.1. */
  port?: number;
  /** The API's events, forwarded to every page on /events. Default none (use `broadcast`). */
  events?: ApiEventBus;
}

export interface RunningServer {
  url: string;
  /** Send an event to every connected page: `{ event, payload }` on /events. */
  broadcast<E extends ApiEvent>(event: E, payload: ApiEvents[E]): void;
  close(): Promise<void>;
}

const MAX_BODY = 8 * 1024 * 1024;

/**
 * The web transport of the typed API, for a browser on this machine: `POST /api/<name>` with the
 * arguments as a JSON array, events on the WebSocket `/events`, the UI as static files. Bound to
 * 127.0.0.1 only; requests must name this host (no DNS rebinding) and calls must be JSON (so a
 * page on another site cannot post a plain form to it).
 */
export async function serveApi(options: ServeOptions): Promise<RunningServer> {
  let allowedHosts = new Set<string>();
  const statics =
    options.staticDir && fs.existsSync(options.staticDir)
      ? sirv(options.staticDir, { single: true, dev: false })
      : null;

  const send = (res: http.ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body === undefined ? null : body);
    res
      .writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' })
      .end(text);
  };

  const server = http.createServer((req, res) => {
    if (!allowedHosts.has(req.headers.host ?? '')) {
      send(res, 421, { error: 'Earshot answers only on its own address (127.0.0.1).' });
      return;
    }
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname.startsWith('/api/')) {
      const name = decodeURIComponent(url.pathname.slice('/api/'.length));
      if (req.method !== 'POST') return send(res, 405, { error: 'Call the API with POST.' });
      if (!isApiMethod(name)) return send(res, 404, { error: `There is no API method "${name}".` });
      if (!String(req.headers['content-type']).startsWith('application/json')) {
        return send(res, 415, {
          error: 'Send the arguments as a JSON array (content-type application/json).',
        });
      }
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY) req.destroy();
        else chunks.push(c);
      });
      req.on('end', () => {
        let args: unknown;
        try {
          args = JSON.parse(Buffer.concat(chunks).toString('utf8') || '[]');
        } catch {
          return send(res, 400, { error: 'The request body is not JSON.' });
        }
        if (!Array.isArray(args))
          return send(res, 400, { error: 'The request body must be a JSON array of arguments.' });
        dispatch(options.api, name, args).then(
          (value) => send(res, 200, value),
          (err: unknown) => {
            const e = toWireError(err);
            send(res, USER_ERRORS.includes(e.name) ? 400 : 500, { error: e.message, name: e.name });
          },
        );
      });
      return;
    }
    if (statics) {
      statics(req, res, () => {
        res.writeHead(404).end('Not found');
      });
      return;
    }
    res.writeHead(404).end('This Earshot serves the API only; build the UI with `npm run build`.');
  });

  const sockets = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    if (path !== '/events' || !allowedHosts.has(req.headers.host ?? '')) {
      socket.destroy();
      return;
    }
    sockets.handleUpgrade(req, socket, head, (ws) => sockets.emit('connection', ws, req));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  allowedHosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
  const broadcast = <E extends ApiEvent>(event: E, payload: ApiEvents[E]) => {
    const text = JSON.stringify({ event, payload });
    for (const ws of sockets.clients as Set<WebSocket>) if (ws.readyState === ws.OPEN) ws.send(text);
  };
  const stopEvents = options.events?.onAny(broadcast);
  return {
    url: `http://127.0.0.1:${port}`,
    broadcast,
    close: () =>
      new Promise<void>((resolve) => {
        stopEvents?.();
        for (const ws of sockets.clients) ws.terminate();
        sockets.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
