import { execFile } from 'node:child_process';
import { cliPath } from './env.ts';

/**
 * Run `earshot` (the real pipeline) in a child process without blocking this one, so servers
 * the test runs on 127.0.0.1 keep answering. Never rejects: the exit code is part of the result.
 */
export function runCli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  options: { input?: string; timeoutMs?: number } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [cliPath, ...args],
      { env: { ...process.env, ...env }, encoding: 'utf8', timeout: options.timeoutMs ?? 60_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}
