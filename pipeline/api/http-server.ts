import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import filenamify from 'filenamify';
import type { AddressInfo } from 'node:net';
import { Readable, type Duplex } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import sirv from 'sirv';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Api, ApiEvent, ApiEvents } from './contract.ts';
import { dispatch, isApiMethod, toWireError, USER_ERRORS, type ApiEventBus } from './dispatch.ts';
import { AssetSources, respondAsset } from '../listen/assets.ts';
import { AUDIO_EXTENSIONS } from '../ingest/local-import.ts';

export interface ServeOptions {
  api: Api;
  /** Built renderer (out/renderer). Default: none (API only). */
  staticDir?: string;
  /** Default 0: any free port. Always bound to 127.0.0.1. */
  port?: number;
  /** The credential every request must carry. Default: 256 random bits, new at each start. */
  token?: string;
  /** The API's events, forwarded to every page on /events. Default none (use `broadcast`). */
  events?: ApiEventBus;
  /**
   * The player's audio (`/media/ID`) and artwork (`/artwork/...`), answered on this origin after
   * the same checks as the API (see pipeline/listen/assets.ts). Default: where the API's
   * `assetSource` says the bytes are.
   */
  assets?: { respond(request: Request): Promise<Response> };
  /**
   * Files a browser drops on the page: `POST /upload` (behind the same gate) streams the body
   * into a folder of its own under `dir`, then imports it through the API's `importFiles`.
   * Default: none (the route answers 404).
   */
  uploads?: {
    /** The library's uploads folder (pipeline/store/paths.ts `uploadsDir`). */
    dir: string;
    /** The largest file, in bytes; a larger one is answered 413 and nothing is kept. Default 4 GiB. */
    maxBytes?: number;
  };
}

/** The default cap of one upload (`EARSHOT_UPLOAD_MAX_MB` in `earshot serve`). */
export const MAX_UPLOAD = 4 * 1024 ** 3;

export interface RunningServer {
  /** The origin, `http://127.0.0.1:PORT` (no credential in it). */
  url: string;
  /** What a person opens: `http://127.0.0.1:PORT/?token=…`; the page trades it for a cookie. */
  openUrl: string;
  token: string;
  /** Send an event to every connected page: `{ event, payload }` on /events. */
  broadcast<E extends ApiEvent>(event: E, payload: ApiEvents[E]): void;
  close(): Promise<void>;
}

/** The largest API request body, in bytes; a larger one is answered 413. */
export const MAX_BODY = 8 * 1024 * 1024;

