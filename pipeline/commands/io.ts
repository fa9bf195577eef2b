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

/** "1 episode", "3 episodes": a count with its noun, singular for one. */
export function count(n: number, noun: string, plural = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : plural}`;
}

/** An episode as people know it: "Title" — Show (imported files have no show); cut to `max` characters. */
export function episodeLabel(e: { title: string | null; show: string | null }, max?: number): string {
  const text = `${e.title ?? '(untitled)'} — ${e.show ?? 'your files'}`;
  return max !== undefined && text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/**
 * A table no wider than `width` (a terminal's columns; 80 when not a terminal): the columns
 * named in `flexible` give up room, the widest first, and their cells end with "…" when cut.
 * Other columns keep their width.
 */
export function fitTable(rows: string[][], width: number, flexible: number[]): string {
  if (rows.length === 0) return '';
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const total = () => widths.reduce((a, b) => a + b, 0) + 2 * (widths.length - 1);
  const floor = (i: number) => Math.max(rows[0]![i]!.length, 8);
  // One character at a time from the widest: long columns end up about as wide as each other.
  for (let over = total() - width; over > 0; over--) {
    const widest = flexible.filter((i) => widths[i]! > floor(i)).sort((a, b) => widths[b]! - widths[a]!)[0];
    if (widest === undefined) break;
    widths[widest]! -= 1;
  }
  const cut = (text: string, w: number) => (text.length > w ? `${text.slice(0, w - 1)}…` : text);
  return rows
    .map((r) =>
      r
        .map((c, i) => cut(c, widths[i]!).padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** Columns of the terminal stdout is, else 80. */
export function outputWidth(): number {
  return (process.stdout.isTTY && process.stdout.columns) || 80;
}

/** How long ago, in a few characters: "just now", "12 min ago", "3 h ago", "5 d ago". */
export function ago(ms: number | null, now = Date.now()): string {
  if (ms === null) return 'never';
  const m = Math.round((now - ms) / 60_000);
  if (m < 1) return 'just now';
  if (m < 60) return `${m} min ago`;
  if (m < 48 * 60) return `${Math.round(m / 60)} h ago`;
  return `${Math.round(m / 1440)} d ago`;
}
