import { spawn, type ChildProcess } from 'node:child_process';
import { cliPath } from './env.ts';

export interface ServeProcess {
  /** The exact address `earshot serve` printed: `http://127.0.0.1:PORT/?token=…`. Open this one. */
  url: string;
  /** The token in it, for requests made without a browser (`Authorization: Bearer TOKEN`). */
  token: string;
  /** `http://127.0.0.1:PORT`, for building API addresses. */
  origin: string;
  process: ChildProcess;
  /** Everything it printed on stdout so far. */
  stdout(): string;
  /** Headers that authorize a plain (non-browser) request: the bearer token. */
  auth(extra?: Record<string, string>): Record<string, string>;
  /** Stop it (SIGTERM) and wait for the exit. */
  close(): Promise<void>;
}

/**
 * Start `earshot serve` the way a person does and return the address it printed. `args` come
 * after `serve` (default `--port 0 --no-engine`); stderr is passed through.
 */
export async function startServe(options: {
  dataDir: string;
  args?: string[];
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}): Promise<ServeProcess> {
  const child = spawn(
    process.execPath,
    [cliPath, '--data-dir', options.dataDir, 'serve', ...(options.args ?? ['--port', '0', '--no-engine'])],
    { stdio: ['ignore', 'pipe', 'inherit'], env: options.env ?? process.env },
  );
  let out = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`earshot serve printed no address in time; it said: ${out}`)),
      options.timeoutMs ?? 60_000,
    );
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /Earshot is at (http:\/\/127\.0\.0\.1:\d+\/\S*)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`earshot serve exited with ${code}: ${out}`));
    });
  });
  const parsed = new URL(url);
  const token = parsed.searchParams.get('token') ?? '';
  return {
    url,
    token,
    origin: parsed.origin,
    process: child,
    stdout: () => out,
    auth: (extra = {}) => ({ authorization: `Bearer ${token}`, ...extra }),
    close: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
