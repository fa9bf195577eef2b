import { LlmAborted } from './runtime.ts';

/**
 * Map-reduce over text longer than a model's context: the text is split into pieces of at most
 * `pieceTokens` tokens (on sentence, then word boundaries), each piece is mapped to a partial
 * result, and the partial results are reduced in groups that fit `reduceTokens`, level after level,
 * until one is left. Calls run one after another (one model, one sequence); the signal is checked
 * before every call and passed into it.
 */

export interface Piece {
  index: number;
  text: string;
  /** Where it lies in the whole text: [start, end) in UTF-16 units. */
  start: number;
  end: number;
  tokens: number;
}

export interface MapReduceProgress {
  phase: 'map' | 'reduce';
  /** Calls done so far, and an estimate of the calls in all (exact for the map phase). */
  done: number;
  total: number;
  fraction: number;
  /** Reduce level (1 = reducing the map results), 0 in the map phase. */
  level: number;
  /** Pieces the text was split into. */
  pieces: number;
}

export interface MapReduceOptions<T> {
  text: string;
  /** Tokens in a string, with the model's tokenizer. */
  countTokens: (text: string) => number;
  /** Most tokens of text in one map call (the prompt around it and the answer excluded). */
  pieceTokens: number;
  map: (piece: Piece, signal: AbortSignal | undefined) => Promise<T>;
  /** Combines two or more results (map results, or earlier reductions) into one. */
  reduce: (items: T[], level: number, signal: AbortSignal | undefined) => Promise<T>;
  /** The text a result takes in a reduce prompt: what is counted against `reduceTokens`. */
  render: (item: T) => string;
  /** Most tokens of rendered results in one reduce call. */
  reduceTokens: number;
  signal?: AbortSignal;
  onProgress?: (p: MapReduceProgress) => void;
}

export interface MapReduceResult<T> {
  result: T;
  pieces: Piece[];
  mapCalls: number;
  reduceCalls: number;
  /** Reduce levels run (0 when the text fit one piece). */
  levels: number;
}

function check(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new LlmAborted(signal.reason);
}

/** Sentence-ish units: a sentence with its trailing space, or a line. */
function units(text: string): Array<{ start: number; end: number }> {
  const out: Array<{ start: number; end: number }> = [];
  const re = /[^.!?\n]*(?:[.!?]+["')\]]*|\n|$)\s*/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    if (m[0].length === 0) {
      re.lastIndex++;
      if (re.lastIndex > text.length) break;
      continue;
    }
    out.push({ start: m.index, end: m.index + m[0].length });
  }
  return out;
}

/** Splits a unit that alone is over budget on word boundaries (or, for one huge word, characters). */
function splitLong(
  text: string,
  start: number,
  end: number,
  budget: number,
  count: (s: string) => number,
): Array<{ start: number; end: number }> {
  const out: Array<{ start: number; end: number }> = [];
  let from = start;
  while (from < end) {
    // Binary search the longest prefix that fits, then back off to a word boundary.
    let lo = from + 1;
    let hi = end;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (count(text.slice(from, mid)) <= budget) lo = mid;
      else hi = mid - 1;
    }
    let cut = lo;
    if (cut < end) {
      const space = text.lastIndexOf(' ', cut - 1);
      if (space > from) cut = space + 1;
    }
    out.push({ start: from, end: cut });
    from = cut;
  }
  return out;
}

/**
 * Splits text into pieces of at most `budget` tokens each (counted with the model's tokenizer on the
 * piece itself, so joins are exact), breaking between sentences where it can. Every character of the
 * text is in exactly one piece, in order.
 */
export function splitByTokens(text: string, budget: number, count: (s: string) => number): Piece[] {
  if (budget < 1) throw new RangeError(`A piece must be allowed at least one token (got ${budget}).`);
  const pieces: Piece[] = [];
  let start = -1;
  let end = -1;
  let tokens = 0;
  const flush = (): void => {
    if (start < 0) return;
    const t = text.slice(start, end);
    if (t.trim().length) pieces.push({ index: pieces.length, text: t, start, end, tokens: tokens });
    start = -1;
    tokens = 0;
  };
  const parts = units(text).flatMap((u) =>
    count(text.slice(u.start, u.end)) > budget ? splitLong(text, u.start, u.end, budget, count) : [u],
  );
  for (const u of parts) {
    if (start < 0) {
      start = u.start;
      end = u.end;
      tokens = count(text.slice(start, end));
      continue;
    }
    const joined = count(text.slice(start, u.end));
    if (joined <= budget) {
      end = u.end;
      tokens = joined;
    } else {
      flush();
      start = u.start;
      end = u.end;
      tokens = count(text.slice(start, end));
    }
  }
  flush();
  return pieces;
}

/** Groups consecutive items so each group's rendered tokens fit `budget`; every group has 2+ items when it can. */
export function groupForReduce(tokens: number[], budget: number): number[][] {
  const groups: number[][] = [];
  let cur: number[] = [];
  let sum = 0;
  tokens.forEach((t, i) => {
    if (cur.length > 0 && sum + t > budget) {
      groups.push(cur);
      cur = [];
      sum = 0;
    }
    cur.push(i);
    sum += t;
  });
  if (cur.length) groups.push(cur);
  // No group shrank anything (every item alone fills the budget): pair them anyway, so the levels
  // converge; the reduce step is told to be brief and its prompt trims what does not fit.
  if (groups.length === tokens.length && tokens.length > 1) {
    const paired: number[][] = [];
    for (let i = 0; i < tokens.length; i += 2) paired.push(i + 1 < tokens.length ? [i, i + 1] : [i]);
    return paired;
  }
  return groups;
}

export async function mapReduce<T>(options: MapReduceOptions<T>): Promise<MapReduceResult<T>> {
  const { signal } = options;
  check(signal);
  const pieces = splitByTokens(options.text, options.pieceTokens, options.countTokens);
  if (pieces.length === 0) throw new RangeError('There is no text to work on.');
  let done = 0;
  // Each reduce call turns k items into 1; with about two per group that is n - 1 calls in all.
  let total = pieces.length + (pieces.length > 1 ? pieces.length - 1 : 0);
  const report = (phase: 'map' | 'reduce', level: number): void =>
    options.onProgress?.({
      phase,
      done,
      total,
      fraction: Math.min(1, done / total),
      level,
      pieces: pieces.length,
    });
  report('map', 0);

  let items: T[] = [];
  for (const piece of pieces) {
    check(signal);
    items.push(await options.map(piece, signal));
    done++;
    report('map', 0);
  }
  const mapCalls = pieces.length;
  let reduceCalls = 0;
  let level = 0;
  while (items.length > 1) {
    level++;
    const sizes = items.map((it) => options.countTokens(options.render(it)));
    const groups = groupForReduce(sizes, options.reduceTokens);
    // Now the calls left are known for this level; later levels are estimated.
    const calls = groups.filter((g) => g.length > 1).length;
    total = done + calls + Math.max(0, groups.length - 1);
    const next: T[] = [];
    for (const g of groups) {
      if (g.length === 1) {
        next.push(items[g[0]!]!);
        continue;
      }
      check(signal);
      next.push(
        await options.reduce(
          g.map((i) => items[i]!),
          level,
          signal,
        ),
      );
      reduceCalls++;
      done++;
      report('reduce', level);
    }
    items = next;
  }
  total = done;
  report(level ? 'reduce' : 'map', level);
  return { result: items[0]!, pieces, mapCalls, reduceCalls, levels: level };
}
