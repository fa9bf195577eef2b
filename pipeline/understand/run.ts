import type { Transcript } from '../ingest/transcripts.ts';
import { analyze } from './nlp.ts';
import { normalizedTranscript, transcriptHash, transcriptText, spanOf } from './text.ts';
import { classicInsights, classicSummary, rankSentences, type EpisodeContext } from './classic.ts';
import { groundInsights, groundSummary } from './grounding.ts';
import { extractEntities, type EntityMeta } from './entities.ts';
import { maskLabels, speakerTurns } from './speakers.ts';
import { nameEvidence } from './evidence.ts';
import { segmentAt } from './text.ts';
import type { LlmDrafts } from './llm-seam.ts';
import { normalizeName } from './names.ts';
import {
  CLASSIC_VERSION,
  MAX_ENTITIES,
  MAX_MENTIONS_PER_ENTITY,
  UNDERSTAND_SCHEMA_VERSION,
  type ArtifactHeader,
  type GiDoc,
  type Insight,
  type KgEntity,
  type KgRelation,
  type KgDoc,
  type SummaryDoc,
} from './types.ts';

export interface UnderstandMeta extends EntityMeta {
  episodeId: number;
  key: string;
  feedId?: number | null;
}

export interface UnderstandDocs {
  summary: SummaryDoc;
  gi: GiDoc;
  kg: KgDoc;
}

/**
 * Understand one transcript: summary, grounded insights and the episode's knowledge graph. The
 * classic tier always runs (its entities and sentence analysis are reused); with LLM drafts, the
 * summary and insights (and entity names, when given) come from the model, grounded the same way.
 */
export function understandTranscript(
  transcript: Pick<Transcript, 'segments' | 'timed'>,
  meta: UnderstandMeta,
  llm?: { modelId: string; drafts: LlmDrafts },
): UnderstandDocs {
  const t = transcriptText(transcript.segments, transcript.timed);
  const n = normalizedTranscript(t);
  // Speaker labels ("Travis: …") stay in the text but are never read as words (speakers.ts).
  const turns = speakerTurns(t);
  const masked = maskLabels(t.text, turns.labels);
  const a = analyze(masked, turns.breaks);
  const header: ArtifactHeader = {
    schemaVersion: UNDERSTAND_SCHEMA_VERSION,
    tier: llm ? 'llm' : 'classic',
    modelId: llm?.modelId ?? null,
    promptVersion: llm ? llm.drafts.promptVersion : CLASSIC_VERSION,
    transcriptSha256: transcriptHash(transcript.segments),
  };
  const ids = {
    episode: `episode:${meta.key}`,
    show: meta.feedId ? `show:${meta.feedId}` : null,
  };
  const graph = extractEntities(t, a, meta, ids, { turns, tags: nameEvidence(masked, a) });
  if (llm?.drafts.entities) {
    // The model's types and roles win for names the classic tier also found.
    for (const e of llm.drafts.entities) {
      const found = graph.entities.find((g) => normalizeName(g.name) === normalizeName(e.name));
      if (found) {
        found.type = e.type;
        if (e.role) found.role = e.role;
      } else {
        // Mentions: the name, whole words, any case.
        const escaped = e.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        const found = [
          ...t.text.matchAll(new RegExp(`(?<![\\p{L}\\p{N}])${escaped}(?![\\p{L}\\p{N}])`, 'giu')),
        ];
        // A name the transcript never says is not grounded: leave it out.
        if (found.length === 0 || graph.entities.length >= MAX_ENTITIES) continue;
        graph.entities.push({
          id: `e${graph.entities.length + 1}`,
          name: e.name,
          type: e.type,
          role: e.role ?? 'mentioned',
          aliases: e.aliases ?? [],
          mentionCount: found.length,
          mentions: found
            .slice(0, MAX_MENTIONS_PER_ENTITY)
            .map((m) => spanOf(t, m.index, m.index + m[0].length)),
        });
      }
    }
  }
  const ranked = rankSentences(t, a);
  const ctx = episodeContext(t, graph.entities, turns.speakerOf, meta.showTitle ?? null);
  const summaryDraft = llm ? llm.drafts.summary : classicSummary(ranked, ctx);
  const insightDrafts = llm ? llm.drafts.insights : classicInsights(ranked, ctx);
  const insights = groundInsights(t, insightDrafts, n);
  const last = transcript.segments[transcript.segments.length - 1];
  const words = a.tokens.filter((tk) => tk.type === 'word').length;
  return {
    summary: {
      ...header,
      ...groundSummary(t, summaryDraft, n),
      stats: {
        segments: transcript.segments.length,
        sentences: a.sentences.length,
        words,
        durationMs: transcript.timed && last ? last.endMs : null,
      },
    },
    gi: { ...header, insights },
    kg: {
      ...header,
      episode: { id: ids.episode, key: meta.key, title: meta.episodeTitle ?? null },
      show: ids.show ? { id: ids.show, title: meta.showTitle ?? null } : null,
      entities: graph.entities,
      relations: [...graph.relations, ...insightRelations(insights, graph.entities)],
    },
  };
}

