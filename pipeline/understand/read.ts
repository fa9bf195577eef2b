import fs from 'node:fs';
import type { Db } from '../store/db.ts';
import type { GiDoc, KgDoc, SummaryDoc } from './types.ts';
import { episodeEntity } from './canonical.ts';
import type {
  CanonicalEntityDetailView,
  CanonicalEntityView,
  EpisodeUnderstandingView,
} from '../api/contract.ts';

/** Reads behind `show` and `entities`: the artifacts an episode's commit recorded, and the canonical entities. */
export class NotUnderstood extends Error {}

function readJson<T>(file: string): T {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}

export function episodeUnderstanding(db: Db, episodeId: number): EpisodeUnderstandingView {
  const ep = db.prepare('SELECT id, title, status FROM episodes WHERE id = ?').get(episodeId) as
    { id: number; title: string | null; status: string } | undefined;
  if (!ep) throw new NotUnderstood(`There is no episode ${episodeId}; \`earshot episodes\` lists them.`);
  const arts = new Map(
    (
      db
        .prepare(`SELECT kind, path FROM artifacts WHERE episode_id = ? AND kind IN ('summary', 'gi', 'kg')`)
        .all(episodeId) as { kind: string; path: string }[]
    ).map((r) => [r.kind, r.path]),
  );
  if (arts.size < 3)
    throw new NotUnderstood(
      `Episode ${episodeId} has no summary yet (it is ${ep.status}). \`earshot process ${episodeId}\` queues it; \`earshot status\` shows the progress.`,
    );
  let summary: SummaryDoc;
  let gi: GiDoc;
  let kg: KgDoc;
  try {
    summary = readJson<SummaryDoc>(arts.get('summary')!);
    gi = readJson<GiDoc>(arts.get('gi')!);
    kg = readJson<KgDoc>(arts.get('kg')!);
  } catch (err) {
    throw new NotUnderstood(
      `The understanding files of episode ${episodeId} cannot be read (${(err as Error).message}). \`earshot retry\` with --from-step understand makes them again.`,
    );
  }
  const canonical = new Map(
    (
      db
        .prepare(
          `SELECT m.local_id, e.id, e.episode_count FROM entity_mentions m JOIN entities e ON e.id = m.entity_id
           WHERE m.episode_id = ?`,
        )
        .all(episodeId) as { local_id: string; id: number; episode_count: number }[]
    ).map((r) => [r.local_id, r]),
  );
  return {
    episodeId,
    title: ep.title,
    tier: summary.tier,
    modelId: summary.modelId,
    promptVersion: summary.promptVersion,
    schemaVersion: summary.schemaVersion,
    transcriptSha256: summary.transcriptSha256,
    summary: { abstract: summary.abstract, keyPoints: summary.keyPoints },
    insights: gi.insights,
    entities: kg.entities.map((e) => ({
      ...episodeEntity(e),
      firstMs: e.mentions[0]?.startMs ?? null,
      canonicalId: canonical.get(e.id)?.id ?? null,
      episodeCount: canonical.get(e.id)?.episode_count ?? 1,
    })),
    relations: kg.relations,
  };
}

export function canonicalEntities(
  db: Db,
  query: { limit?: number; type?: CanonicalEntityView['type'] } = {},
): CanonicalEntityView[] {
  const rows = db
    .prepare(
      `SELECT ${ENTITY_COLUMNS} FROM entities
       WHERE (? IS NULL OR type = ?) AND episode_count > 0
       ORDER BY episode_count DESC, mention_count DESC, name LIMIT ?`,
    )
    .all(query.type ?? null, query.type ?? null, query.limit ?? 100) as EntityRow[];
  return rows.map(entityView);
}

// The names episodes used are aliases too: a merge by meaning (canonical.ts) records only those.
const ENTITY_COLUMNS = `id, type, name, aliases, episode_count, mention_count,
  (SELECT json_group_array(DISTINCT m.name) FROM entity_mentions m WHERE m.entity_id = entities.id) AS said`;

interface EntityRow {
  id: number;
  type: CanonicalEntityView['type'];
  name: string;
  aliases: string;
  episode_count: number;
  mention_count: number;
  said: string;
}

function entityView(r: EntityRow): CanonicalEntityView {
  const aliases = [...(JSON.parse(r.aliases) as string[]), ...(JSON.parse(r.said) as string[])];
  return {
    id: r.id,
    type: r.type,
    name: r.name,
    aliases: [...new Set(aliases)].filter((a) => a !== r.name),
    episodeCount: r.episode_count,
    mentionCount: r.mention_count,
  };
}

/** One library entity and the episodes that name it, newest first. */
export function canonicalEntity(db: Db, id: number): CanonicalEntityDetailView {
  const row = db.prepare(`SELECT ${ENTITY_COLUMNS} FROM entities WHERE id = ?`).get(id) as
    EntityRow | undefined;
  if (!row)
    throw new NotUnderstood(
      `There is no entity ${id}; \`earshot entities\` lists them (an entity no episode names any more is removed).`,
    );
  const episodes = db
    .prepare(
      `SELECT m.episode_id, ep.title, ep.feed_id, f.title AS feed_title, ep.published_at, m.name, m.role,
              m.mentions, m.first_ms
       FROM entity_mentions m JOIN episodes ep ON ep.id = m.episode_id LEFT JOIN feeds f ON f.id = ep.feed_id
       WHERE m.entity_id = ? ORDER BY ep.published_at DESC NULLS LAST, ep.id DESC`,
    )
    .all(id) as {
    episode_id: number;
    title: string | null;
    feed_id: number | null;
    feed_title: string | null;
    published_at: number | null;
    name: string;
    role: CanonicalEntityDetailView['episodes'][number]['role'];
    mentions: number;
    first_ms: number | null;
  }[];
  return {
    ...entityView(row),
    episodes: episodes.map((e) => ({
      episodeId: e.episode_id,
      title: e.title,
      feedId: e.feed_id,
      feedTitle: e.feed_title,
      publishedAt: e.published_at,
      name: e.name,
      role: e.role,
      mentions: e.mentions,
      firstMs: e.first_ms,
    })),
  };
}
