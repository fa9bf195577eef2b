/**
 * A real HTTP server on 127.0.0.1 that serves model files the way a model hub or CDN does (ETag,
 * Range with If-Range), with the faults a long download meets: a connection cut mid-body, a
 * server that cannot resume, one that ignores If-Range, one that stops sending.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ModelRoute {
  body: Buffer;
  /** Sent as ETag (and honoured in If-Range); null sends none. */
  etag: string | null;
  /** Honour `Range: bytes=N-` with 206. Default true. */
  ranges?: boolean;
  /** Answer a Range request with 206 even when If-Range names another version (a broken server). */
  ignoreIfRange?: boolean;
  /** Destroy the socket after this many body bytes, for the next `cutTimes` requests (default 1). */
  cutAfter?: number;
  cutTimes?: number;
  /** Send this many body bytes, then nothing more (the connection stays open). */
  holdAfter?: number;
}

export interface ModelRequest {
  range: string | undefined;
  ifRange: string | undefined;
  status: number;
  /** Body bytes the server wrote. */
  sent: number;
}

export interface ModelServer {
  url(path: string): string;
  route(path: string, route: ModelRoute): void;
  requests(path: string): ModelRequest[];
  /** Body bytes written for this path, all requests together. */
  sentBytes(path: string): number;
  close(): Promise<void>;
}

export async function startModelServer(): Promise<ModelServer> {
  const routes = new Map<string, ModelRoute & { cutsLeft: number }>();
  const log = new Map<string, ModelRequest[]>();
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const r = routes.get(path);
    if (!r) {
      res.writeHead(404).end('not here');
      return;
    }
    const entry: ModelRequest = {
      range: req.headers.range,
      ifRange: req.headers['if-range'] as string | undefined,
      status: 200,
      sent: 0,
    };
    log.set(path, [...(log.get(path) ?? []), entry]);
    const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
    if (r.etag) headers.etag = r.etag;
    const ranges = r.ranges ?? true;
    if (ranges) headers['accept-ranges'] = 'bytes';
    let start = 0;
    const m = ranges ? /^bytes=(\d+)-$/.exec(entry.range ?? '') : null;
    if (m && (entry.ifRange === undefined || entry.ifRange === r.etag || r.ignoreIfRange)) {
      start = Number(m[1]);
      if (start >= r.body.length) {
        entry.status = 416;
        res.writeHead(416, { ...headers, 'content-range': `bytes */${r.body.length}` }).end();
        return;
      }
      entry.status = 206;
      headers['content-range'] = `bytes ${start}-${r.body.length - 1}/${r.body.length}`;
    }
    const body = r.body.subarray(start);
    headers['content-length'] = String(body.length);
    res.writeHead(entry.status, headers);
    if (r.cutAfter !== undefined && r.cutsLeft > 0) {
      r.cutsLeft--;
      const part = body.subarray(0, r.cutAfter);
      entry.sent = part.length;
      res.write(part, () => res.socket?.destroy());
      return;
    }
    if (r.holdAfter !== undefined) {
      const part = body.subarray(0, r.holdAfter);
      entry.sent = part.length;
      res.write(part);
      return;
    }
    entry.sent = body.length;
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (p) => `http://127.0.0.1:${port}${p}`,
    route: (p, r) => void routes.set(p, { ...r, cutsLeft: r.cutAfter === undefined ? 0 : (r.cutTimes ?? 1) }),
    requests: (p) => log.get(p) ?? [],
    sentBytes: (p) => (log.get(p) ?? []).reduce((n, e) => n + e.sent, 0),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