/** Security headers on every response (the CSP also lives here: a `<meta>` cannot carry frame-ancestors). */
export function securityHeaders(port: number): Record<string, string> {
  const csp = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "media-src 'self' blob:",
    `connect-src 'self' ws://127.0.0.1:${port} ws://localhost:${port}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  return {
    'content-security-policy': csp,
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'permissions-policy': 'camera=(), microphone=(), geolocation=(), usb=(), serial=(), hid=()',
  };
}

/** Constant-time comparison of two secrets of any length (their digests are compared). */
export function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b) && given.length === expected.length;
}

function cookieValue(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

/** A request target that parses, or null (a malformed one is answered 400). */
function parseTarget(raw: string | undefined): URL | null {
  // Only origin-form targets ("/path?query"): absolute or authority forms are not for us.
  if (!raw || !raw.startsWith('/') || raw.startsWith('//')) return null;
  try {
    const url = new URL(raw, 'http://127.0.0.1');
    decodeURIComponent(url.pathname);
    return url;
  } catch {
    return null;
  }
}

/**
 * The web transport of the typed API, for a browser on this machine: `POST /api/<name>` with the
 * arguments as a JSON array, events on the WebSocket `/events`, the UI as static files. Bound to
 * 127.0.0.1 only. Every request goes through one gate: it must name this host (no DNS
 * rebinding) and carry the token (`?token=`, `Authorization: Bearer`, or the HttpOnly cookie the
 * page gets for it), compared in constant time; calls must be JSON (no cross-site form posts);
 * the WebSocket also checks Origin. Security headers go on every response, errors included.
 */
export async function serveApi(options: ServeOptions): Promise<RunningServer> {
  const token = options.token ?? randomBytes(32).toString('base64url');
  let port = 0;
  let allowedHosts = new Set<string>();
  let allowedOrigins = new Set<string>();
  let headers: Record<string, string> = {};
  let cookieName = 'earshot_token';
  const statics =
    options.staticDir && fs.existsSync(options.staticDir)
      ? sirv(options.staticDir, { single: true, dev: false })
      : null;

  const send = (
    res: http.ServerResponse,
    status: number,
    body: unknown,
    extra: Record<string, string> = {},
  ) => {
    if (res.headersSent) return void res.end();
    const text = JSON.stringify(body === undefined ? null : body);
    res
      .writeHead(status, {
        'content-type': 'application/json; charset=utf-8',
        'cache-control': 'no-store',
        ...extra,
      })
      .end(text);
  };

  /** The credential a request carries, if any: query, bearer header, or cookie. */
  const credential = (
    req: http.IncomingMessage,
    url: URL,
  ): { value: string; via: 'query' | 'header' | 'cookie' } | null => {
    const q = url.searchParams.get('token');
    if (q !== null) return { value: q, via: 'query' };
    const auth = req.headers.authorization;
    if (typeof auth === 'string' && /^Bearer /i.test(auth))
      return { value: auth.slice(7).trim(), via: 'header' };
    const c = cookieValue(req.headers.cookie, cookieName);
    if (c !== null) return { value: c, via: 'cookie' };
    return null;
  };

  const unauthorized = (res: http.ServerResponse, api: boolean) => {
    const message =
      'Earshot needs the address `earshot serve` printed, with its ?token=… part. Open that address (or restart `earshot serve` for a new one).';
    if (api) return send(res, 401, { error: message });
    res
      .writeHead(401, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' })
      .end(`${message}\n`);
  };

  const assets = options.assets ?? {
    respond: async (request: Request) =>
      respondAsset(await options.api.assetSource(new URL(request.url).pathname), request),
  };

  const handle = (req: http.IncomingMessage, res: http.ServerResponse) => {
    for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
    if (!allowedHosts.has(req.headers.host ?? '')) {
      return send(res, 421, { error: 'Earshot answers only on its own address (127.0.0.1).' });
    }
    const url = parseTarget(req.url);
    if (!url) return send(res, 400, { error: 'The address of this request is malformed.' });
    const isApi = url.pathname.startsWith('/api/');
    const given = credential(req, url);
    if (!given || !sameSecret(given.value, token)) return unauthorized(res, isApi);

    if (given.via === 'query' && !isApi && (req.method === 'GET' || req.method === 'HEAD')) {
      // Trade the token for a cookie and drop it from the address bar (works without JavaScript).
      url.searchParams.delete('token');
      const rest = url.searchParams.toString();
      // Never "//host": that would send the browser to another site.
      const where = url.pathname.startsWith('//') ? '/' : url.pathname;
      res
        .writeHead(303, {
          location: `${where}${rest ? `?${rest}` : ''}`,
          'set-cookie': `${cookieName}=${token}; HttpOnly; SameSite=Strict; Path=/`,
          'cache-control': 'no-store',
        })
        .end();
      return;
    }

    if (isApi) {
      const name = decodeURIComponent(url.pathname.slice('/api/'.length));
      if (req.method !== 'POST') return send(res, 405, { error: 'Call the API with POST.' });
      if (!isApiMethod(name)) return send(res, 404, { error: `There is no API method "${name}".` });
      if (!String(req.headers['content-type']).startsWith('application/json')) {
        return send(res, 415, {
          error: 'Send the arguments as a JSON array (content-type application/json).',
        });
      }
      const tooLarge = () =>
        send(
          res,
          413,
          { error: `The request body is larger than ${MAX_BODY / 1048576} MiB.` },
          { connection: 'close' },
        );
      const declared = Number(req.headers['content-length']);
      if (Number.isFinite(declared) && declared > MAX_BODY) {
        tooLarge();
        req.resume();
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      let refused = false;
      req.on('error', () => {
        refused = true;
      });
      req.on('data', (c: Buffer) => {
        if (refused) return;
        size += c.length;
        if (size > MAX_BODY) {
          refused = true;
          chunks.length = 0;
          tooLarge();
        } else chunks.push(c);
      });
      req.on('end', () => {
        if (refused) return;
        let args: unknown;
        try {
          args = JSON.parse(Buffer.concat(chunks).toString('utf8') || '[]');
        } catch {
          return send(res, 400, { error: 'The request body is not JSON.' });
        }
        if (!Array.isArray(args))
          return send(res, 400, { error: 'The request body must be a JSON array of arguments.' });
        // Validated at the boundary (dispatch.ts); a throw there is the same as a rejection.
        Promise.resolve()
          .then(() => dispatch(options.api, name, args))
          .then(
            (value) => send(res, 200, value),
            (err: unknown) => {
              const e = toWireError(err);
              send(res, USER_ERRORS.includes(e.name) ? 400 : 500, { error: e.message, name: e.name });
            },
          );
      });
      return;
    }
    if (url.pathname === '/upload' && options.uploads) {
      void receiveUpload(options.api, options.uploads, req, res, send);
      return;
    }
    if (AssetSources.handles(url.pathname)) {
      void answerAsset(assets, req, res, url);
      return;
    }
    if (statics) {
      statics(req, res, () => {
        res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found');
      });
      return;
    }
    res
      .writeHead(404, { 'content-type': 'text/plain; charset=utf-8' })
      .end('This Earshot serves the API only; build the UI with `npm run build`.');
  };

  const server = http.createServer((req, res) => {
    try {
      handle(req, res);
    } catch {
      // Nothing a request sends may stop the server.
      send(res, 500, { error: 'Earshot could not answer this request.' });
    }
  });
  // A request Node cannot even parse (bad headers, bad method line) gets a 400, never a crash.
  server.on('clientError', (_err, socket: Duplex) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  const refuse = (socket: Duplex, status: number, reason: string) => {
    if (socket.writable)
      socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    else socket.destroy();
  };
  const sockets = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const url = parseTarget(req.url);
    if (!url || url.pathname !== '/events') return refuse(socket, 404, 'Not Found');
    if (!allowedHosts.has(req.headers.host ?? '')) return refuse(socket, 421, 'Misdirected Request');
    const origin = req.headers.origin;
    // A browser always sends Origin: only a page served here may listen. Other programs send none.
    if (origin !== undefined && !allowedOrigins.has(origin)) return refuse(socket, 403, 'Forbidden');
    const given = credential(req, url);
    if (!given || !sameSecret(given.value, token)) return refuse(socket, 401, 'Unauthorized');
    try {
      sockets.handleUpgrade(req, socket, head, (ws) => sockets.emit('connection', ws, req));
    } catch {
      socket.destroy();
    }
  });
  sockets.on('connection', (ws: WebSocket) => ws.on('error', () => ws.terminate()));

  if (options.uploads) forgetUnfinishedUploads(options.uploads.dir);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  allowedHosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
  allowedOrigins = new Set([`http://127.0.0.1:${port}`, `http://localhost:${port}`]);
  headers = securityHeaders(port);
  // Cookies are shared by every port of a host: one name per port keeps two servers apart.
  cookieName = `earshot_token_${port}`;
  const origin = `http://127.0.0.1:${port}`;
  const broadcast = <E extends ApiEvent>(event: E, payload: ApiEvents[E]) => {
    const text = JSON.stringify({ event, payload });
    for (const ws of sockets.clients as Set<WebSocket>) if (ws.readyState === ws.OPEN) ws.send(text);
  };
  const stopEvents = options.events?.onAny(broadcast);
  return {
    url: origin,
    openUrl: `${origin}/?token=${token}`,
    token,
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

/** A web Response from the asset handler, written to Node's response; the fetch stops when the page hangs up. */
async function answerAsset(
  assets: NonNullable<ServeOptions['assets']>,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  url: URL,
): Promise<void> {
  const abort = new AbortController();
  res.on('close', () => abort.abort());
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (typeof value === 'string') headers.set(name, value);
  }
  let response: Response;
  try {
    response = await assets.respond(
      new Request(url, { method: req.method ?? 'GET', headers, signal: abort.signal }),
    );
  } catch (err) {
    if (!res.headersSent)
      res
        .writeHead(500, { 'content-type': 'text/plain; charset=utf-8' })
        .end(`Earshot could not read this file: ${(err as Error).message}`);
    return;
  }
  res.writeHead(response.status, Object.fromEntries(response.headers));
  if (!response.body || req.method === 'HEAD') {
    res.end();
    return;
  }
  const body = Readable.fromWeb(response.body as NodeReadableStream);
  body.on('error', () => res.destroy());
  res.on('close', () => body.destroy());
  body.pipe(res);
}

type Send = (res: http.ServerResponse, status: number, body: unknown, extra?: Record<string, string>) => void;

/**
 * A file's name as the page gave it (percent-encoded in `x-earshot-file-name`), made safe for a
 * file system: no folders, no control characters, at most 200 characters. Null when nothing
 * usable is left.
 */
export function uploadName(header: string | string[] | undefined): string | null {
  if (typeof header !== 'string') return null;
  let name: string;
  try {
    name = decodeURIComponent(header);
  } catch {
    return null;
  }
  const base = name.split(/[\\/]/).pop() ?? '';
  const safe = filenamify(base, { replacement: '_', maxLength: 200 });
  return safe && safe !== '.' && safe !== '..' ? safe : null;
}

/** An upload that stopped half-way (a closed tab, a crash) leaves a .part file: gone at start. */
function forgetUnfinishedUploads(dir: string): void {
  let entries: string[];
  try {
    entries = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const entry of entries) {
    const folder = path.join(dir, entry);
    try {
      if (fs.readdirSync(folder).some((f) => f.endsWith('.part')))
        fs.rmSync(folder, { recursive: true, force: true });
    } catch {
      // Not a folder of ours: left alone.
    }
  }
}

/**
 * `POST /upload`: one file as the raw body (`application/octet-stream`, which a cross-site form
 * cannot send), its name in `x-earshot-file-name`. Streamed to `<uploads>/<random>/<name>.part`
 * with a size cap, renamed when whole, then imported through `importFiles` like a dropped path;
 * the answer is the ImportView. Whatever is not imported (a duplicate, not audio) is deleted.
 */
async function receiveUpload(
  api: Api,
  uploads: NonNullable<ServeOptions['uploads']>,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  send: Send,
): Promise<void> {
  const refuse = (status: number, error: string) => {
    send(res, status, { error }, { connection: 'close' });
    req.resume();
  };
  if (req.method !== 'POST') return refuse(405, 'Upload a file with POST.');
  if (!String(req.headers['content-type']).startsWith('application/octet-stream'))
    return refuse(415, 'Send the file as the body, with content-type application/octet-stream.');
  const name = uploadName(req.headers['x-earshot-file-name']);
  if (!name) return refuse(400, 'Name the file in the x-earshot-file-name header.');
  const ext = path.extname(name).toLowerCase();
  if (!AUDIO_EXTENSIONS.includes(ext))
    return refuse(
      415,
      `${name} is not an audio or video file Earshot reads (${AUDIO_EXTENSIONS.map((e) => e.slice(1)).join(', ')}).`,
    );
  const max = uploads.maxBytes ?? MAX_UPLOAD;
  const tooLarge = `${name} is larger than ${Math.round(max / 1048576).toLocaleString('en')} MiB, the most Earshot takes from a browser. Put it in your watch folder (Settings) instead.`;
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > max) return refuse(413, tooLarge);

  const folder = path.join(uploads.dir, randomBytes(12).toString('hex'));
  const file = path.join(folder, name);
  const part = `${file}.part`;
  const discard = () => fs.rmSync(folder, { recursive: true, force: true });
  let size = 0;
  let over = false;
  try {
    fs.mkdirSync(folder, { recursive: true, mode: 0o700 });
    await pipeline(
      req,
      new Transform({
        transform(chunk: Buffer, _enc, done) {
          size += chunk.length;
          if (size > max) {
            over = true;
            done(new Error('too large'));
          } else done(null, chunk);
        },
      }),
      fs.createWriteStream(part, { flags: 'wx', mode: 0o600 }),
    );
    fs.renameSync(part, file);
  } catch (err) {
    discard();
    if (over) return refuse(413, tooLarge);
    if (!res.writableEnded && !req.destroyed)
      send(res, 500, { error: `Earshot could not keep ${name}: ${(err as Error).message}` });
    return;
  }
  try {
    const result = await dispatch(api, 'importFiles', [[file]]);
    // Kept only while an imported episode still has to copy it into the library.
    if (result.imported.length === 0) discard();
    send(res, 200, result);
  } catch (err) {
    discard();
    const e = toWireError(err);
    send(res, USER_ERRORS.includes(e.name) ? 400 : 500, { error: e.message, name: e.name });
  }
}
