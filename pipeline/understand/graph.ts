import fs from 'node:fs';
import type { Db } from '../store/db.ts';
import type {
  EntityKind,
  GraphEdgeKind,
  GraphEdgeView,
  GraphNodeView,
  GraphQuery,
  GraphView,
} from '../api/contract.ts';
import { NotUnderstood } from './read.ts';
import { entityNode, episodeNode, insightNode, showNode } from './relations.ts';
import type { GiDoc, Quote } from './types.ts';

/**
 * Reads behind `graph`: the relations the understand step stored (kg_relations, relations.ts),
 * across the library, around one entity, or in one episode. Entity nodes are sized by the
 * episodes that name them; edges sum their weights over the episodes that back them.
 */
const ALL_TYPES: EntityKind[] = ['person', 'organization', 'place', 'topic'];
const DEFAULT_LIMIT = 500;
/** Edges kept per node at most (the heaviest), so a large graph stays readable. */
const EDGES_PER_NODE = 6;

interface EntityRow {
  id: number;
  type: EntityKind;
  name: string;
  episodes: number;
  mentions: number;
}

interface EdgeRow {
  source: string;
  target: string;
  kind: GraphEdgeKind;
  weight: number;
  episodes: number;
}

const inList = (n: number) => Array.from({ length: n }, () => '?').join(', ');

function entityView(r: EntityRow): GraphNodeView {
  return { id: entityNode(r.id), type: r.type, label: r.name, episodes: r.episodes, entityId: r.id };
}

export function graph(db: Db, q: GraphQuery = {}): GraphView {
  if (q.episodeId !== undefined) return episodeGraph(db, q.episodeId);
  if (q.entityId !== undefined) return entityGraph(db, q.entityId, q);
  return libraryGraph(db, q);
}

/** Nodes with fewer edges than `minDegree` out, the `limit` in most episodes kept, edges among them. */
function finish(
  nodes: GraphNodeView[],
  edges: GraphEdgeView[],
  q: GraphQuery,
  focus: string | null,
  rank: (n: GraphNodeView) => number,
): GraphView {
  let kept = new Map(nodes.map((n) => [n.id, n]));
  let live = edges.filter((e) => kept.has(e.source) && kept.has(e.target));
  if ((q.minDegree ?? 0) > 0) {
    const degree = new Map<string, number>();
    for (const e of live) {
      degree.set(e.source, (degree.get(e.source) ?? 0) + 1);
      degree.set(e.target, (degree.get(e.target) ?? 0) + 1);
    }
    kept = new Map([...kept].filter(([id]) => id === focus || (degree.get(id) ?? 0) >= q.minDegree!));
    live = live.filter((e) => kept.has(e.source) && kept.has(e.target));
  }
  const matched = kept.size;
  const chosen = [...kept.values()]
    .sort((x, y) =>
      x.id === focus ? -1 : y.id === focus ? 1 : rank(y) - rank(x) || x.label.localeCompare(y.label),
    )
    .slice(0, q.limit ?? DEFAULT_LIMIT);
  const ids = new Set(chosen.map((n) => n.id));
  live = live
    .filter((e) => ids.has(e.source) && ids.has(e.target))
    .sort(
      (x, y) => y.weight - x.weight || x.source.localeCompare(y.source) || x.target.localeCompare(y.target),
    )
    .slice(0, Math.max(50, chosen.length * EDGES_PER_NODE));
  return { nodes: chosen, edges: live, focus, matched };
}

/**
 * The library's entities (sized by episodes), how often they are named together, and the shows
 * their hosts host (host-of) and their guests were on (guest-on, summed over the show's episodes).
 */
