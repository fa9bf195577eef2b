/**
 * A real HTTP server on 127.0.0.1 that serves fixture feeds with the faults real servers have:
 * slow bodies, errors, 429 with Retry-After, resets mid-body, 304s, redirects, gzip.
 */
import http from 'node:http';
import zlib from 'node:zlib';
import type { AddressInfo } from 'node:net';

export interface Route {
  body?: string | Buffer;
  status?: number;
  headers?: Record<string, string>;
  gzip?: boolean;
  /** Compress with this content-encoding instead ('br' or 'deflate'). */
  encoding?: 'br' | 'deflate';
  /** Answer 304 when the request's If-None-Match equals this. */
  etag?: string;
  /** Send the body in pieces with this pause between them (ms). */
  dripMs?: number;
  /** Destroy the socket after writing this many body bytes. */
  resetAfter?: number;
  /** With `resetAfter`: break the connection only once this resolves (e.g. when the client has
   * written some of what it received), so what the client keeps does not depend on timing. */
  resetWhen?: () => Promise<unknown>;
  /** Redirect: [status, location]. */
  redirect?: [number, string];
  /** Only the first N requests get `resetAfter` / `status`; later ones are served normally. */
  faultTimes?: number;
  /** Honour `Range: bytes=N-` with 206 (what resumable downloads need). */
  ranges?: boolean;
}

export interface FeedServer {
  /** Most requests this server had in flight at once since the last reset. */
  peakInFlight(): number;
  resetPeak(): void;
  url(path: string): string;
  route(path: string, route: Route): void;
  hits(path: string): http.IncomingHttpHeaders[];
  close(): Promise<void>;
}

/** `host`: the loopback address to listen on (Linux answers on all of 127.0.0.0/8). Default 127.0.0.1. */
export async function startFeedServer(host = '127.0.0.1'): Promise<FeedServer> {
  const routes = new Map<string, Route>();
  const seen = new Map<string, http.IncomingHttpHeaders[]>();
  let inFlight = 0;
  let peak = 0;
  const server = http.createServer((req, res) => {
    inFlight++;
    peak = Math.max(peak, inFlight);
    res.on('close', () => inFlight--);
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    seen.set(path, [...(seen.get(path) ?? []), req.headers]);
    const configured = routes.get(path);
    if (!configured) {
      res.writeHead(404).end('not here');
      return;
    }
    const count = seen.get(path)!.length;
    const r: Route =
      configured.faultTimes !== undefined && count > configured.faultTimes
        ? {
            ...configured,
            resetAfter: undefined,
            resetWhen: undefined,
            status: undefined,
            headers: Object.fromEntries(
              Object.entries(configured.headers ?? {}).filter(([k]) => k !== 'retry-after'),
            ),
          }
        : configured;
    if (r.redirect) {
      res.writeHead(r.redirect[0], { location: r.redirect[1] }).end();
      return;
    }
    if (r.etag && req.headers['if-none-match'] === r.etag) {
      res.writeHead(304, { etag: r.etag }).end();
      return;
    }
    let body = typeof r.body === 'string' ? Buffer.from(r.body) : (r.body ?? Buffer.alloc(0));
    const headers: Record<string, string> = { 'content-type': 'application/rss+xml', ...r.headers };
    if (r.etag) headers.etag = r.etag;
    if (r.gzip) {
      body = zlib.gzipSync(body);
      headers['content-encoding'] = 'gzip';
    } else if (r.encoding) {
      body = r.encoding === 'br' ? zlib.brotliCompressSync(body) : zlib.deflateSync(body);
      headers['content-encoding'] = r.encoding;
    }
    const range = r.ranges ? /^bytes=(\d+)-$/.exec(String(req.headers.range ?? '')) : null;
    if (range) {
      const from = Number(range[1]);
      const part = body.subarray(from);
      res
        .writeHead(206, {
          ...headers,
          'content-length': String(part.length),
          'content-range': `bytes ${from}-${body.length - 1}/${body.length}`,
        })
        .end(part);
      return;
    }
    if (r.resetAfter !== undefined) {
      res.writeHead(r.status ?? 200, { ...headers, 'content-length': String(body.length) });
      const reset = () => res.socket?.destroy();
      res.write(body.subarray(0, r.resetAfter), () =>
        r.resetWhen ? void r.resetWhen().then(reset, reset) : reset(),
      );
      return;
    }
    if (r.dripMs) {
      res.writeHead(r.status ?? 200, headers);
      let i = 0;
      const tick = () => {
        if (res.destroyed) return;
        if (i >= body.length) return void res.end();
        res.write(body.subarray(i, i + 16));
        i += 16;
        setTimeout(tick, r.dripMs);
      };
      tick();
      return;
    }
    res.writeHead(r.status ?? 200, { ...headers, 'content-length': String(body.length) }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (p) => `http://${host}:${port}${p}`,
    peakInFlight: () => peak,
    resetPeak: () => {
      peak = inFlight;
    },
    route: (p, r) => void routes.set(p, r),
    hits: (p) => seen.get(p) ?? [],
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
