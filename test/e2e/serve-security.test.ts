/**
 * `earshot serve` as an attacker on the same machine, or a web page in the user's browser, sees
 * it: started as a person starts it, then probed with plain HTTP, raw sockets and WebSockets on
 * 127.0.0.1 only.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { tempDir } from '../helpers/env.ts';
import { startServe, type ServeProcess } from '../helpers/serve.ts';

const dataDir = tempDir();
let serve: ServeProcess;

beforeAll(async () => {
  serve = await startServe({ dataDir });
}, 60_000);

afterAll(async () => {
  await serve?.close();
});

const api = (name: string, init: RequestInit = {}) =>
  fetch(new URL(`/api/${name}`, serve.origin), {
    method: 'POST',
    body: '[]',
    ...init,
    headers: { 'content-type': 'application/json', ...(init.headers as Record<string, string>) },
  });

/** A raw HTTP exchange: what a crafted request gets back, status line first. */
function raw(request: string | Buffer, timeoutMs = 5000): Promise<string> {
  const { port } = new URL(serve.origin);
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), '127.0.0.1');
    let got = '';
    const done = () => resolve(got);
    socket.setTimeout(timeoutMs, () => socket.destroy());
    socket.on('data', (d) => (got += d.toString('latin1')));
    socket.on('close', done);
    socket.on('error', () => undefined);
    socket.write(request);
  });
}

/** Open /events; resolves with the HTTP status of a refusal, or 101 when it opened. */
function openEvents(headers: Record<string, string>, query = ''): Promise<number> {
  const url = `${serve.origin.replace('http:', 'ws:')}/events${query}`;
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.on('open', () => {
      ws.close();
      resolve(101);
    });
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('error', () => resolve(0));
  });
}

async function stillServing(): Promise<void> {
  const res = await api('status', { headers: serve.auth() });
  expect(res.status).toBe(200);
  expect(serve.process.exitCode).toBeNull();
}

