import { generateJson } from './json.ts';
import { mapReduce, type MapReduceProgress, type Piece } from './map-reduce.ts';
import {
  ENTITIES_SCHEMA,
  entitiesPrompt,
  INSIGHTS_SCHEMA,
  insightsPrompt,
  PROMPT_VERSION,
  renderSummary,
  SUMMARY_SCHEMA,
  summaryPrompt,
  summaryReducePrompt,
  type EntityRole,
  type EntityType,
  type EpisodeContext,
  type InsightType,
  type LlmSummary,
} from './prompts.ts';
import {
  acquireLlm,
  countTokens,
  describeLlm,
  LlmOutputError,
  releaseLlm,
  type ChatPrompt,
  type LlmGpu,
  type LoadedLlm,
} from './runtime.ts';

/**
 * The LLM tier of understanding: summary, insights with quotes, and entities for one transcript,
 * as plain data. Map-reduce keeps every call inside the model's context: each piece of the
 * transcript gets the three prompts (summary, insights, entities; they share the piece as a prefix,
 * evaluated once), then partial summaries are reduced by the model; insights and entities are
 * merged in code, because a quote can only be trusted from the call that saw its text.
 *
 * QUOTES ARE NOT VERIFIED HERE. A quote is what the model wrote; the caller must keep only those it
 * finds verbatim in the transcript (after whitespace/punctuation normalization), and mark an
 * insight with none as ungrounded. `piece` gives the span of the text the quote should come from.
 */

export const LLM_UNDERSTANDING_SCHEMA_VERSION = 1;

export interface LlmInsight {
  type: InsightType;
  text: string;
  /** As the model wrote them: unverified. */
  quotes: string[];
  /** The part of the transcript text the insight came from: [start, end) in UTF-16 units. */
  piece: { index: number; start: number; end: number };
}

export interface LlmEntity {
  name: string;
  type: EntityType;
  /** The strongest role any piece gave it: host > guest > mentioned. */
  role: EntityRole;
  /** Other spellings the model used for it. */
  aliases: string[];
  /** Transcript pieces that named it. */
  pieces: number[];
}

export interface LlmUnderstanding {
  tier: 'llm';
  schemaVersion: number;
  promptVersion: string;
  modelId: string;
  summary: { abstract: string; keyPoints: string[] };
  insights: LlmInsight[];
  entities: LlmEntity[];
  run: ReturnType<typeof describeLlm> & {
    pieces: number;
    pieceTokens: number;
    mapCalls: number;
    reduceCalls: number;
    levels: number;
    tokensGenerated: number;
    elapsedMs: number;
    /** Answers that were cut off or unusable and left out (the rest of the result stands). */
    warnings: string[];
  };
}

export interface LlmUnderstandProgress extends MapReduceProgress {
  /** The prompt now running. */
  stage: 'summary' | 'insights' | 'entities' | 'reduce' | 'done';
}

export interface LlmUnderstandOptions {
  /** The model to use, as activeModel('llm', …) hands it over. */
  model: { id: string; path: string };
  signal?: AbortSignal;
  onProgress?: (p: LlmUnderstandProgress) => void;
  /** 'auto' on a worker bound to a GPU, false on the CPU (see llmGpu). Default 'auto'. */
  gpu?: LlmGpu;
  /** Default llmThreads(). */
  threads?: number;
  /** Context cap in tokens. Default 4096 (EARSHOT_LLM_CONTEXT). */
  maxContext?: number;
  /** Show and episode titles for the prompts. */
  episode?: EpisodeContext;
  /** Most tokens one answer may take. Default a quarter of the context, at most 1024. */
  answerTokens?: number;
  /** An already loaded model (benchmarks, tests); default: the warm model of this worker. */
  llm?: LoadedLlm;
  /** Most insights kept in all. Default 20. */
  maxInsights?: number;
  /** Most entities kept in all. Default 40. */
  maxEntities?: number;
}

interface PieceNotes {
  summary: LlmSummary | null;
  insights: LlmInsight[];
  entities: Array<{ name: string; type: EntityType; role: EntityRole; piece: number }>;
}

