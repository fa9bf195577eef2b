import parseDurationText from 'parse-duration';
import { searchDate } from '../search/search.ts';
import type { DigestQuery } from '../api/contract.ts';

/** The window and listening time a digest is made for, from what a person typed. */
export { DEFAULT_BUDGET_MS, DEFAULT_WINDOW_MS } from './records.ts';
import { DEFAULT_BUDGET_MS, DEFAULT_WINDOW_MS } from './records.ts';
/** A digest's window is at most a year; a playlist at most 24 hours. */
export const MAX_WINDOW_MS = 366 * 86_400_000;
export const MAX_BUDGET_MS = 24 * 3_600_000;

export class DigestInputError extends Error {}

/**
 * A duration such as "7d", "2w", "36h", "30m", "1h30m" (parse-duration) in ms. A bare number
 * is refused: "30" could be minutes or days.
 */
export function parseDuration(value: string, what: string): number {
  const text = value.trim();
  const ms = /[a-z]/i.test(text) ? parseDurationText(text) : null;
  if (ms === null || !Number.isFinite(ms) || ms <= 0)
    throw new DigestInputError(
      `"${value}" is not a ${what}; write it with a unit, like 7d, 2w, 36h, 30m or 1h30m.`,
    );
  return Math.round(ms);
}

export interface DigestWindow {
  from: number;
  to: number;
  budgetMs: number;
}

/** Resolve a query against `now`: `since` (default 7 days) ending now, or `from`/`to`. */
export function digestWindow(
  query: DigestQuery,
  now: number,
  defaultBudgetMs = DEFAULT_BUDGET_MS,
): DigestWindow {
  if (query.since !== undefined && (query.from !== undefined || query.to !== undefined))
    throw new DigestInputError(
      'Give either a window that ends now (since, like 7d) or from/to dates, not both.',
    );
  let from: number;
  let to: number;
  if (query.from !== undefined || query.to !== undefined) {
    to = query.to !== undefined ? searchDate(query.to, 'to') : now;
    from = query.from !== undefined ? searchDate(query.from, 'from') : to - DEFAULT_WINDOW_MS;
  } else {
    to = now;
    from = to - (query.since !== undefined ? parseDuration(query.since, 'window') : DEFAULT_WINDOW_MS);
  }
  if (!Number.isFinite(from) || !Number.isFinite(to))
    throw new DigestInputError('A date is written YYYY-MM-DD (or as an ISO time).');
  if (to <= from) throw new DigestInputError('The window ends before it starts: give a "from" before "to".');
  if (to - from > MAX_WINDOW_MS)
    throw new DigestInputError('A digest covers at most a year; give a shorter window.');
  const budgetMs =
    query.budget === undefined
      ? defaultBudgetMs
      : typeof query.budget === 'number'
        ? query.budget
        : parseDuration(query.budget, 'listening time');
  if (!(budgetMs > 0) || budgetMs > MAX_BUDGET_MS)
    throw new DigestInputError('The listening time is more than nothing and at most 24h (like 30m or 1h).');
  return { from, to, budgetMs };
}
