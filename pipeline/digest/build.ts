import type { Db } from '../store/db.ts';
import type {
  DigestEntityView,
  DigestEpisodeView,
  DigestInsightView,
  DigestStoryView,
  DigestView,
  EpisodeUnderstandingView,
  InsightKind,
  RisingEntityView,
} from '../api/contract.ts';
import { episodeUnderstanding, NotUnderstood } from '../understand/read.ts';
import { activeEmbeddingModel } from '../search/store.ts';
import { averageLinkage } from './cluster.ts';
import {
  centeringExtras,
  EMBEDDING_THRESHOLD,
  embeddingSimilarity,
  episodeVectors,
  isTopical,
  KEYWORD_THRESHOLD,
  keywordSimilarity,
  MIN_CENTERING_SAMPLE,
  nameKey,
  regulars,
  windowMentions,
  type FeatureEpisode,
} from './similarity.ts';
import { loadTimeline, pickPlaylist, type Timeline } from './playlist.ts';

/**
 * A digest of a window of the library: the window's understood episodes grouped into stories
 * (by meaning with an embedding model, else by shared names and words), each with its best
 * grounded insights and the entities involved; the people and topics rising against the window
 * before; and a playlist that fits the listening time. Groups by the library's entity mentions
 * (one query for the window) and reads the stories shown through pipeline/understand/read.ts,
 * so whatever improves understanding improves the digest.
 */
export const DIGEST_SCHEMA_VERSION = 1;
export const MAX_STORIES = 20;
const INSIGHTS_PER_STORY = 4;
const INSIGHTS_PER_EPISODE = 2;
const ENTITIES_PER_STORY = 8;
const RISING_PER_KIND = 8;

export interface DigestOptions {
  from: number;
  to: number;
  budgetMs: number;
  /** When it is made (generatedAt). */
  now: number;
}

interface WindowEpisode extends DigestEpisodeView {
  understood: boolean;
}

function windowEpisodes(db: Db, from: number, to: number): WindowEpisode[] {
  return (
    db
      .prepare(
        `SELECT e.id, e.title, e.feed_id, f.title AS feed_title, e.published_at, e.duration_ms,
                (SELECT count(*) FROM artifacts a WHERE a.episode_id = e.id AND a.kind IN ('summary', 'gi', 'kg')) = 3
                  AS understood
           FROM episodes e LEFT JOIN feeds f ON f.id = e.feed_id
          WHERE e.published_at >= ? AND e.published_at < ?
          ORDER BY e.published_at DESC, e.id DESC`,
      )
      .all(from, to) as {
      id: number;
      title: string | null;
      feed_id: number | null;
      feed_title: string | null;
      published_at: number | null;
      duration_ms: number | null;
      understood: number;
    }[]
  ).map((r) => ({
    episodeId: r.id,
    title: r.title,
    feedId: r.feed_id,
    feedTitle: r.feed_title,
    publishedAt: r.published_at,
    durationMs: r.duration_ms,
    understood: r.understood === 1,
  }));
}

const TYPE_WEIGHT: Record<InsightKind, number> = {
  claim: 1,
  recommendation: 1,
  observation: 0.7,
  question: 0.4,
};

/** `padded` is " text ": a whole-word (or whole-phrase) match. */
const contains = (padded: string, needle: string) => needle.length > 0 && padded.includes(` ${needle} `);
/** Case, diacritics and punctuation aside (one pass of regular expressions: this runs on every insight). */
const norm = (text: string) =>
  text
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();

/**
 * How much an insight is worth putting in front of a reader: its kind, whether it names what
 * the story is about (in its text or its quote: the text may name a thing the quote calls by a
 * shorter name, "Powell"), and not being the show's greeting or sign-off. The last two are read
 * in the quote alone, which is what the listener hears: an insight's text may say who said it
 * ("Lena Ortiz asks Jonah Reyes: …", "Dev Shah on NASA"), and a host asking or saying something
 * is no greeting; a greeting or sign-off is said, and names the show or its host ("Welcome to
 * Starlight, I'm Lena Ortiz", "That's the Morning Brief for today").
 */