/** The episode's people, topics and turns, as the classic summary and insights use them. */
function episodeContext(
  t: ReturnType<typeof transcriptText>,
  entities: KgEntity[],
  speakerOf: (string | null)[],
  showTitle: string | null,
): EpisodeContext {
  const people = entities.filter((e) => e.type === 'person');
  const taking = [...people.filter((e) => e.role === 'host'), ...people.filter((e) => e.role === 'guest')];
  const participants = taking.map((e) => e.name);
  const introNames = [...taking, ...entities.filter((e) => e.type === 'topic' && e.name === showTitle)];
  // A speaker label ("Lena") is shown as the person it is ("Lena Ortiz").
  const display = new Map<string, string>();
  for (const e of people)
    for (const n of [e.name, ...e.aliases])
      if (!display.has(normalizeName(n))) display.set(normalizeName(n), e.name);
  // Entity order: names nothing else types, then the key phrases, best first.
  const topics = entities.filter((e) => e.type === 'topic').map((e) => e.name);
  const order = { topic: 0, organization: 1, place: 2, person: 3 } as const;
  const named = entities
    .filter((e) => !taking.includes(e))
    .sort((x, y) => order[x.type] - order[y.type] || y.mentionCount - x.mentionCount);
  const showNorm = showTitle ? normalizeName(showTitle) : null;
  const sentenceText = (start: number, end: number) => normalizeName(t.text.slice(start, end));
  return {
    participants,
    topics,
    speakerAt(offset) {
      if (t.segments.length === 0) return null;
      const s = speakerOf[segmentAt(t, offset)];
      return s ? (display.get(normalizeName(s)) ?? s) : null;
    },
    namedIn(start, end) {
      return named
        .filter((e) => e.mentions.some((m) => m.charStart >= start && m.charStart < end))
        .map((e) => e.name);
    },
    isIntro(start, end) {
      if (introNames.some((e) => e.mentions.some((m) => m.charStart >= start && m.charStart < end)))
        return true;
      return showNorm !== null && ` ${sentenceText(start, end)} `.includes(` ${showNorm} `);
    },
  };
}

/**
 * The insights' part of the graph: each grounded quote supports its insight, and an insight is
 * about the entities its quotes name.
 */
function insightRelations(insights: Insight[], entities: KgEntity[]): KgRelation[] {
  const out: KgRelation[] = [];
  for (const i of insights) {
    for (const q of i.quotes)
      out.push({
        source: `quote:${q.charStart}-${q.charEnd}`,
        target: i.id,
        type: 'insight-supports',
        count: 1,
        quotes: [q],
      });
    for (const e of entities) {
      const named = e.mentions.filter((m) =>
        i.quotes.some((q) => m.charStart >= q.charStart && m.charEnd <= q.charEnd),
      );
      if (named.length > 0)
        out.push({
          source: i.id,
          target: e.id,
          type: 'about',
          count: named.length,
          quotes: named.slice(0, 1),
        });
    }
  }
  return out;
}
