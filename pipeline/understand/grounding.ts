import { normalizedTranscript, verifyQuote, type NormalizedText, type TranscriptText } from './text.ts';
import type { Insight, InsightType, SummaryDoc } from './types.ts';

/**
 * What a tier proposes before grounding: insight text and the quotes it cites, as plain strings.
 * Both tiers go through `groundInsights`, so no quote reaches an artifact unless code found it
 * in the transcript. `near` (a char offset) picks among repeated occurrences.
 */
export interface InsightDraft {
  type: InsightType;
  text: string;
  quotes: { text: string; near?: number }[];
}

export interface SummaryDraft {
  abstract: string;
  keyPoints: { text: string; quote?: { text: string; near?: number } }[];
}

const stableId = (type: InsightType, at: number | null, index: number) =>
  at === null ? `${type[0]}-u${index}` : `${type[0]}-${at}`;

export function groundInsights(
  t: TranscriptText,
  drafts: InsightDraft[],
  n: NormalizedText = normalizedTranscript(t),
): Insight[] {
  return drafts.map((d, i) => {
    const quotes = d.quotes
      .map((q) => verifyQuote(t, n, q.text, q.near ?? 0))
      .filter((q): q is NonNullable<typeof q> => q !== null)
      // One span cited twice is one quote.
      .filter((q, k, all) => all.findIndex((x) => x.charStart === q.charStart) === k);
    return {
      id: stableId(d.type, quotes[0]?.charStart ?? null, i),
      type: d.type,
      text: d.text,
      grounded: quotes.length > 0,
      quotes,
    };
  });
}

export function groundSummary(
  t: TranscriptText,
  draft: SummaryDraft,
  n: NormalizedText = normalizedTranscript(t),
): Pick<SummaryDoc, 'abstract' | 'keyPoints'> {
  return {
    abstract: draft.abstract,
    keyPoints: draft.keyPoints.map((k) => ({
      text: k.text,
      quote: k.quote ? verifyQuote(t, n, k.quote.text, k.quote.near ?? 0) : null,
    })),
  };
}
