import type { GbnfJsonSchemaToType } from 'node-llama-cpp';
import type { ChatPrompt } from './runtime.ts';

/**
 * The understanding tier's prompts and the JSON schemas that constrain their answers. Artifacts
 * record PROMPT_VERSION: change it whenever a prompt or schema here changes, so fingerprints re-run
 * what depends on them.
 *
 * Every prompt puts the shared system text and the transcript piece first and the task last: the
 * three map prompts for one piece then share a prefix that the model evaluates once (the runtime's
 * KV cache keeps it between calls).
 */
export const PROMPT_VERSION = 'llm-understand-1';

/** Bounds keep every answer inside the tokens allowed for it (see jsonTokenBound). */
const NAME = 80;
const SENTENCE = 240;
const QUOTE = 240;

export const SUMMARY_SCHEMA = {
  type: 'object',
  properties: {
    abstract: {
      type: 'string',
      maxLength: 700,
      description: 'Two to four sentences: what the episode is about.',
    },
    keyPoints: {
      type: 'array',
      items: { type: 'string', maxLength: SENTENCE },
      minItems: 1,
      maxItems: 6,
    },
  },
} as const;
export type LlmSummary = GbnfJsonSchemaToType<typeof SUMMARY_SCHEMA>;

export const INSIGHT_TYPES = ['claim', 'recommendation', 'observation', 'question'] as const;
export type InsightType = (typeof INSIGHT_TYPES)[number];

export const INSIGHTS_SCHEMA = {
  type: 'object',
  properties: {
    insights: {
      type: 'array',
      maxItems: 5,
      items: {
        type: 'object',
        properties: {
          type: { enum: INSIGHT_TYPES },
          text: { type: 'string', maxLength: SENTENCE, description: 'The insight in one sentence.' },
          quotes: {
            type: 'array',
            minItems: 1,
            maxItems: 2,
            items: {
              type: 'string',
              maxLength: QUOTE,
              description: 'Copied word for word from the transcript.',
            },
          },
        },
      },
    },
  },
} as const;
export type LlmInsights = GbnfJsonSchemaToType<typeof INSIGHTS_SCHEMA>;

export const ENTITY_TYPES = ['person', 'organization', 'place', 'topic', 'work', 'product'] as const;
export const ENTITY_ROLES = ['host', 'guest', 'mentioned'] as const;
export type EntityType = (typeof ENTITY_TYPES)[number];
export type EntityRole = (typeof ENTITY_ROLES)[number];

export const ENTITIES_SCHEMA = {
  type: 'object',
  properties: {
    entities: {
      type: 'array',
      maxItems: 12,
      items: {
        type: 'object',
        properties: {
          name: { type: 'string', maxLength: NAME },
          type: { enum: ENTITY_TYPES },
          role: { enum: ENTITY_ROLES },
        },
      },
    },
  },
} as const;
export type LlmEntities = GbnfJsonSchemaToType<typeof ENTITIES_SCHEMA>;

export const SYSTEM_PROMPT =
  'You are a careful assistant that reads podcast transcripts and answers only with JSON in the requested shape. ' +
  'Use only what the transcript says. Never invent names, facts or quotes.';

export interface EpisodeContext {
  /** The show and episode titles, when known: they help the model tell hosts from guests. */
  show?: string;
  title?: string;
}

function transcriptBlock(
  piece: string,
  ctx: EpisodeContext,
  part?: { index: number; count: number },
): string {
  const head = [
    ctx.show ? `Show: ${ctx.show}` : '',
    ctx.title ? `Episode: ${ctx.title}` : '',
    part && part.count > 1 ? `Transcript part ${part.index + 1} of ${part.count}:` : 'Transcript:',
  ]
    .filter(Boolean)
    .join('\n');
  return `${head}\n"""\n${piece}\n"""\n\n`;
}

export type Part = { index: number; count: number };

export function summaryPrompt(piece: string, ctx: EpisodeContext = {}, part?: Part): ChatPrompt {
  return {
    system: SYSTEM_PROMPT,
    user:
      transcriptBlock(piece, ctx, part) +
      'Task: summarize this transcript. "abstract": two to four plain sentences on what is discussed. ' +
      '"keyPoints": up to six short points, the most important first.',
  };
}

export function insightsPrompt(piece: string, ctx: EpisodeContext = {}, part?: Part): ChatPrompt {
  return {
    system: SYSTEM_PROMPT,
    user:
      transcriptBlock(piece, ctx, part) +
      'Task: list up to five insights a listener would want to remember. Each has a "type": "claim" (something asserted as true), ' +
      '"recommendation" (advice to do something), "observation" (something noticed or described) or "question" (an open question raised); ' +
      'a one-sentence "text"; and one or two "quotes" that support it, each copied exactly, word for word, from the transcript above ' +
      '(a sentence or a phrase, no paraphrase, no ellipsis).',
  };
}

export function entitiesPrompt(piece: string, ctx: EpisodeContext = {}, part?: Part): ChatPrompt {
  return {
    system: SYSTEM_PROMPT,
    user:
      transcriptBlock(piece, ctx, part) +
      'Task: list the people, organizations, places, topics, works (books, films, papers) and products this transcript is about. ' +
      'Give each "name" as written in the transcript, its "type", and its "role": "host" (runs the show), "guest" (interviewed) or "mentioned".',
  };
}

/** Combines partial summaries (of consecutive parts of one episode) into one. */
export function summaryReducePrompt(partials: LlmSummary[], ctx: EpisodeContext = {}): ChatPrompt {
  const body = partials
    .map(
      (p, i) =>
        `Part ${i + 1}:\nAbstract: ${p.abstract}\nKey points:\n${p.keyPoints.map((k) => `- ${k}`).join('\n')}`,
    )
    .join('\n\n');
  const head = [ctx.show ? `Show: ${ctx.show}` : '', ctx.title ? `Episode: ${ctx.title}` : '']
    .filter(Boolean)
    .join('\n');
  return {
    system: SYSTEM_PROMPT,
    user:
      (head ? head + '\n' : '') +
      `Summaries of consecutive parts of one episode:\n"""\n${body}\n"""\n\n` +
      'Task: write one summary of the whole episode. "abstract": two to four plain sentences. ' +
      '"keyPoints": up to six short points, the most important first, without repeating yourself.',
  };
}

/** How a partial summary reads inside the reduce prompt (what its token budget counts). */
export function renderSummary(p: LlmSummary): string {
  return `Abstract: ${p.abstract}\nKey points:\n${p.keyPoints.map((k) => `- ${k}`).join('\n')}\n\n`;
}
