import type { Db } from '../store/db.ts';
import { normalizeName } from './names.ts';
import type { EntityRole, EntityType } from './types.ts';

/**
 * Merging an episode's entities into the library's canonical ones (tables from migration 10).
 * Runs inside the understand step's commit transaction: a few indexed lookups per entity.
 *
 * An episode entity joins a canonical entity, in this order, when:
 * 1. its normalized name or one of its multi-word aliases is a known alias of that type
 *    ("Dr. Lex Fridman", "lex fridman", "Lex Fridman's" are one key);
 * 2. (people, organizations, places) the same key is known under another of those types and the
 *    name has two words or more (the classic tier may type a rare name differently);
 * 3. a single-word person name ("Lex") matches the first or last word of exactly one person
 *    already named in this show's other episodes, else of exactly one person in the library who
 *    is in two or more episodes (co-occurrence with the show stands in for context);
 * 4. an EntityMatcher (an embedding model, when one is active) says it is the same;
 * otherwise it becomes a new canonical entity. Single-word aliases never match across episodes
 * on their own: "Lex" in one show is not evidence about "Lex" in another.
 */
export interface EpisodeEntity {
  id: string;
  name: string;
  type: EntityType;
  role: EntityRole;
  aliases: string[];
  mentionCount: number;
}

/**
 * Hook for similarity by meaning: given a new entity and up to `limit` canonical candidates of
 * its type, return the id of the one it is (or null). Wire an embedding model here when active.
 */
export type EntityMatcher = (
  entity: EpisodeEntity,
  candidates: { id: number; name: string; aliases: string[] }[],
) => number | null;

interface Row {
  id: number;
  name: string;
  aliases: string;
}

const words = (s: string) => s.split(' ').length;

