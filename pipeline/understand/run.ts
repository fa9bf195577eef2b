import type { Transcript } from '../ingest/transcripts.ts';
import { analyze } from './nlp.ts';
import { normalizedTranscript, transcriptHash, transcriptText, spanOf } from './text.ts';
import { classicInsights, classicSummary, rankSentences } from './classic.ts';
import { groundInsights, groundSummary } from './grounding.ts';
import { extractEntities, type EntityMeta } from './entities.ts';
import type { LlmDrafts } from './llm-seam.ts';
import { normalizeName } from './names.ts';
import {
  CLASSIC_VERSION,
  MAX_ENTITIES,
  MAX_MENTIONS_PER_ENTITY,
  UNDERSTAND_SCHEMA_VERSION,
  type ArtifactHeader,
  type GiDoc,
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
  const a = analyze(t.text);
  const header: ArtifactHeader = {
    schemaVersion: UNDERSTAND_SCHEMA_VERSION,
    tier: llm ? 'llm' : 'classic',
    modelId: llm?.modelId ?? null,
    promptVersion: llm ? llm.drafts.promptVersion : CLASSIC_VERSION,
    transcriptSha256: transcriptHash(transcript.segments),
  };
  const ranked = rankSentences(t, a);
  const summaryDraft = llm ? llm.drafts.summary : classicSummary(ranked);
  const insightDrafts = llm ? llm.drafts.insights : classicInsights(ranked);
  const ids = {
    episode: `episode:${meta.key}`,
    show: meta.feedId ? `show:${meta.feedId}` : null,
  };
  const graph = extractEntities(t, a, meta, ids);
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
    gi: { ...header, insights: groundInsights(t, insightDrafts, n) },
    kg: {
      ...header,
      episode: { id: ids.episode, key: meta.key, title: meta.episodeTitle ?? null },
      show: ids.show ? { id: ids.show, title: meta.showTitle ?? null } : null,
      entities: graph.entities,
      relations: graph.relations,
    },
  };
}