export function insightScore(
  insight: { type: InsightKind; text: string; quote: string },
  storyNames: string[],
  show: string | null,
  hosts: string[],
): number {
  const said = ` ${norm(insight.quote)} `;
  const either = ` ${norm(insight.text)}${said}`;
  let score = TYPE_WEIGHT[insight.type];
  score += 0.4 * Math.min(3, storyNames.filter((n) => contains(either, n)).length);
  if ((show && contains(said, show)) || hosts.some((h) => contains(said, h))) score -= 1;
  if (said.trim().split(' ').length < 6) score -= 0.3;
  return score;
}

interface Member extends FeatureEpisode {
  episode: WindowEpisode;
}

/** Its summary, insights and graph (read.ts); null when they cannot be read. */
function understandingOf(db: Db, episodeId: number): EpisodeUnderstandingView | null {
  try {
    return episodeUnderstanding(db, episodeId);
  } catch (err) {
    if (err instanceof NotUnderstood) return null;
    throw err;
  }
}

function storyOf(
  db: Db,
  id: string,
  members: Member[],
  centrality: number[],
  regular: Set<string>,
): DigestStoryView {
  const order = members.map((m, i) => ({ m, c: centrality[i]! }));
  order.sort(
    (a, b) =>
      b.c - a.c ||
      (b.m.episode.publishedAt ?? 0) - (a.m.episode.publishedAt ?? 0) ||
      a.m.episodeId - b.m.episodeId,
  );
  // Entities by the name they are compared by; a name's display and id come from its most-mentioned use.
  const names = new Map<
    string,
    { entity: DigestEntityView; episodes: Set<number>; weight: number; best: number }
  >();
  for (const { m } of order) {
    for (const e of m.entities) {
      if (!isTopical(e, m.feedId, regular)) continue;
      const key = nameKey(e.name);
      if (!key) continue;
      let held = names.get(key);
      if (!held) {
        held = {
          entity: { entityId: e.canonicalId, name: e.name, type: e.type, episodes: 0 },
          episodes: new Set(),
          weight: 0,
          best: -1,
        };
        names.set(key, held);
      }
      held.episodes.add(m.episodeId);
      held.weight += 1 + Math.log(Math.max(1, e.mentionCount));
      if (e.mentionCount > held.best) {
        held.best = e.mentionCount;
        held.entity = { entityId: e.canonicalId, name: e.name, type: e.type, episodes: 0 };
      }
    }
  }
  const ranked = [...names.entries()]
    .map(([key, h]) => ({ key, entity: { ...h.entity, episodes: h.episodes.size }, weight: h.weight }))
    .sort(
      (a, b) => b.entity.episodes - a.entity.episodes || b.weight - a.weight || a.key.localeCompare(b.key),
    );
  const shared = ranked.filter((r) => r.entity.episodes >= 2 && r.entity.type !== 'place');
  const lead = order[0]!.m.episode;
  // The title names who and what first: a person, an organization or a named topic
  // ("Perseverance") before a key phrase the episodes share ("sample", "inflation").
  const isName = (r: (typeof shared)[number]) => r.entity.type !== 'topic' || /\p{Lu}/u.test(r.entity.name);
  const candidates = [...shared.filter(isName), ...shared.filter((r) => !isName(r))];
  // Two names for the title, not one name twice ("Federal Reserve" and "Fed").
  const titled = candidates.filter(
    (r, i) => i === 0 || !(r.key.startsWith(candidates[0]!.key) || candidates[0]!.key.startsWith(r.key)),
  );
  const title =
    members.length > 1 && titled.length > 0
      ? titled
          .slice(0, 2)
          .map((r) => r.entity.name)
          .join(' and ')
      : (lead.title ?? 'Untitled episode');
  const storyNames = (shared.length > 0 ? shared : ranked).slice(0, 6).map((r) => r.key);

  // Each episode's grounded insights, best first; then round by round, one per episode.
  const perEpisode = order.map(({ m }) => {
    const show = m.episode.feedTitle ? norm(m.episode.feedTitle) : null;
    // The show's own people: its greeting and sign-off name them ("I'm Kim Alvarez, our reporter").
    const hosts = m.entities
      .filter((e) => e.type === 'person' && !isTopical(e, m.feedId, regular))
      .flatMap((e) => {
        const full = norm(e.name);
        return [full, full.split(' ')[0]!];
      });
    return (understandingOf(db, m.episodeId)?.insights ?? [])
      .filter((i) => i.grounded && i.quotes.length > 0)
      .map((i) => {
        const quote = i.quotes[0]!;
        return {
          view: {
            episodeId: m.episodeId,
            insightId: i.id,
            type: i.type,
            text: i.text,
            quote,
          } as DigestInsightView,
          score: insightScore({ type: i.type, text: i.text, quote: quote.text }, storyNames, show, hosts),
        };
      })
      .filter((x) => x.score >= 0.3)
      .sort((a, b) => b.score - a.score || a.view.quote.charStart - b.view.quote.charStart)
      .slice(0, INSIGHTS_PER_EPISODE);
  });
  const insights: DigestInsightView[] = [];
  for (let r = 0; r < INSIGHTS_PER_EPISODE && insights.length < INSIGHTS_PER_STORY; r++) {
    for (const list of perEpisode) {
      const pick = list[r];
      if (!pick || insights.length >= INSIGHTS_PER_STORY) continue;
      insights.push(pick.view);
    }
  }
  return {
    id,
    title,
    episodes: order.map(({ m }) => {
      const { understood: _understood, ...view } = m.episode;
      return view;
    }),
    shows: showCount(members),
    insights,
    entities: ranked.slice(0, ENTITIES_PER_STORY).map((r) => r.entity),
  };
}

