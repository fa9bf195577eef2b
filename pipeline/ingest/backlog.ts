import { IngestError } from './errors.ts';
import { impossibleDay } from '../dates.ts';

/** Which episodes of a new subscription are processed; the rest are listed only. */
export type Backlog =
  { kind: 'new' } | { kind: 'all' } | { kind: 'last'; n: number } | { kind: 'since'; date: number };

export const DEFAULT_BACKLOG = 'last:3';

export function parseBacklog(spec: string): Backlog {
  const s = spec.trim();
  if (s === 'new') return { kind: 'new' };
  if (s === 'all') return { kind: 'all' };
  const last = /^last:(\d+)$/.exec(s);
  if (last) return { kind: 'last', n: Number(last[1]) };
  const since = /^since:(\d{4}-\d{2}-\d{2})$/.exec(s);
  if (since) {
    const impossible = impossibleDay(since[1]!);
    if (impossible)
      throw new IngestError('BAD_BACKLOG', `${impossible} Use since:YYYY-MM-DD with a real day.`);
    const date = Date.parse(`${since[1]}T00:00:00Z`);
    if (Number.isFinite(date)) return { kind: 'since', date };
  }
  throw new IngestError(
    'BAD_BACKLOG',
    `"${spec}" is not a backlog policy; use new, all, last:N (e.g. last:3) or since:YYYY-MM-DD.`,
  );
}

export function formatBacklog(b: Backlog): string {
  if (b.kind === 'last') return `last:${b.n}`;
  if (b.kind === 'since') return `since:${new Date(b.date).toISOString().slice(0, 10)}`;
  return b.kind;
}

/**
 * On the first fetch: which of these episodes (newest first by publication date) fall inside
 * the policy. On later refreshes every new episode is inside, except before a `since` date.
 */
export function insidePolicy(
  b: Backlog,
  episode: { publishedAt: number | null; rank: number },
  context: { firstFetch: boolean; subscribedAt: number },
): boolean {
  switch (b.kind) {
    case 'all':
      return true;
    case 'since':
      return episode.publishedAt !== null && episode.publishedAt >= b.date;
    case 'new':
      return context.firstFetch
        ? episode.publishedAt !== null && episode.publishedAt > context.subscribedAt
        : true;
    case 'last':
      return context.firstFetch ? episode.rank < b.n : true;
  }
}