function libraryGraph(db: Db, q: GraphQuery): GraphView {
  const types = q.types?.length ? q.types : ALL_TYPES;
  const feed = q.feedId ?? null;
  const entities = (
    feed === null
      ? db
          .prepare(
            `SELECT id, type, name, episode_count AS episodes, mention_count AS mentions FROM entities
             WHERE episode_count > 0 AND type IN (${inList(types.length)})`,
          )
          .all(...types)
      : db
          .prepare(
            `SELECT e.id, e.type, e.name, count(*) AS episodes, sum(m.mentions) AS mentions
             FROM entity_mentions m JOIN episodes ep ON ep.id = m.episode_id JOIN entities e ON e.id = m.entity_id
             WHERE ep.feed_id = ? AND e.type IN (${inList(types.length)}) GROUP BY e.id`,
          )
          .all(feed, ...types)
  ) as EntityRow[];
  const mentions = new Map(entities.map((e) => [entityNode(e.id), e.mentions]));
  const nodes = entities.map(entityView);
  const inFeed = feed === null ? '' : ' AND episode_id IN (SELECT id FROM episodes WHERE feed_id = ?)';
  const edges = db
    .prepare(
      `SELECT source, target, kind, sum(weight) AS weight, count(*) AS episodes FROM kg_relations
       WHERE kind IN ('co-occurs', 'host-of')${inFeed} GROUP BY kind, source, target`,
    )
    .all(...(feed === null ? [] : [feed])) as EdgeRow[];
  // A guest is drawn beside the show they were a guest on (in the library, episodes are not nodes).
  edges.push(
    ...(db
      .prepare(
        `SELECT r.source, 'show:' || ep.feed_id AS target, 'guest-on' AS kind, sum(r.weight) AS weight,
                count(*) AS episodes
         FROM kg_relations r JOIN episodes ep ON ep.id = r.episode_id
         WHERE r.kind = 'guest-on' AND ep.feed_id IS NOT NULL AND (? IS NULL OR ep.feed_id = ?)
         GROUP BY r.source, ep.feed_id`,
      )
      .all(feed, feed) as EdgeRow[]),
  );
  // The shows their hosts and guests take part in.
  const hosted = new Set(edges.filter((e) => e.kind !== 'co-occurs').map((e) => e.target));
  if (types.includes('person') && hosted.size > 0) {
    const shows = db
      .prepare(
        `SELECT f.id, f.title, (SELECT count(*) FROM episodes ep WHERE ep.feed_id = f.id
           AND EXISTS (SELECT 1 FROM kg_relations r WHERE r.episode_id = ep.id)) AS episodes
         FROM feeds f WHERE ? IS NULL OR f.id = ?`,
      )
      .all(feed, feed) as { id: number; title: string | null; episodes: number }[];
    for (const s of shows)
      if (hosted.has(showNode(s.id)))
        nodes.push({
          id: showNode(s.id),
          type: 'show',
          label: s.title ?? 'Untitled show',
          episodes: s.episodes,
        });
  }
  return finish(nodes, edges, q, null, (n) => n.episodes * 1e6 + (mentions.get(n.id) ?? 0));
}

