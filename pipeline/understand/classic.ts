import { createRequire } from 'node:module';
import type { Bow } from 'wink-nlp';
import type bm25VectorizerType from 'wink-nlp/utilities/bm25-vectorizer';
import type { Analysis, Sentence } from './nlp.ts';
import type { TranscriptText } from './text.ts';
import type { InsightDraft, SummaryDraft } from './grounding.ts';
import { MAX_INSIGHTS, MAX_KEY_POINTS, type InsightType } from './types.ts';

const requireCjs = createRequire(import.meta.url);
// A CommonJS file without an extension: Node's ESM resolver needs require() for it.
const bm25Vectorizer = requireCjs('wink-nlp/utilities/bm25-vectorizer') as typeof bm25VectorizerType;

/**
 * The classic tier's summary and insights: sentences ranked by TextRank over BM25-weighted
 * bags of word stems (wink-nlp's bm25-vectorizer; cosine similarity through an inverted index), so the sentences most
 * like the rest of the conversation rank highest; near-duplicates are skipped (cosine > 0.5).
 * Insight types come from cues, checked in this order:
 * - question: ends with "?", at least six words, a question word or auxiliary in its first three
 *   words, and not a tag ("…, right?", "you know?");
 * - recommendation: "you should / need to / have to", "I'd recommend / suggest", "my advice",
 *   "make sure", "check out", "it's worth", "try to", or an imperative verb first ("Read …",
 *   "Start with …");
 * - observation: a hedge ("I think", "I feel", "maybe", "probably", "it seems", "in my experience");
 * - claim: a number, a percentage or an absolute ("always", "never", "every", "the key", "because",
 *   "more than", a superlative);
 * - observation otherwise.
 */

export interface RankedSentence {
  sentence: Sentence;
  text: string;
  words: number;
  score: number;
  bow: SparseVector;
  type: InsightType;
}

/** A BM25-weighted bag of stems as sorted term ids, for fast cosine similarity. */
export interface SparseVector {
  ids: Int32Array;
  weights: Float64Array;
  norm: number;
}

function sparseVectors(bows: Bow[]): SparseVector[] {
  const vocabulary = new Map<string, number>();
  return bows.map((bow) => {
    const entries = Object.entries(bow)
      .map(([term, w]) => {
        let id = vocabulary.get(term);
        if (id === undefined) vocabulary.set(term, (id = vocabulary.size));
        return [id, w] as const;
      })
      .sort((x, y) => x[0] - y[0]);
    const weights = Float64Array.from(entries.map((e) => e[1]));
    return {
      ids: Int32Array.from(entries.map((e) => e[0])),
      weights,
      norm: Math.sqrt(weights.reduce((sum, w) => sum + w * w, 0)),
    };
  });
}

export function cosine(a: SparseVector, b: SparseVector): number {
  if (a.norm === 0 || b.norm === 0) return 0;
  let i = 0;
  let j = 0;
  let dot = 0;
  while (i < a.ids.length && j < b.ids.length) {
    if (a.ids[i] === b.ids[j]) dot += a.weights[i++]! * b.weights[j++]!;
    else if (a.ids[i]! < b.ids[j]!) i++;
    else j++;
  }
  return dot / (a.norm * b.norm);
}

