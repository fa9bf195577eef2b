import { z } from 'zod';
import type { DigestView } from '../api/contract.ts';

/**
 * The digest's JSON contract (schemaVersion 1), as zod: stored digests are checked against it
 * when read, tests validate every digest with it, and `earshot digest --schema` prints it as
 * JSON Schema (draft 2020-12). Kept equal to `DigestView` in contract.ts by the type checks below.
 */
const ms = z.number().int();
const window = z.object({ from: ms, to: ms }).strict();
const entityKind = z.enum(['person', 'organization', 'place', 'topic']);

const quote = z
  .object({
    text: z.string().min(1),
    charStart: z.number().int().min(0),
    charEnd: z.number().int().min(0),
    startMs: ms.nullable(),
    endMs: ms.nullable(),
  })
  .strict();

const episode = z
  .object({
    episodeId: z.number().int().positive(),
    title: z.string().nullable(),
    feedId: z.number().int().positive().nullable(),
    feedTitle: z.string().nullable(),
    publishedAt: ms.nullable(),
    durationMs: ms.nullable(),
  })
  .strict();

const story = z
  .object({
    id: z.string().min(1),
    title: z.string().min(1),
    episodes: z.array(episode).min(1),
    shows: z.number().int().min(1),
    insights: z.array(
      z
        .object({
          episodeId: z.number().int().positive(),
          insightId: z.string(),
          type: z.enum(['claim', 'recommendation', 'observation', 'question']),
          text: z.string().min(1),
          quote,
        })
        .strict(),
    ),
    entities: z.array(
      z
        .object({
          entityId: z.number().int().positive().nullable(),
          name: z.string().min(1),
          type: entityKind,
          episodes: z.number().int().min(1),
        })
        .strict(),
    ),
  })
  .strict();

const risingEntity = z
  .object({
    entityId: z.number().int().positive(),
    name: z.string().min(1),
    type: entityKind,
    episodes: z.number().int().min(1),
    previousEpisodes: z.number().int().min(0),
  })
  .strict();

export const digestSchema = z
  .object({
    schemaVersion: z.literal(1),
    id: z.number().int().positive().nullable(),
    generatedAt: ms,
    window,
    previousWindow: window,
    grouping: z.object({ by: z.enum(['embedding', 'keywords']), modelId: z.string().nullable() }).strict(),
    counts: z
      .object({
        episodes: z.number().int().min(0),
        understood: z.number().int().min(0),
        shows: z.number().int().min(0),
      })
      .strict(),
    stories: z.array(story),
    rising: z.object({ people: z.array(risingEntity), topics: z.array(risingEntity) }).strict(),
    playlist: z
      .object({
        budgetMs: z.number().positive(),
        totalMs: z.number().min(0),
        items: z.array(
          z
            .object({
              episodeId: z.number().int().positive(),
              episodeTitle: z.string().nullable(),
              feedTitle: z.string().nullable(),
              storyId: z.string().min(1),
              kind: z.enum(['chapter', 'segment']),
              title: z.string(),
              startMs: ms.min(0),
              endMs: ms.min(0),
            })
            .strict(),
        ),
      })
      .strict()
      .refine((p) => p.totalMs <= p.budgetMs, 'The playlist runs longer than its listening time.'),
    notes: z.array(z.string()),
  })
  .strict();

// The schema and the contract's type describe the same JSON, both ways.
type Parsed = z.infer<typeof digestSchema>;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export const DIGEST_SCHEMA_MATCHES_CONTRACT: Same<Parsed, DigestView> = true;

/** The digest contract as JSON Schema. */
export function digestJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(digestSchema, { target: 'draft-2020-12' }),
    $id: 'https://earshot.app/schemas/digest-1.json',
    title: 'Earshot digest',
  };
}