const showCount = (members: Member[]) =>
  new Set(members.map((m) => m.feedId ?? `episode:${m.episodeId}`)).size;

/** More episodes and more shows first; then the newest. */
function storyRank(members: Member[]): number {
  const newest = Math.max(...members.map((m) => m.episode.publishedAt ?? 0));
  return members.length + 0.5 * (showCount(members) - 1) + newest / 1e16;
}

/**
 * People and topics named in at least two episodes of the window and in more than in the window
 * before, most risen first: by how much more they are talked about, each episode that names one
 * weighing 1 + ln(its mentions) there (as in the stories' names), this window's less the one
 * before's. Counting episodes alone would rank a passing phrase two episodes of one story share
 * ("percent target") above a name the week's news is full of (NASA, named seven times in two
 * episodes this week and once the week before).
 */
function rising(db: Db, from: number, to: number, regular: Set<string>): DigestView['rising'] {
  const previousFrom = from - (to - from);
  const rows = db
    .prepare(
      `SELECT en.id, en.name, en.type,
              count(DISTINCT CASE WHEN e.published_at >= @from THEN e.id END) AS now,
              count(DISTINCT CASE WHEN e.published_at < @from THEN e.id END) AS before,
              total((CASE WHEN e.published_at >= @from THEN 1 ELSE -1 END) * (1 + ln(max(1, m.mentions))))
                AS rise,
              group_concat(DISTINCT e.feed_id) AS feeds
         FROM episodes e
         JOIN entity_mentions m ON m.episode_id = e.id
         JOIN entities en ON en.id = m.entity_id
        WHERE e.published_at >= @previousFrom AND e.published_at < @to AND m.role != 'host'
        GROUP BY en.id
       HAVING now >= 2 AND now > before
        ORDER BY rise DESC, now - before DESC, en.name`,
    )
    .all({ from, to, previousFrom }) as {
    id: number;
    name: string;
    type: RisingEntityView['type'];
    now: number;
    before: number;
    feeds: string | null;
  }[];
  const out: DigestView['rising'] = { people: [], topics: [] };
  for (const r of rows) {
    // A show's regular (its co-host, say) is on every week: not news.
    const feeds = (r.feeds ?? '').split(',').filter(Boolean);
    if (feeds.some((f) => regular.has(`${f}:${r.id}`))) continue;
    const list = r.type === 'person' ? out.people : out.topics;
    if (list.length >= RISING_PER_KIND) continue;
    list.push({ entityId: r.id, name: r.name, type: r.type, episodes: r.now, previousEpisodes: r.before });
  }
  return out;
}

