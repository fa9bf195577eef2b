import { createHash } from 'node:crypto';
import type { ParsedItem } from './feed-parse.ts';

export type KeySource = 'guid' | 'enclosure' | 'title-date' | 'content-hash';
export type AliasKind = 'guid' | 'enclosure' | 'title-date';

export interface Alias {
  kind: AliasKind;
  value: string;
}

/**
 * An enclosure URL as an identity: scheme and host lower-cased, fragment and query dropped
 * (hosts put expiring tokens and tracking there), so the same file keeps the same key.
 */
export function normalizeEnclosure(url: string): string | undefined {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host.toLowerCase()}${decodeURI(u.pathname)}`;
  } catch {
    return undefined;
  }
}

export function titleDate(item: Pick<ParsedItem, 'title' | 'publishedAt'>): string | undefined {
  const title = item.title?.toLowerCase().replace(/\s+/g, ' ').trim();
  if (!title) return undefined;
  const day =
    item.publishedAt !== undefined ? new Date(item.publishedAt).toISOString().slice(0, 10) : 'undated';
  return `${title}|${day}`;
}

/** Every identity an item offers, strongest first. */
export function aliasesOf(item: ParsedItem): Alias[] {
  const out: Alias[] = item.guids
    .map((g) => ({ kind: 'guid', value: g.trim() }) as Alias)
    .filter((a) => a.value);
  const enc = item.enclosure ? normalizeEnclosure(item.enclosure.url) : undefined;
  if (enc) out.push({ kind: 'enclosure', value: enc });
  const td = titleDate(item);
  if (td) out.push({ kind: 'title-date', value: td });
  return out;
}

export function episodeKey(feedId: number, alias: Alias): string {
  return `f${feedId}-${alias.kind}-${createHash('sha256').update(alias.value).digest('hex').slice(0, 20)}`;
}