export function mergeEpisodeEntities(
  db: Db,
  episodeId: number,
  feedId: number | null,
  entities: EpisodeEntity[],
  firstMs: Record<string, number | null>,
  now: number,
  matcher?: EntityMatcher,
): Map<string, number> {
  const affected = new Set<number>(
    (
      db.prepare('SELECT entity_id FROM entity_mentions WHERE episode_id = ?').all(episodeId) as {
        entity_id: number;
      }[]
    ).map((r) => r.entity_id),
  );
  db.prepare('DELETE FROM entity_mentions WHERE episode_id = ?').run(episodeId);
  const byAlias = db.prepare(
    'SELECT e.id, e.name, e.aliases FROM entity_aliases a JOIN entities e ON e.id = a.entity_id WHERE a.type = ? AND a.norm = ?',
  );
  const byAliasAnyType = db.prepare(
    `SELECT e.id, e.name, e.aliases FROM entity_aliases a JOIN entities e ON e.id = a.entity_id
     WHERE a.norm = ? AND a.type IN ('person', 'organization', 'place') ORDER BY e.episode_count DESC LIMIT 1`,
  );
  const addAlias = db.prepare(
    'INSERT INTO entity_aliases (type, norm, entity_id) VALUES (?, ?, ?) ON CONFLICT (type, norm) DO NOTHING',
  );
  const insertEntity = db.prepare(
    `INSERT INTO entities (type, name, norm, aliases, created_at, updated_at) VALUES (?, ?, ?, '[]', ?, ?)
     ON CONFLICT (type, norm) DO UPDATE SET updated_at = excluded.updated_at RETURNING id`,
  );
  const insertMention = db.prepare(
    `INSERT INTO entity_mentions (episode_id, entity_id, local_id, name, role, mentions, first_ms)
     VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (episode_id, entity_id) DO UPDATE SET mentions = mentions + excluded.mentions,
       role = CASE WHEN excluded.role != 'mentioned' THEN excluded.role ELSE role END,
       first_ms = min(coalesce(first_ms, excluded.first_ms), coalesce(excluded.first_ms, first_ms))`,
  );
  const mapping = new Map<string, number>();
  for (const e of entities) {
    const norm = normalizeName(e.name);
    if (!norm) continue;
    const keys = [norm, ...e.aliases.map(normalizeName).filter((a) => a && words(a) > 1)];
    let found: Row | undefined;
    for (const k of keys) found ??= byAlias.get(e.type, k) as Row | undefined;
    if (!found && e.type !== 'topic' && words(norm) > 1) found = byAliasAnyType.get(norm) as Row | undefined;
    if (!found && e.type === 'person' && words(norm) === 1)
      found = singleWordPerson(db, norm, feedId, episodeId);
    if (!found && matcher) {
      const candidates = (
        db
          .prepare(
            'SELECT id, name, aliases FROM entities WHERE type = ? ORDER BY episode_count DESC LIMIT 50',
          )
          .all(e.type) as Row[]
      ).map((r) => ({ id: r.id, name: r.name, aliases: JSON.parse(r.aliases) as string[] }));
      const id = matcher(e, candidates);
      if (id !== null) found = candidates.find((c) => c.id === id) as unknown as Row | undefined;
    }
    let id: number;
    if (found) id = found.id;
    else id = (insertEntity.get(e.type, e.name, norm, now, now) as { id: number }).id;
    for (const k of keys) addAlias.run(e.type, k, id);
    if (found) {
      const known = new Set(JSON.parse((found as Row).aliases ?? '[]') as string[]);
      const before = known.size;
      for (const a of [e.name, ...e.aliases]) if (a !== found.name) known.add(a);
      // A fuller name becomes the display name ("Lex" then "Lex Fridman").
      const better = words(normalizeName(e.name)) > words(normalizeName(found.name));
      if (known.size !== before || better) {
        if (better) known.add(found.name);
        db.prepare('UPDATE entities SET aliases = ?, name = ?, updated_at = ? WHERE id = ?').run(
          JSON.stringify([...known].filter((a) => a !== (better ? e.name : found.name)).slice(0, 30)),
          better ? e.name : found.name,
          now,
          id,
        );
      }
    } else if (e.aliases.length > 0) {
      db.prepare('UPDATE entities SET aliases = ? WHERE id = ?').run(
        JSON.stringify(e.aliases.slice(0, 30)),
        id,
      );
    }
    insertMention.run(episodeId, id, e.id, e.name, e.role, e.mentionCount, firstMs[e.id] ?? null);
    mapping.set(e.id, id);
    affected.add(id);
  }
  const recount = db.prepare(
    `UPDATE entities SET
       episode_count = (SELECT count(*) FROM entity_mentions WHERE entity_id = entities.id),
       mention_count = (SELECT coalesce(sum(mentions), 0) FROM entity_mentions WHERE entity_id = entities.id),
       updated_at = ?
     WHERE id = ?`,
  );
  const dropOrphan = db.prepare(
    'DELETE FROM entities WHERE id = ? AND NOT EXISTS (SELECT 1 FROM entity_mentions WHERE entity_id = ?)',
  );
  for (const id of affected) {
    recount.run(now, id);
    dropOrphan.run(id, id);
  }
  return mapping;
}

function singleWordPerson(db: Db, norm: string, feedId: number | null, episodeId: number): Row | undefined {
  const pattern = (rows: Row[]) =>
    rows.filter((r) => {
      const w = normalizeName(r.name).split(' ');
      return w.length > 1 && (w[0] === norm || w[w.length - 1] === norm);
    });
  if (feedId !== null) {
    const sameShow = pattern(
      db
        .prepare(
          `SELECT DISTINCT e.id, e.name, e.aliases FROM entities e
           JOIN entity_mentions m ON m.entity_id = e.id JOIN episodes ep ON ep.id = m.episode_id
           WHERE e.type = 'person' AND ep.feed_id = ? AND ep.id != ?`,
        )
        .all(feedId, episodeId) as Row[],
    );
    if (sameShow.length === 1) return sameShow[0];
    if (sameShow.length > 1) return undefined;
  }
  const library = pattern(
    db
      .prepare(
        `SELECT id, name, aliases FROM entities WHERE type = 'person' AND episode_count >= 2 AND norm LIKE ? ESCAPE '\\'`,
      )
      .all(`%${norm.replace(/[%_\\]/g, (c) => `\\${c}`)}%`) as Row[],
  );
  return library.length === 1 ? library[0] : undefined;
}
