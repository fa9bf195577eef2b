import type { Db } from '../store/db.ts';
import type { EpisodeEntity } from './canonical.ts';
import type { KgRelation, Quote } from './types.ts';

/**
 * The episode's knowledge graph in the library (table kg_relations), written by the understand
 * step's commit inside its transaction, after the entities are merged: the episode's relations
 * (kg.json, local ids) with its entities replaced by the library's (`entity:<id>`), so they can be
 * queried across episodes. Replaced whole each time the episode is understood (idempotent).
 *
 * Stored kinds (source → target):
 * - host-of: person → show (or the episode, when it has no show);
 * - guest-on: person → episode;
 * - mentions: episode → entity, weight = how often it is named (every entity the episode has);
 * - co-occurs: entity → entity (lower id first), weight = sentences naming both;
 * - insight-supports: quote → insight;
 * - about: insight → entity named in its quotes.
 * Each row keeps the quotes that back it (the sentences, the first mentions, the quote).
 */
export type StoredRelationKind =
  'host-of' | 'guest-on' | 'mentions' | 'co-occurs' | 'insight-supports' | 'about';

export const entityNode = (id: number) => `entity:${id}`;
export const episodeNode = (id: number) => `episode:${id}`;
export const showNode = (id: number) => `show:${id}`;
export const insightNode = (episodeId: number, insightId: string) => `insight:${episodeId}:${insightId}`;
export const quoteNode = (episodeId: number, q: Pick<Quote, 'charStart' | 'charEnd'>) =>
  `quote:${episodeId}:${q.charStart}-${q.charEnd}`;

export function projectRelations(
  db: Db,
  episodeId: number,
  feedId: number | null,
  entities: EpisodeEntity[],
  relations: KgRelation[] | undefined,
  mapping: ReadonlyMap<string, number>,
): void {
  db.prepare('DELETE FROM kg_relations WHERE episode_id = ?').run(episodeId);
  const insert = db.prepare(
    `INSERT INTO kg_relations (episode_id, kind, source, target, weight, quotes) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (episode_id, kind, source, target) DO UPDATE SET weight = weight + excluded.weight`,
  );
  const put = (
    kind: StoredRelationKind,
    source: string,
    target: string,
    weight: number,
    quotes: Quote[] = [],
  ) => insert.run(episodeId, kind, source, target, weight, JSON.stringify(quotes));
  const episode = episodeNode(episodeId);
  const entity = (local: string) => {
    const id = mapping.get(local);
    return id === undefined ? null : entityNode(id);
  };
  const byLocal = new Map((relations ?? []).filter((r) => r.type !== 'co-occurs').map((r) => [r.source, r]));
  // Every entity: the episode mentions it; hosts and guests also by role.
  for (const e of entities) {
    const node = entity(e.id);
    if (!node) continue;
    const quotes = byLocal.get(e.id)?.quotes ?? [];
    put('mentions', episode, node, e.mentionCount, quotes);
    if (e.role === 'host') put('host-of', node, feedId === null ? episode : showNode(feedId), 1, quotes);
    else if (e.role === 'guest') put('guest-on', node, episode, 1, quotes);
  }
  for (const r of relations ?? []) {
    if (r.type === 'co-occurs') {
      const a = mapping.get(r.source);
      const b = mapping.get(r.target);
      // Two names of one entity (merged) are not a relation of it with itself.
      if (a === undefined || b === undefined || a === b) continue;
      put('co-occurs', entityNode(Math.min(a, b)), entityNode(Math.max(a, b)), r.count, r.quotes);
    } else if (r.type === 'insight-supports') {
      const q = r.quotes?.[0];
      if (q) put('insight-supports', quoteNode(episodeId, q), insightNode(episodeId, r.target), 1, [q]);
    } else if (r.type === 'about') {
      const node = entity(r.target);
      if (node) put('about', insightNode(episodeId, r.source), node, r.count, r.quotes);
    }
  }
}