const WH =
  /^(what|why|how|when|where|who|whom|which|whose|do|does|did|is|are|was|were|can|could|would|should|will|have|has|had|shall|may|might|isn't|aren't|don't|doesn't|didn't)$/i;
const TAG_QUESTION =
  /(,\s*(right|you know|isn't it|don't you think|no|yeah|huh|correct|ok|okay)\?|^(right|really|why not|what|how so)\?)$/i;
const RECOMMEND =
  /\b(you (really )?(should|need to|have to|must|ought to|want to|'ve got to)|you've got to|i('d| would)?( also)? (strongly )?(recommend|suggest|advise)|my (advice|recommendation|suggestion|tip)|make sure|check out|it'?s (really )?worth|try to|don't be afraid|go read|go listen|the best thing you can do|if i were you|start (with|by))\b/i;
const IMPERATIVE_EXCLUDE = new Set([
  'thank',
  'thanks',
  'welcome',
  'let',
  'see',
  'mean',
  'guess',
  'know',
  'think',
  'say',
  'look',
  'listen',
  'imagine',
  'wait',
  'hold',
  'come',
  'go',
  'get',
  'love',
  'hope',
  'bear',
]);
const HEDGE =
  /\b(i think|i feel|i guess|i suspect|i believe|maybe|perhaps|probably|possibly|might|it seems|seems like|kind of|sort of|in my experience|i('ve)? noticed|i found|i suppose|it felt)\b/i;
const CLAIM =
  /(\d|%|\b(always|never|every|everyone|nobody|all of|most of|the key|the truth|the reason|because|proves?|more than|less than|fewer than|the (best|worst|biggest|largest|fastest|most|least)|will never|cannot|can't|impossible|the only)\b)/i;
const FILLER =
  /^(?:(?:so|and|but|well|yeah|yes|right|okay|ok|oh|um|uh|look|honestly|i mean|you know)[,.]?\s+)+/i;

export function insightType(a: Analysis, s: Sentence, text: string, words: number): InsightType {
  const trimmed = text.trim();
  const first3 = a.tokens
    .slice(s.first, s.first + 4)
    .filter((t) => t.type === 'word')
    .slice(0, 3);
  if (
    trimmed.endsWith('?') &&
    words >= 6 &&
    !TAG_QUESTION.test(trimmed) &&
    first3.some((t) => WH.test(t.value))
  )
    return 'question';
  if (trimmed.endsWith('?')) return 'observation';
  const firstWord = a.tokens.slice(s.first, s.last + 1).find((t) => t.type === 'word');
  const stripped = trimmed.replace(FILLER, '');
  const imperative =
    firstWord !== undefined &&
    firstWord.pos === 'VERB' &&
    stripped.startsWith(firstWord.value) &&
    !IMPERATIVE_EXCLUDE.has(firstWord.normal) &&
    !/(ing|ed)$/.test(firstWord.normal);
  if (RECOMMEND.test(trimmed) || imperative) return 'recommendation';
  if (HEDGE.test(trimmed)) return 'observation';
  if (CLAIM.test(trimmed)) return 'claim';
  return 'observation';
}

/** Rank every sentence (TextRank, damping 0.85, 30 iterations). */
export function rankSentences(t: TranscriptText, a: Analysis): RankedSentence[] {
  const v = bm25Vectorizer();
  const base = a.sentences.map((s) => {
    const terms = a.tokens
      .slice(s.first, s.last + 1)
      .filter((tk) => tk.type === 'word' && !tk.stop && tk.normal.length > 2)
      .map((tk) => tk.stem);
    v.learn(terms.length > 0 ? terms : ['∅']);
    const text = t.text.slice(s.start, s.end);
    const words = a.tokens.slice(s.first, s.last + 1).filter((tk) => tk.type === 'word').length;
    return { sentence: s, text, words, terms };
  });
  const vectors = sparseVectors(base.map((b) => v.bowOf(b.terms.length > 0 ? b.terms : ['∅'])));
  const n = base.length;
  // Sparse graph through an inverted index: only pairs that share a stem are compared.
  const edges: { to: number; w: number }[][] = base.map(() => []);
  const outSum = new Float64Array(n);
  const postings = new Map<number, { doc: number; w: number }[]>();
  vectors.forEach((vec, doc) => {
    if (base[doc]!.terms.length === 0) return;
    vec.ids.forEach((id, k) => {
      let list = postings.get(id);
      if (!list) postings.set(id, (list = []));
      list.push({ doc, w: vec.weights[k]! });
    });
  });
  const dot = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const vi = vectors[i]!;
    if (base[i]!.terms.length === 0 || vi.norm === 0) continue;
    const touched: number[] = [];
    vi.ids.forEach((id, k) => {
      for (const p of postings.get(id) ?? []) {
        if (p.doc <= i) continue;
        if (dot[p.doc] === 0) touched.push(p.doc);
        dot[p.doc] = dot[p.doc]! + vi.weights[k]! * p.w;
      }
    });
    for (const j of touched) {
      const w = dot[j]! / (vi.norm * vectors[j]!.norm);
      dot[j] = 0;
      if (w > 0) {
        edges[i]!.push({ to: j, w });
        edges[j]!.push({ to: i, w });
        outSum[i] = outSum[i]! + w;
        outSum[j] = outSum[j]! + w;
      }
    }
  }
  let score = new Float64Array(n).fill(1);
  for (let iter = 0; iter < 30; iter++) {
    const nextScore = new Float64Array(n).fill(0.15);
    for (let j = 0; j < n; j++) {
      if (outSum[j] === 0) continue;
      const share = (0.85 * score[j]!) / outSum[j]!;
      for (const e of edges[j]!) nextScore[e.to] = nextScore[e.to]! + share * e.w;
    }
    score = nextScore;
  }
  return base.map((b, i) => ({
    sentence: b.sentence,
    text: b.text,
    words: b.words,
    // Very short or very long sentences make poor summaries and quotes.
    score: score[i]! * (b.words < 7 ? 0.2 : b.words > 60 ? 0.5 : 1),
    bow: vectors[i]!,
    type: insightType(a, b.sentence, b.text, b.words),
  }));
}

function diverse<R extends RankedSentence>(
  ranked: R[],
  count: number,
  accept: (r: R) => boolean,
  unlike: RankedSentence[] = [],
): R[] {
  const chosen: R[] = [];
  for (const r of [...ranked].sort((x, y) => y.score - x.score)) {
    if (chosen.length >= count) break;
    if (chosen.some((c) => cosine(c.bow, r.bow) > 0.5) || unlike.some((c) => cosine(c.bow, r.bow) > 0.5))
      continue;
    if (!accept(r)) continue;
    chosen.push(r);
  }
  return chosen;
}

export function clean(text: string): string {
  const s = text.replace(FILLER, '').trim();
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** What the summary and insights know of the episode beyond its sentences (from its graph and turns). */
export interface EpisodeContext {
  /** Who takes part, host first: display names. */
  participants: string[];
  /** The episode's key topics, most said first. */
  topics: string[];
  /** Who speaks at a character offset (a display name), or null when the transcript does not say. */
  speakerAt(offset: number): string | null;
  /** Names of the topics and entities named in [start, end), topics first; never the participants. */
  namedIn(start: number, end: number): string[];
  /** The span names a participant or the show: an introduction or a thank-you, not content. */
  isIntro(start: number, end: number): boolean;
}

const DEPENDENT =
  /^(because|which|and|but|or|so|that|this|these|those|it|its|he|she|they|them|him|her|his|their|since|although|though|if|when|while|then|also)\b/i;

const list = (xs: string[]) =>
  xs.length <= 1 ? (xs[0] ?? '') : `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]}`;

/**
 * The summary: the abstract says who talks about what (from the episode's people and key
 * topics), then the single most central sentence; the key points are the next most central
 * sentences, each unlike the others and unlike the abstract's (so the abstract never repeats a
 * key point).
 */
export function classicSummary(ranked: RankedSentence[], ctx: EpisodeContext): SummaryDraft {
  const eligible = (r: RankedSentence) =>
    r.words >= 7 && r.type !== 'question' && !ctx.isIntro(r.sentence.start, r.sentence.end);
  // The abstract's sentence must stand alone: not "Because …", "He wants …".
  const [lead] = diverse(ranked, 1, (r) => eligible(r) && r.words >= 10 && !DEPENDENT.test(clean(r.text)));
  const points = diverse(ranked, MAX_KEY_POINTS, (r) => eligible(r) && r !== lead, lead ? [lead] : []).sort(
    (x, y) => x.sentence.start - y.sentence.start,
  );
  const [host, ...guests] = ctx.participants;
  const about = ctx.topics.length > 0 ? ` about ${list(ctx.topics.slice(0, 3))}` : '';
  const who = host
    ? guests.length > 0
      ? `${host} talks with ${list(guests)}${about}.`
      : about
        ? `${host} talks${about}.`
        : ''
    : about
      ? `This episode is${about}.`
      : '';
  return {
    abstract: [who, lead ? clean(lead.text) : ''].filter(Boolean).join(' '),
    keyPoints: points.map((r) => ({
      text: clean(r.text),
      quote: { text: r.text, near: r.sentence.start },
    })),
  };
}

const TYPE_CAP: Record<InsightType, number> = { question: 3, recommendation: 4, claim: 4, observation: 3 };
const TYPE_BONUS: Record<InsightType, number> = {
  question: 1.2,
  recommendation: 1.5,
  claim: 1.2,
  observation: 1,
};

/**
 * Insights: the most central sentences of each type, up to a cap per type. An insight's text
 * says what it is about and who said it ("Tom Becker's advice on powdery mildew"), and its quote
 * is what was said, so the text never just repeats the quote. A question is quoted with its
 * answer (what the next speaker says, else the next sentence), not with a sentence that merely
 * shares words with it. A second quote backs a claim only when another sentence is much like it
 * and names the same topic.
 */
export function classicInsights(ranked: RankedSentence[], ctx: EpisodeContext): InsightDraft[] {
  const counts: Record<InsightType, number> = { question: 0, recommendation: 0, claim: 0, observation: 0 };
  // rankSentences keeps the sentences' order: ranked[i] is sentence i.
  const byIndex = ranked;
  const boosted = ranked.map((r) => ({ ...r, score: r.score * TYPE_BONUS[r.type] }));
  const drafts = new Map<RankedSentence['sentence'], InsightDraft>();
  const headlines = new Set<string>();
  // Sentences quoted so far: one passage backs one insight.
  const used = new Set<number>();
  diverse(boosted, MAX_INSIGHTS, (r) => {
    if (r.words < 7 || r.words > 60 || counts[r.type] >= TYPE_CAP[r.type]) return false;
    if (used.has(r.sentence.index) || ctx.isIntro(r.sentence.start, r.sentence.end)) return false;
    const draft =
      r.type === 'question' ? questionDraft(r, byIndex, ctx, used) : statementDraft(r, ranked, ctx, used);
    if (!draft || headlines.has(draft.text.toLowerCase())) return false;
    headlines.add(draft.text.toLowerCase());
    counts[r.type]++;
    drafts.set(r.sentence, draft);
    for (const q of draft.quotes)
      for (const o of byIndex)
        if (o.sentence.start >= (q.near ?? 0) && o.sentence.start < (q.near ?? 0) + q.text.length)
          used.add(o.sentence.index);
    used.add(r.sentence.index);
    return true;
  });
  return [...drafts.entries()].sort((x, y) => x[0].start - y[0].start).map(([, d]) => d);
}

function aboutOf(
  r: RankedSentence,
  byIndex: RankedSentence[],
  ctx: EpisodeContext,
  before = false,
): string[] {
  // Two things at most, and not one inside the other ("open source", "open source climate").
  const here = ctx
    .namedIn(r.sentence.start, r.sentence.end)
    .filter((n, i, all) => !all.slice(0, i).some((m) => m.includes(n) || n.includes(m)));
  if (here.length > 0 || !before) return here.slice(0, 2);
  // A question that names nothing: what the sentence before it named ("How often should you
  // turn it?" after "…a smelly pile…").
  const prev = byIndex[r.sentence.index - 1];
  return prev ? ctx.namedIn(prev.sentence.start, prev.sentence.end).slice(0, 1) : [];
}

function questionDraft(
  r: RankedSentence,
  byIndex: RankedSentence[],
  ctx: EpisodeContext,
  used: ReadonlySet<number>,
): InsightDraft | null {
  const asker = ctx.speakerAt(r.sentence.start);
  // The answer: the next turn's first sentences when speakers are known, else the next sentences.
  let i = r.sentence.index + 1;
  if (asker !== null) while (byIndex[i] && ctx.speakerAt(byIndex[i]!.sentence.start) === asker) i++;
  const first = byIndex[i];
  if (!first || (asker !== null && ctx.speakerAt(first.sentence.start) === null)) return null;
  if (i - r.sentence.index > 3 || used.has(i)) return null;
  const second = byIndex[i + 1];
  const same = second && ctx.speakerAt(second.sentence.start) === ctx.speakerAt(first.sentence.start);
  const last = first.words < 12 && second && same && second.type !== 'question' ? second : first;
  const text = first === last ? first.text : `${first.text} ${last.text}`;
  const about = aboutOf(r, byIndex, ctx, true);
  const answerer = ctx.speakerAt(first.sentence.start);
  const headline = asker
    ? `${asker} asks${answerer && answerer !== asker ? ` ${answerer}` : ''}: ${clean(r.text)}`
    : about.length > 0
      ? `A question about ${list(about)}: ${clean(r.text)}`
      : clean(r.text);
  return { type: 'question', text: headline, quotes: [{ text, near: first.sentence.start }] };
}

function statementDraft(
  r: RankedSentence,
  ranked: RankedSentence[],
  ctx: EpisodeContext,
  used: ReadonlySet<number>,
): InsightDraft | null {
  const about = aboutOf(r, ranked, ctx);
  if (about.length === 0) return null;
  const who = ctx.speakerAt(r.sentence.start);
  const topic = list(about);
  const text =
    r.type === 'recommendation'
      ? who
        ? `${who}'s advice on ${topic}`
        : `Advice on ${topic}`
      : who
        ? `${who} on ${topic}`
        : r.type === 'claim'
          ? `A claim about ${topic}`
          : `An observation about ${topic}`;
  // A second quote: a sentence elsewhere much like this one that names the same topic.
  let support: RankedSentence | null = null;
  let best = 0.45;
  for (const o of ranked) {
    if (Math.abs(o.sentence.index - r.sentence.index) <= 1 || o.words < 7 || used.has(o.sentence.index))
      continue;
    const c = cosine(o.bow, r.bow);
    if (c > best && ctx.namedIn(o.sentence.start, o.sentence.end).some((n) => about.includes(n))) {
      best = c;
      support = o;
    }
  }
  return {
    type: r.type,
    text: text.charAt(0).toUpperCase() + text.slice(1),
    quotes: [
      { text: r.text, near: r.sentence.start },
      ...(support ? [{ text: support.text, near: support.sentence.start }] : []),
    ],
  };
}
