import type { Db } from '../store/db.ts';
import { normalizeName } from './names.ts';
import type { EntityType, KgEntity } from './types.ts';
import type { EntityMatch } from './entity-match.ts';

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
 * 4. an EntityMatcher says it is the same: the understand step's proposals from name embeddings
 *    when an embedding model is active (entity-match.ts). It is also asked when rules 1-3 found
 *    only an entity that no other episode mentions any more (this episode's own from an earlier
 *    run), so a re-run with a model can merge what a run without one kept apart;
 * otherwise it becomes a new canonical entity. Single-word aliases never match across episodes
 * on their own: "Lex" in one show is not evidence about "Lex" in another.
 *
 * A merge by meaning leaves no trace but the episode's mention: no alias row and no display name
 * or alias change on the entity. So a re-run without the model, or with another one, decides
 * afresh, and no merge outlives the model that made it. (`entities` lists the names episodes
 * used from the mentions.)
 */
export type EpisodeEntity = Omit<KgEntity, 'mentions'>;

/** An episode's entity without its mention spans (what the step records and merges). */
export function episodeEntity(e: KgEntity): EpisodeEntity {
  return {
    id: e.id,
    name: e.name,
    type: e.type,
    role: e.role,
    aliases: e.aliases,
    mentionCount: e.mentionCount,
  };
}

/**
 * Hook for similarity by meaning: which entity an episode entity is (or null). Its answer is
 * checked: the entity must exist, be of the same type and still carry the name compared.
 */
export type EntityMatcher = (entity: EpisodeEntity) => EntityMatch | null;

/** The matcher for the understand step's proposals (by the episode entity's local id). */
export function proposalMatcher(proposals: Readonly<Record<string, EntityMatch>>): EntityMatcher {
  return (entity) => (Object.hasOwn(proposals, entity.id) ? proposals[entity.id]! : null);
}

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
  const mentioned = db.prepare('SELECT EXISTS (SELECT 1 FROM entity_mentions WHERE entity_id = ?)').pluck();
  for (const e of entities) {
    const norm = normalizeName(e.name);
    if (!norm) continue;
    const keys = [norm, ...e.aliases.map(normalizeName).filter((a) => a && words(a) > 1)];
    let found: Row | undefined;
    for (const k of keys) found ??= byAlias.get(e.type, k) as Row | undefined;
    if (!found && e.type !== 'topic' && words(norm) > 1) found = byAliasAnyType.get(norm) as Row | undefined;
    if (!found && e.type === 'person' && words(norm) === 1)
      found = singleWordPerson(db, norm, feedId, episodeId);
    let byMeaning = false;
    if (matcher && (!found || !mentioned.get(found.id))) {
      const m = matcher(e);
      const hit = m ? checkedMatch(db, m, e.type, mapping) : undefined;
      if (hit && hit.id !== found?.id) {
        found = hit;
        byMeaning = true;
      }
    }
    let id: number;
    if (found) id = found.id;
    else id = (insertEntity.get(e.type, e.name, norm, now, now) as { id: number }).id;
    insertMention.run(episodeId, id, e.id, e.name, e.role, e.mentionCount, firstMs[e.id] ?? null);
    mapping.set(e.id, id);
    affected.add(id);
    if (byMeaning) continue;
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

/** The entity a proposal names, if it still is that entity: same type, and the name compared is its name or alias. */
function checkedMatch(
  db: Db,
  m: EntityMatch,
  type: EntityType,
  mapping: ReadonlyMap<string, number>,
): Row | undefined {
  const id = m.canonicalId ?? (m.localId !== null ? mapping.get(m.localId) : undefined);
  if (id === undefined) return undefined;
  const row = db.prepare('SELECT id, name, aliases FROM entities WHERE id = ? AND type = ?').get(id, type) as
    Row | undefined;
  if (!row) return undefined;
  // A local match points at whatever its earlier entity became this run: nothing more to check.
  if (m.canonicalId === null) return row;
  const want = normalizeName(m.matchedName);
  const names = [row.name, ...(JSON.parse(row.aliases) as string[])];
  return names.some((n) => normalizeName(n) === want) ? row : undefined;
}