/** One entity, the entities named with it (heaviest first), and the episodes that name it. */
function entityGraph(db: Db, entityId: number, q: GraphQuery): GraphView {
  const center = db
    .prepare(
      'SELECT id, type, name, episode_count AS episodes, mention_count AS mentions FROM entities WHERE id = ?',
    )
    .get(entityId) as EntityRow | undefined;
  if (!center)
    throw new NotUnderstood(
      `There is no entity ${entityId}; \`earshot entities\` lists them (an entity no episode names any more is removed).`,
    );
  const focus = entityNode(entityId);
  const feed = q.feedId ?? null;
  const types = q.types?.length ? q.types : ALL_TYPES;
  const inFeed = feed === null ? '' : ' AND episode_id IN (SELECT id FROM episodes WHERE feed_id = ?)';
  const feedArgs = feed === null ? [] : [feed];
  const around = db
    .prepare(
      `SELECT source, target, kind, sum(weight) AS weight, count(*) AS episodes FROM kg_relations
       WHERE kind = 'co-occurs' AND (source = ? OR target = ?)${inFeed} GROUP BY source, target`,
    )
    .all(focus, focus, ...feedArgs) as EdgeRow[];
  const neighbourIds = around.map((e) =>
    Number((e.source === focus ? e.target : e.source).slice('entity:'.length)),
  );
  const neighbours = neighbourIds.length
    ? (db
        .prepare(
          `SELECT id, type, name, episode_count AS episodes, mention_count AS mentions FROM entities
           WHERE id IN (SELECT value FROM json_each(?)) AND type IN (${inList(types.length)})`,
        )
        .all(JSON.stringify(neighbourIds), ...types) as EntityRow[])
    : [];
  const weightOf = new Map(around.map((e) => [e.source === focus ? e.target : e.source, e.weight]));
  const nodes: GraphNodeView[] = [entityView(center), ...neighbours.map(entityView)];
  const edges: GraphEdgeView[] = [...around];
  // Between the neighbours too, so the picture shows who goes with whom.
  if (neighbours.length > 1) {
    const list = JSON.stringify(neighbours.map((n) => entityNode(n.id)));
    edges.push(
      ...(db
        .prepare(
          `SELECT source, target, kind, sum(weight) AS weight, count(*) AS episodes FROM kg_relations
           WHERE kind = 'co-occurs' AND source IN (SELECT value FROM json_each(?))
             AND target IN (SELECT value FROM json_each(?))${inFeed} GROUP BY source, target`,
        )
        .all(list, list, ...feedArgs) as EdgeRow[]),
    );
  }
  // The episodes that name it (newest first), and its part in each.
  const episodes = db
    .prepare(
      `SELECT m.episode_id, ep.title, ep.feed_id, f.title AS feed_title, m.role, m.mentions, m.first_ms
       FROM entity_mentions m JOIN episodes ep ON ep.id = m.episode_id LEFT JOIN feeds f ON f.id = ep.feed_id
       WHERE m.entity_id = ? AND (? IS NULL OR ep.feed_id = ?)
       ORDER BY ep.published_at DESC NULLS LAST, ep.id DESC LIMIT 100`,
    )
    .all(entityId, feed, feed) as {
    episode_id: number;
    title: string | null;
    feed_id: number | null;
    feed_title: string | null;
    role: 'host' | 'guest' | 'mentioned';
    mentions: number;
    first_ms: number | null;
  }[];
  const shows = new Map<number, { title: string | null; n: number }>();
  for (const e of episodes) {
    const node = episodeNode(e.episode_id);
    nodes.push({
      id: node,
      type: 'episode',
      label: e.title ?? 'Untitled episode',
      episodes: 1,
      episodeId: e.episode_id,
      startMs: e.first_ms,
      role: e.role,
    });
    edges.push({ source: node, target: focus, kind: 'mentions', weight: e.mentions, episodes: 1 });
    if (e.role === 'guest')
      edges.push({ source: focus, target: node, kind: 'guest-on', weight: 1, episodes: 1 });
    if (e.role === 'host' && e.feed_id !== null) {
      const s = shows.get(e.feed_id) ?? { title: e.feed_title, n: 0 };
      s.n++;
      shows.set(e.feed_id, s);
    }
  }
  for (const [id, s] of shows) {
    nodes.push({ id: showNode(id), type: 'show', label: s.title ?? 'Untitled show', episodes: s.n });
    edges.push({ source: focus, target: showNode(id), kind: 'host-of', weight: s.n, episodes: s.n });
  }
  // Neighbours by how often they are named with it; then episodes; then shows.
  const order = { episode: 1, show: 2 } as Record<string, number>;
  return finish(nodes, edges, q, focus, (n) =>
    n.type === 'episode' || n.type === 'show' ? -order[n.type]! : 1e6 + (weightOf.get(n.id) ?? 0),
  );
}