/** Tokens the prompt around a piece takes (template tokens included, with room to spare). */
function overhead(llm: LoadedLlm, prompt: ChatPrompt): number {
  return countTokens(llm, prompt.system + '\n' + prompt.user) + 48;
}

const ROLE_RANK: Record<EntityRole, number> = { host: 3, guest: 2, mentioned: 1 };

export function normalizeName(name: string): string {
  return name
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/** One entity per normalized name: the strongest role, the most frequent type, the other spellings. */
export function mergeEntities(found: PieceNotes['entities'], max: number): LlmEntity[] {
  const byKey = new Map<string, LlmEntity & { types: Map<EntityType, number>; count: number }>();
  for (const e of found) {
    const key = normalizeName(e.name);
    if (!key) continue;
    let m = byKey.get(key);
    if (!m) {
      m = {
        name: e.name.trim(),
        type: e.type,
        role: e.role,
        aliases: [],
        pieces: [],
        types: new Map(),
        count: 0,
      };
      byKey.set(key, m);
    }
    m.count++;
    m.types.set(e.type, (m.types.get(e.type) ?? 0) + 1);
    if (ROLE_RANK[e.role] > ROLE_RANK[m.role]) m.role = e.role;
    const spelled = e.name.trim();
    if (spelled !== m.name && !m.aliases.includes(spelled)) m.aliases.push(spelled);
    if (!m.pieces.includes(e.piece)) m.pieces.push(e.piece);
  }
  return [...byKey.values()]
    .sort((a, b) => ROLE_RANK[b.role] - ROLE_RANK[a.role] || b.count - a.count)
    .slice(0, max)
    .map(({ types, count: _count, ...e }) => ({
      ...e,
      type: [...types.entries()].sort((a, b) => b[1] - a[1])[0]![0],
    }));
}

/** Insights in transcript order, the same insight (normalized text) once. */
export function mergeInsights(found: LlmInsight[], max: number): LlmInsight[] {
  const seen = new Set<string>();
  const out: LlmInsight[] = [];
  for (const i of found) {
    const key = normalizeName(i.text);
    if (!key || seen.has(key)) continue;
    seen.add(key);
    out.push(i);
    if (out.length >= max) break;
  }
  return out;
}

/**
 * Summary, insights (quotes unverified: see above) and entities of one transcript's text. Loads
 * the model (kept warm in this worker) unless `llm` is given. Throws LlmAborted when cancelled.
 */
export async function llmUnderstand(
  transcript: string,
  options: LlmUnderstandOptions,
): Promise<LlmUnderstanding> {
  const started = Date.now();
  const llm =
    options.llm ??
    (await acquireLlm(options.model.path, {
      ...(options.gpu !== undefined ? { gpu: options.gpu } : {}),
      ...(options.threads !== undefined ? { threads: options.threads } : {}),
      ...(options.maxContext !== undefined ? { maxContext: options.maxContext } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    }));
  try {
    return await understandWith(llm, transcript, options, started);
  } finally {
    if (!options.llm) releaseLlm();
  }
}

async function understandWith(
  llm: LoadedLlm,
  transcript: string,
  options: LlmUnderstandOptions,
  started: number,
): Promise<LlmUnderstanding> {
  const ctx = options.episode ?? {};
  const answerTokens = options.answerTokens ?? Math.min(1024, Math.floor(llm.contextSize / 4));
  // The longest framing a piece gets (the insights task has the most words).
  const frame = Math.max(
    overhead(llm, summaryPrompt('', ctx, { index: 99, count: 99 })),
    overhead(llm, insightsPrompt('', ctx, { index: 99, count: 99 })),
    overhead(llm, entitiesPrompt('', ctx, { index: 99, count: 99 })),
  );
  const pieceTokens = llm.contextSize - frame - answerTokens;
  const reduceTokens = llm.contextSize - overhead(llm, summaryReducePrompt([], ctx)) - answerTokens;
  if (pieceTokens < 64 || reduceTokens < 64)
    throw new RangeError(
      `The language model's context (${llm.contextSize} tokens) is too small to work on a transcript; choose a model with a larger context.`,
    );

  const warnings: string[] = [];
  let tokensGenerated = 0;
  let pieceCount = 0;
  let current: MapReduceProgress = { phase: 'map', done: 0, total: 1, fraction: 0, level: 0, pieces: 0 };
  const report = (stage: LlmUnderstandProgress['stage'], within = 0): void => {
    const fraction = Math.min(1, (current.done + within) / current.total);
    const phase = stage === 'reduce' ? 'reduce' : current.phase;
    options.onProgress?.({ ...current, phase, fraction, stage });
  };
  const ask = async <T>(
    what: string,
    run: () => Promise<{ value: T; tokens: number }>,
  ): Promise<T | null> => {
    try {
      const out = await run();
      tokensGenerated += out.tokens;
      return out.value;
    } catch (err) {
      // One unusable answer (cut off at answerTokens) loses that answer, not the episode.
      if (err instanceof LlmOutputError) {
        warnings.push(`${what}: ${err.message}`);
        return null;
      }
      throw err;
    }
  };
  const gen = { maxTokens: answerTokens, ...(options.signal ? { signal: options.signal } : {}) };

  const map = async (piece: Piece): Promise<PieceNotes> => {
    const part = { index: piece.index, count: pieceCount };
    const where = { index: piece.index, start: piece.start, end: piece.end };
    report('summary');
    const summary = await ask(`part ${piece.index + 1} summary`, () =>
      generateJson(llm, SUMMARY_SCHEMA, summaryPrompt(piece.text, ctx, part), gen),
    );
    report('insights', 1 / 3);
    const insights = await ask(`part ${piece.index + 1} insights`, () =>
      generateJson(llm, INSIGHTS_SCHEMA, insightsPrompt(piece.text, ctx, part), gen),
    );
    report('entities', 2 / 3);
    const entities = await ask(`part ${piece.index + 1} entities`, () =>
      generateJson(llm, ENTITIES_SCHEMA, entitiesPrompt(piece.text, ctx, part), gen),
    );
    return {
      summary: summary ? { abstract: summary.abstract, keyPoints: [...summary.keyPoints] } : null,
      insights: (insights?.insights ?? []).map((i) => ({
        type: i.type,
        text: i.text,
        quotes: [...i.quotes],
        piece: where,
      })),
      entities: (entities?.entities ?? []).map((e) => ({
        name: e.name,
        type: e.type,
        role: e.role,
        piece: piece.index,
      })),
    };
  };

  const reduce = async (items: PieceNotes[]): Promise<PieceNotes> => {
    report('reduce');
    const partials = items.map((i) => i.summary).filter((s): s is LlmSummary => s !== null);
    const summary =
      partials.length > 1
        ? await ask('combined summary', () =>
            generateJson(llm, SUMMARY_SCHEMA, summaryReducePrompt(partials, ctx), gen),
          )
        : (partials[0] ?? null);
    return {
      summary: summary ? { abstract: summary.abstract, keyPoints: [...summary.keyPoints] } : null,
      insights: items.flatMap((i) => i.insights),
      entities: items.flatMap((i) => i.entities),
    };
  };

  const out = await mapReduce<PieceNotes>({
    text: transcript,
    countTokens: (s) => countTokens(llm, s),
    pieceTokens,
    reduceTokens,
    map: (piece) => map(piece),
    reduce: (items) => reduce(items),
    render: (item) => (item.summary ? renderSummary(item.summary) : ''),
    ...(options.signal ? { signal: options.signal } : {}),
    onProgress: (p) => {
      current = p;
      pieceCount = p.pieces;
    },
  });
  report('done');
  return {
    tier: 'llm',
    schemaVersion: LLM_UNDERSTANDING_SCHEMA_VERSION,
    promptVersion: PROMPT_VERSION,
    modelId: options.model.id,
    summary: out.result.summary ?? { abstract: '', keyPoints: [] },
    insights: mergeInsights(out.result.insights, options.maxInsights ?? 20),
    entities: mergeEntities(out.result.entities, options.maxEntities ?? 40),
    run: {
      ...describeLlm(llm),
      pieces: out.pieces.length,
      pieceTokens,
      mapCalls: out.mapCalls,
      reduceCalls: out.reduceCalls,
      levels: out.levels,
      tokensGenerated,
      elapsedMs: Date.now() - started,
      warnings,
    },
  };
}
