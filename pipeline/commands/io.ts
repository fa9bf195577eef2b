import { InvalidArgumentError, type Command } from 'commander';
import { resolveDataDir } from '../store/paths.ts';
import { App, openApp, type AppContext } from '../api/app.ts';
import { terminalSafe, terminalSafeJson } from '../ingest/clean-text.ts';
import { validated } from '../api/dispatch.ts';

export interface GlobalOptions {
  dataDir?: string;
  json?: boolean;
}

export function globals(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals<GlobalOptions>();
}

/** Print a result: JSON with --json, otherwise the human rendering. */
export function print(cmd: Command, value: unknown, human: () => string): void {
  // Feed text reaches the terminal here: nothing in it may steer the terminal.
  if (globals(cmd).json) process.stdout.write(`${terminalSafeJson(JSON.stringify(value, null, 2))}\n`);
  else process.stdout.write(`${terminalSafe(human())}\n`);
}

/** Open the library for a command, run it, and always close the database. */
export async function withApp<T>(cmd: Command, fn: (app: App, ctx: AppContext) => Promise<T>): Promise<T> {
  const ctx = await openApp(resolveDataDir(globals(cmd).dataDir));
  try {
    // Through the dispatcher: a command line's arguments meet the same schemas as a window's.
    return await fn(validated(new App(ctx)), ctx);
  } finally {
    ctx.db.close();
  }
}

export function table(rows: string[][]): string {
  if (rows.length === 0) return '';
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function when(ms: number | null): string {
  return ms === null ? '-' : new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
}

/** A whole number above 0 given on the command line; `what` names it in the error. */
export function positiveInt(value: string, what = 'a whole number above 0'): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`"${value}" is not ${what}.`);
  return n;
}
