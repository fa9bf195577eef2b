import type { Span } from './text.ts';

/**
 * The understanding artifacts (<dataDir>/understand/<key>.summary.json, .gi.json, .kg.json) and
 * what fingerprints them. Both tiers (classic, llm) write the same shapes.
 */
export const UNDERSTAND_SCHEMA_VERSION = 1;
/** Bump when the classic tier's code changes what it writes: understanding re-runs. */
export const CLASSIC_VERSION = 'classic-4';

export type Tier = 'classic' | 'llm';
export type InsightType = 'claim' | 'recommendation' | 'observation' | 'question';
export type EntityType = 'person' | 'organization' | 'place' | 'topic';
export type EntityRole = 'host' | 'guest' | 'mentioned';

export interface ArtifactHeader {
  schemaVersion: number;
  tier: Tier;
  /** The language model that wrote it; null for the classic tier. */
  modelId: string | null;
  /** The classic tier's code version, or the LLM tier's prompt version. */
  promptVersion: string;
  /** SHA-256 of the transcript segments it was made from. */
  transcriptSha256: string;
}

/** A quote grounded in the transcript: char offsets into its full text and times (null when untimed). */
export type Quote = Span;

export interface SummaryDoc extends ArtifactHeader {
  abstract: string;
  keyPoints: { text: string; quote: Quote | null }[];
  stats: { segments: number; sentences: number; words: number; durationMs: number | null };
}

export interface Insight {
  id: string;
  type: InsightType;
  text: string;
  /** True only when at least one quote was verified as a verbatim span of the transcript. */
  grounded: boolean;
  quotes: Quote[];
}

export interface GiDoc extends ArtifactHeader {
  insights: Insight[];
}

export interface KgEntity {
  /** Local to this episode's graph ("e1", "e2", …). */
  id: string;
  name: string;
  type: EntityType;
  role: EntityRole;
  aliases: string[];
  /** Times it is named in the text, plus (a speaker) the turns it takes. */
  mentionCount: number;
  /** A speaker's turns (a run of segments by one speaker is one turn); absent for others. */
  turns?: number;
  /** Where it is named (at most MAX_MENTIONS_PER_ENTITY). */
  mentions: Quote[];
}

/**
 * An edge of the episode's graph. Nodes: its entities ("e1"…), the episode ("episode:<key>"),
 * the show ("show:<feed id>"), its insights (their ids in gi.json) and their quotes
 * ("quote:<charStart>-<charEnd>").
 * - co-occurs: two entities named in the same sentences (count: how many);
 * - host-of (entity → show), guest-on, mentioned-in (entity → episode): count is the mentions;
 * - episode-of: the episode → its show;
 * - insight-supports: a quote → the insight it grounds;
 * - about: an insight → an entity named in its quotes.
 */
export interface KgRelation {
  source: string;
  target: string;
  type: 'co-occurs' | 'host-of' | 'guest-on' | 'mentioned-in' | 'episode-of' | 'insight-supports' | 'about';
  count: number;
  /** What backs it: the sentences of a co-occurrence, the first mentions, the quote (at most MAX_RELATION_QUOTES). */
  quotes?: Quote[];
}

export interface KgDoc extends ArtifactHeader {
  episode: { id: string; key: string; title: string | null };
  show: { id: string; title: string | null } | null;
  entities: KgEntity[];
  relations: KgRelation[];
}

/** Caps per episode, so a graph stays readable. */
export const MAX_ENTITIES = 40;
export const MAX_TOPICS = 15;
export const MAX_RELATIONS = 60;
export const MAX_MENTIONS_PER_ENTITY = 25;
export const MAX_RELATION_QUOTES = 2;
export const MAX_INSIGHTS = 12;
export const MAX_KEY_POINTS = 6;