/** Build the digest for [from, to). */
export function buildDigest(db: Db, options: DigestOptions): DigestView {
  const { from, to, budgetMs, now } = options;
  const notes: string[] = [];
  const inWindow = windowEpisodes(db, from, to);
  const understood = inWindow.filter((e) => e.understood);
  const mentions = windowMentions(
    db,
    understood.map((e) => e.episodeId),
  );
  const members: Member[] = understood.map((episode) => ({
    episodeId: episode.episodeId,
    feedId: episode.feedId,
    title: episode.title,
    entities: mentions.get(episode.episodeId) ?? [],
    episode,
  }));
  const waiting = inWindow.length - members.length;
  if (waiting > 0)
    notes.push(
      `${waiting} episode${waiting === 1 ? ' of this window is' : 's of this window are'} not understood yet (still being processed, or without a transcript), so ${waiting === 1 ? 'it is' : 'they are'} not in the stories.`,
    );
  const feedIds = [...new Set(inWindow.map((e) => e.feedId).filter((f): f is number => f !== null))];
  const regular = regulars(db, feedIds);

  // Group: by meaning when every episode has vectors of the active embedding model.
  const modelId = activeEmbeddingModel(db);
  let grouping: DigestView['grouping'] = { by: 'keywords', modelId: null };
  let sim: Float32Array | null = null;
  if (modelId && members.length > 1) {
    const vectors = episodeVectors(
      db,
      modelId,
      members.map((m) => m.episodeId),
    );
    const missing = members.filter((m) => !vectors.has(m.episodeId)).length;
    if (missing > 0) {
      notes.push(
        `Stories are grouped by the names and words episodes share: ${missing} episode${missing === 1 ? ' is' : 's are'} not indexed with ${modelId} yet.`,
      );
    } else {
      const extras = centeringExtras(db, from, modelId);
      const sample = [
        ...members.map((m) => vectors.get(m.episodeId)!),
        ...episodeVectors(db, modelId, extras).values(),
      ];
      if (sample.length >= MIN_CENTERING_SAMPLE) {
        sim = embeddingSimilarity(
          members.map((m) => vectors.get(m.episodeId)!),
          sample,
        );
        grouping = { by: 'embedding', modelId };
      } else {
        notes.push(
          `Stories are grouped by the names and words episodes share: comparing by meaning needs at least ${MIN_CENTERING_SAMPLE} episodes in the library.`,
        );
      }
    }
  }
  const threshold = sim ? EMBEDDING_THRESHOLD : KEYWORD_THRESHOLD;
  sim ??= keywordSimilarity(members, regular);
  const n = members.length;
  // The clustering overwrites the matrix; centrality is read from a copy of the original.
  const original = sim.slice();
  const clusters = averageLinkage(sim, n, threshold);

  // Rank the clusters first; only the stories shown are read in full (their insights).
  const ranked = clusters
    .map((indices) => ({ indices, rank: storyRank(indices.map((i) => members[i]!)) }))
    .sort((a, b) => b.rank - a.rank);
  const stories = ranked.slice(0, MAX_STORIES).map(({ indices }, k) => {
    const centrality = indices.map((i) =>
      indices.length === 1
        ? 1
        : indices.reduce((s, j) => (j === i ? s : s + original[i * n + j]!), 0) / (indices.length - 1),
    );
    return storyOf(
      db,
      `s${k + 1}`,
      indices.map((i) => members[i]!),
      centrality,
      regular,
    );
  });
  if (ranked.length > MAX_STORIES) {
    const rest = ranked.slice(MAX_STORIES).reduce((s, c) => s + c.indices.length, 0);
    notes.push(
      `The ${MAX_STORIES} biggest stories are shown; ${rest} more episode${rest === 1 ? ' is' : 's are'} in smaller ones.`,
    );
  }

  const timelines = new Map<number, Timeline | null>();
  const timelineOf = (episodeId: number) => {
    if (!timelines.has(episodeId)) timelines.set(episodeId, loadTimeline(db, episodeId));
    return timelines.get(episodeId)!;
  };
  const playlist = pickPlaylist(
    stories.map((s) => ({
      storyId: s.id,
      episodes: new Map(s.episodes.map((e) => [e.episodeId, { title: e.title, feedTitle: e.feedTitle }])),
      insights: s.insights,
    })),
    budgetMs,
    timelineOf,
  );
  if (playlist.items.length === 0 && stories.some((s) => s.insights.length > 0))
    notes.push('Nothing worth hearing fits in the listening time; give it more time (like 30m).');

  return {
    schemaVersion: DIGEST_SCHEMA_VERSION,
    id: null,
    generatedAt: now,
    window: { from, to },
    previousWindow: { from: from - (to - from), to: from },
    grouping,
    counts: {
      episodes: inWindow.length,
      understood: members.length,
      shows: new Set(inWindow.map((e) => e.feedId)).size,
    },
    stories,
    rising: rising(db, from, to, regular),
    playlist,
    notes,
  };
}