/** One episode: its entities, its insights and the quotes that support them, and how they relate. */
function episodeGraph(db: Db, episodeId: number): GraphView {
  const ep = db
    .prepare(
      `SELECT ep.id, ep.title, ep.status, ep.feed_id, f.title AS feed_title FROM episodes ep
       LEFT JOIN feeds f ON f.id = ep.feed_id WHERE ep.id = ?`,
    )
    .get(episodeId) as
    | { id: number; title: string | null; status: string; feed_id: number | null; feed_title: string | null }
    | undefined;
  if (!ep) throw new NotUnderstood(`There is no episode ${episodeId}; \`earshot episodes\` lists them.`);
  const rows = db
    .prepare('SELECT kind, source, target, weight, quotes FROM kg_relations WHERE episode_id = ?')
    .all(episodeId) as {
    kind: GraphEdgeKind;
    source: string;
    target: string;
    weight: number;
    quotes: string;
  }[];
  if (rows.length === 0)
    throw new NotUnderstood(
      `Episode ${episodeId} has no knowledge graph yet (it is ${ep.status}). \`earshot process ${episodeId}\` queues it; \`earshot status\` shows the progress.`,
    );
  const focus = episodeNode(episodeId);
  const nodes = new Map<string, GraphNodeView>([
    [focus, { id: focus, type: 'episode', label: ep.title ?? 'Untitled episode', episodes: 1, episodeId }],
  ]);
  const entities = new Map(
    (
      db
        .prepare(
          `SELECT e.id, e.type, e.name, e.episode_count AS episodes, e.mention_count AS mentions, m.role
           FROM entity_mentions m JOIN entities e ON e.id = m.entity_id WHERE m.episode_id = ?`,
        )
        .all(episodeId) as (EntityRow & { role: 'host' | 'guest' | 'mentioned' })[]
    ).map((r) => [entityNode(r.id), r]),
  );
  const insights = new Map(readInsights(db, episodeId).map((i) => [insightNode(episodeId, i.id), i]));
  const node = (id: string, quotes: Quote[]): GraphNodeView | null => {
    const e = entities.get(id);
    if (e) return { ...entityView(e), role: e.role };
    if (id.startsWith('show:') && ep.feed_id !== null)
      return { id, type: 'show', label: ep.feed_title ?? 'Untitled show', episodes: 1 };
    if (id.startsWith('insight:')) {
      const i = insights.get(id);
      return {
        id,
        type: 'insight',
        label: i?.text ?? 'An insight',
        episodes: 1,
        episodeId,
        startMs: i?.quotes[0]?.startMs ?? null,
      };
    }
    if (id.startsWith('quote:')) {
      const q = quotes[0];
      return { id, type: 'quote', label: q?.text ?? '', episodes: 1, episodeId, startMs: q?.startMs ?? null };
    }
    return null;
  };
  const edges: GraphEdgeView[] = [];
  for (const r of rows) {
    const quotes = JSON.parse(r.quotes) as Quote[];
    for (const id of [r.source, r.target])
      if (!nodes.has(id)) {
        const n = node(id, quotes);
        if (n) nodes.set(id, n);
      }
    if (nodes.has(r.source) && nodes.has(r.target))
      edges.push({ source: r.source, target: r.target, kind: r.kind, weight: r.weight, episodes: 1 });
  }
  const order: Record<string, number> = {
    episode: 5,
    show: 4,
    insight: 3,
    person: 2,
    organization: 2,
    place: 2,
    topic: 2,
    quote: 1,
  };
  return finish([...nodes.values()], edges, { limit: 5000 }, focus, (n) => order[n.type]! * 1e6 + n.episodes);
}

function readInsights(db: Db, episodeId: number): GiDoc['insights'] {
  const file = db
    .prepare(`SELECT path FROM artifacts WHERE episode_id = ? AND kind = 'gi'`)
    .pluck()
    .get(episodeId) as string | undefined;
  if (!file) return [];
  try {
    return (JSON.parse(fs.readFileSync(file, 'utf8')) as GiDoc).insights;
  } catch {
    // The labels are a nicety: the graph stands without them.
    return [];
  }
}