describe('earshot serve: the token', () => {
  it('prints an address with a token of at least 16 characters, on 127.0.0.1 only', async () => {
    const printed = new URL(serve.url);
    expect(printed.hostname).toBe('127.0.0.1');
    expect(printed.pathname).toBe('/');
    expect(serve.token).toMatch(/^[A-Za-z0-9_-]{16,}$/);
    expect(serve.token.length).toBeGreaterThanOrEqual(43); // 256 random bits, base64url
    // Not reachable on another local address than 127.0.0.1.
    const other = await new Promise<string>((resolve) => {
      const s = net.connect(Number(printed.port), '127.0.0.2');
      s.on('connect', () => {
        s.destroy();
        resolve('connected');
      });
      s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    });
    expect(other).toBe('ECONNREFUSED');
  });

  it('answers 401 without the token or with a wrong one, on /, /api/* and the WebSocket', async () => {
    const wrong = `${serve.token.slice(0, -1)}${serve.token.endsWith('A') ? 'B' : 'A'}`;
    expect((await fetch(`${serve.origin}/`)).status).toBe(401);
    expect((await fetch(`${serve.origin}/?token=${wrong}`)).status).toBe(401);
    expect((await fetch(`${serve.origin}/index.html`)).status).toBe(401);
    expect((await api('status')).status).toBe(401);
    expect((await api('status', { headers: { authorization: `Bearer ${wrong}` } })).status).toBe(401);
    expect(
      (await api('status', { headers: { cookie: `earshot_token_${new URL(serve.origin).port}=${wrong}` } }))
        .status,
    ).toBe(401);
    // The calls that name paths are no exception.
    expect((await api('importFiles', { body: JSON.stringify([['/etc/passwd']]) })).status).toBe(401);
    expect((await api('importModel', { body: JSON.stringify(['/etc/passwd']) })).status).toBe(401);
    const body = (await (await api('status')).json()) as { error: string };
    expect(body.error).toMatch(/address `earshot serve` printed/);
    expect(await openEvents({})).toBe(401);
    expect(await openEvents({ authorization: `Bearer ${wrong}` })).toBe(401);
    // With it: through the query, the header, or the cookie.
    expect((await api('status', { headers: serve.auth() })).status).toBe(200);
    expect((await api(`status?token=${serve.token}`)).status).toBe(200);
    expect(await openEvents(serve.auth())).toBe(101);
    expect(await openEvents({}, `?token=${serve.token}`)).toBe(101);
  });

  it('trades the token in the address for an HttpOnly SameSite=Strict cookie and drops it from the address', async () => {
    const res = await fetch(`${serve.url}`, { redirect: 'manual' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/');
    const cookie = res.headers.get('set-cookie')!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).not.toMatch(/Domain=/i);
    const pair = cookie.split(';')[0]!;
    expect(pair).toBe(`earshot_token_${new URL(serve.origin).port}=${serve.token}`);
    // Other query parameters stay; a path that would leave the site does not.
    const kept = await fetch(`${serve.origin}/x?a=1&token=${serve.token}`, { redirect: 'manual' });
    expect(kept.headers.get('location')).toBe('/x?a=1');
    const host = new URL(serve.origin).host;
    for (const target of ['/\\evil.example/', '/%5Cevil.example/']) {
      const sneaky = await raw(
        `GET ${target}?token=${serve.token} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
      );
      const location = /\r\nlocation: ([^\r]*)/i.exec(sneaky)?.[1] ?? '';
      expect(location.startsWith('//') || location.startsWith('/\\'), `${target} → ${location}`).toBe(false);
    }
    // The cookie alone is enough afterwards, for the API and for the events.
    expect((await api('status', { headers: { cookie: pair } })).status).toBe(200);
    expect(await openEvents({ cookie: pair })).toBe(101);
  });

  it('refuses a WebSocket from a foreign Origin, even with the cookie', async () => {
    const { port } = new URL(serve.origin);
    const cookie = `earshot_token_${port}=${serve.token}`;
    expect(await openEvents({ cookie, origin: 'https://evil.example' })).toBe(403);
    expect(await openEvents({ cookie, origin: `http://127.0.0.1:${Number(port) + 1}` })).toBe(403);
    expect(await openEvents({ cookie, origin: 'null' })).toBe(403);
    expect(await openEvents({ cookie, origin: serve.origin })).toBe(101);
    expect(await openEvents({ cookie, origin: `http://localhost:${port}` })).toBe(101);
  });

  it('sends the security headers on every response, refusals included', async () => {
    const responses = [
      await fetch(`${serve.origin}/`),
      await api('status', { headers: serve.auth() }),
      await api('nope', { headers: serve.auth() }),
      await fetch(`${serve.origin}/api/%ZZ`),
      await fetch(serve.url, { redirect: 'manual' }),
      await fetch(`${serve.origin}/`, { headers: { ...serve.auth(), host: 'evil.example' } }),
    ];
    for (const res of responses) {
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp, `${res.url} ${res.status}`).toContain("frame-ancestors 'none'");
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("object-src 'none'");
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    }
  });
});

describe('earshot serve: input refused early', () => {
  it('answers 400 to a malformed address and keeps serving', async () => {
    for (const target of ['/api/%ZZ', '/%ZZ', '/api/%E0%A4%A', '/api/%00']) {
      const withToken = await fetch(`${serve.origin}${target}?token=${serve.token}`, { method: 'POST' });
      expect([400, 404], target).toContain(withToken.status);
      if (target === '/api/%ZZ' || target === '/%ZZ') expect(withToken.status).toBe(400);
    }
    // Exactly what the issue sent: no token, no method, the curl request.
    const head = await raw(
      `GET /api/%ZZ HTTP/1.1\r\nHost: ${new URL(serve.origin).host}\r\nConnection: close\r\n\r\n`,
    );
    expect(head).toMatch(/^HTTP\/1\.1 400 /);
    await stillServing();
  });

  it('answers 413 to a body over the cap', async () => {
    const big = Buffer.alloc(8 * 1024 * 1024 + 1, 0x20);
    const declared = await raw(
      `POST /api/status HTTP/1.1\r\nHost: ${new URL(serve.origin).host}\r\nAuthorization: Bearer ${serve.token}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${big.length}\r\nConnection: close\r\n\r\n`,
    );
    expect(declared).toMatch(/^HTTP\/1\.1 413 /);
    const chunked = await api('status', {
      headers: serve.auth(),
      body: new ReadableStream({
        start(c) {
          c.enqueue(new Uint8Array([0x5b]));
          c.enqueue(big);
          c.close();
        },
      }),
      // Node's fetch needs this for a streamed body.
      ...({ duplex: 'half' } as object),
    }).catch((e: Error) => e);
    if (chunked instanceof Response) expect(chunked.status).toBe(413);
    await stillServing();
  });

  it('survives a fuzz of paths, headers and bodies', async () => {
    // A fixed seed: the same requests every run, so a failure can be replayed.
    let seed = 0x1234567;
    // mulberry32
    const rand = (n: number) => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) % n;
    };
    const pick = <T>(xs: T[]) => xs[rand(xs.length)]!;
    const host = new URL(serve.origin).host;
    const pieces = [
      '%',
      '%ZZ',
      '%00',
      '%c0%af',
      '..',
      '/',
      '\\',
      '?',
      '#',
      ';',
      '\u00ff',
      'api',
      'events',
      'token=',
      '%2e%2e',
      '*',
      '~',
      '\t',
    ];
    const methods = [
      'GET',
      'POST',
      'PUT',
      'DELETE',
      'OPTIONS',
      'HEAD',
      'PATCH',
      'TRACE',
      'CONNECT',
      'BREW',
      '',
    ];
    const bodies = [
      '',
      '[]',
      '{}',
      'null',
      '[1,2',
      '"x"',
      '[{"__proto__":{"a":1}}]',
      '[' + '['.repeat(5000),
      '\u0000\u0001',
      'x'.repeat(10_000),
    ];
    const statuses = new Set<string>();
    for (let i = 0; i < 300; i++) {
      let target = '/';
      for (let k = rand(6); k > 0; k--) target += pick(pieces);
      if (rand(3) === 0)
        target = `/api/${pick(['status', 'jobs', 'importFiles', 'subscribe', 'toString', 'constructor', '__proto__'])}${rand(2) ? pick(pieces) : ''}`;
      if (rand(10) === 0) target = pick(['*', 'http://evil.example/', '//x', '', 'api/status', '/\r\nX: y']);
      const body = pick(bodies);
      const lines = [
        `${pick(methods)} ${target} HTTP/1.${rand(2)}`,
        rand(8) === 0 ? `Host: ${pick(['evil', '', 'localhost', host + '.evil'])}` : `Host: ${host}`,
        ...(rand(2) ? [`Authorization: Bearer ${serve.token}`] : []),
        ...(rand(3) === 0
          ? [`Cookie: ${pick(['', '=', ';;', 'earshot_token_1=x', 'a=b; earshot_token'])}`]
          : []),
        `Content-Type: ${pick(['application/json', 'text/plain', '', 'application/json; charset=utf-7', '\u00ff'])}`,
        ...(rand(4) === 0
          ? [
              pick([
                'Transfer-Encoding: chunked',
                'Content-Length: -1',
                'Content-Length: 99999999999',
                'Content-Length: 1, 2',
                'Upgrade: websocket',
                'Expect: 100-continue',
                'X: \u0000',
                ': empty',
                'Origin: null',
              ]),
            ]
          : [`Content-Length: ${Buffer.byteLength(body)}`]),
        'Connection: close',
      ];
      const reply = await raw(`${lines.join('\r\n')}\r\n\r\n${body}`, 3000);
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(reply)?.[1] ?? (reply === '' ? 'closed' : 'other');
      statuses.add(status);
      // Whatever it sends, never a crash: nothing the server answers is a 5xx from a thrown error.
      expect(['500', '502', '503', 'other'], `request ${i}: ${lines[0]}`).not.toContain(status);
      expect(serve.process.exitCode, `request ${i}: ${lines[0]}`).toBeNull();
    }
    // A sanity check that the fuzz reached the API and was refused in the ways meant.
    expect([...statuses]).toEqual(expect.arrayContaining(['400', '401']));
    await stillServing();
  }, 120_000);

  it('creates the library folder 0700 and its files 0600', async () => {
    if (process.platform === 'win32') return;
    expect(fs.statSync(dataDir).mode & 0o777).toBe(0o700);
    const files = fs.readdirSync(dataDir, { recursive: true, withFileTypes: true });
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const full = path.join(f.parentPath, f.name);
      const mode = fs.statSync(full).mode & 0o777;
      expect([full, mode.toString(8)]).toEqual([full, (f.isDirectory() ? 0o700 : 0o600).toString(8)]);
    }
  });

  it('refuses to import files from inside the library, even with the token', async () => {
    const db = path.join(dataDir, 'earshot.db');
    const res = await api('importFiles', { headers: serve.auth(), body: JSON.stringify([[db, dataDir]]) });
    const view = (await res.json()) as { imported: unknown[]; rejected: { path: string; reason: string }[] };
    expect(view.imported).toEqual([]);
    expect(view.rejected.map((r) => r.reason)).toEqual([
      expect.stringMatching(/inside Earshot's library folder/),
      expect.stringMatching(/inside Earshot's library folder/),
    ]);
    const model = await api('importModel', { headers: serve.auth(), body: JSON.stringify([db]) });
    expect(model.status).toBe(400);
    expect(((await model.json()) as { error: string }).error).toMatch(/inside Earshot's library folder/);
  });
});
