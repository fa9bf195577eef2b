import { z } from 'zod';
import type { Api, ApiEvent, ApiEvents, ApiMethod, JsonValue } from './contract.ts';
import { impossibleDay } from '../dates.ts';

/**
 * The zod schemas of the typed API: one argument tuple per method and one payload per event,
 * each checked against the contract's own types (`ArgSchemas`, `EventSchemas`), so a schema that
 * drifts from `Api` or `ApiEvents` fails to compile. Calls are validated once, by the dispatcher
 * (dispatch.ts), where they enter the service; events where they leave it.
 *
 * Adding a method: declare it in `Api` (contract.ts) and `API_METHODS`, add its tuple here,
 * implement it in app.ts with typed parameters (no validation there). Trailing optional
 * arguments are `.optional()` elements of one tuple: a union of tuples only says "Invalid input".
 */
export const laneSchema = z.enum(['gpu', 'cpu', 'io'], {
  error: (issue) => `"${String(issue.input)}" is not a lane; the lanes are gpu, cpu and io.`,
});
const feedIdSchema = z
  .number({ error: 'A feed id is a number (see `earshot feeds`).' })
  .int('A feed id is a whole number (see `earshot feeds`).')
  .positive('A feed id is a number above 0 (see `earshot feeds`).');
const episodeIdSchema = z
  .number({ error: 'An episode id is a number (see `earshot episodes`).' })
  .int('An episode id is a whole number (see `earshot episodes`).')
  .positive('An episode id is a number above 0 (see `earshot episodes`).');
const modelIdSchema = z
  .string({ error: 'A model id is text, like whisper-base.en (see `earshot models list`).' })
  .min(1, 'Give a model id (see `earshot models list`).')
  .max(200, 'That is too long for a model id (see `earshot models list`).');
const episodeIdsSchema = z
  .array(episodeIdSchema, { error: 'Give a list of episode ids (see `earshot episodes`).' })
  .min(1, 'Name at least one episode (see `earshot episodes`).')
  .max(10_000, 'That is too many episodes at once (at most 10,000).');
/** A time in an episode, in ms. */
const positionSchema = z
  .number({ error: 'A position is a time in ms.' })
  .min(0, 'A position is 0 or more ms.')
  .max(7 * 24 * 3_600_000, 'That is longer than any episode.');
const workflowIdSchema = z.string().min(1, 'Give a workflow id (see `earshot jobs`).');

const searchDateSchema = z.union([
  z.number().int('A date in ms is a whole number.'),
  z.string().superRefine((v, ctx) => {
    const impossible = impossibleDay(v);
    if (impossible) ctx.addIssue({ code: 'custom', message: impossible });
    else if (Number.isNaN(Date.parse(v)))
      ctx.addIssue({
        code: 'custom',
        message: `"${v}" is not a date; write it YYYY-MM-DD (or as an ISO time).`,
      });
  }),
]);

/** A length of time: "30m", "7d", "1h30m" (read by pipeline/digest/window.ts), or ms. */
const durationSchema = z.union([
  z.number().int().positive('A length of time is more than 0 ms.'),
  z.string().trim().min(1, 'Give a length of time, like 30m or 7d.').max(50),
]);

/** Minutes between feed checks (pipeline/store/app-settings.ts REFRESH_MINUTES). */
const refreshMinutesSchema = z
  .number({ error: 'A refresh interval is a number of minutes.' })
  .int('A refresh interval is a whole number of minutes.')
  .min(5, 'The shortest refresh interval is 5 minutes.')
  .max(10_080, 'Feeds are checked at least once a week (10,080 minutes).');
const hourSchema = z
  .number({ error: 'An hour is a number from 0 to 23.' })
  .int('An hour is a whole number from 0 to 23.')
  .min(0, 'An hour is a number from 0 to 23.')
  .max(23, 'An hour is a number from 0 to 23.');

/** A method's argument tuple, as its zod schema must produce it. */
type ArgSchemas = { [K in ApiMethod]: z.ZodType<Parameters<Api[K]>> };

export const argSchemas: ArgSchemas = {
  status: z.tuple([]),
  jobs: z.tuple([
    z
      .object({
        state: z
          .enum(['queued', 'waiting', 'running', 'done', 'failed', 'cancelled'], {
            error: (issue) =>
              `"${String(issue.input)}" is not a job state; the states are queued, waiting, running, done, failed and cancelled.`,
          })
          .optional(),
        lane: laneSchema.optional(),
        limit: z.number().int().positive().max(10_000).optional(),
      })
      .strict()
      .optional(),
  ]),
  workflow: z.tuple([workflowIdSchema]),
  episodeWorkflow: z.tuple([episodeIdSchema]),
  retry: z.tuple([workflowIdSchema, z.string().min(1).optional()]),
  cancel: z.tuple([workflowIdSchema]),
  pauseLane: z.tuple([laneSchema]),
  resumeLane: z.tuple([laneSchema]),
  subscribe: z.tuple([z.string().min(1, 'Give the feed address.'), z.string().optional()]),
  unsubscribe: z.tuple([feedIdSchema]),
  refresh: z.tuple([feedIdSchema.optional()]),
  feeds: z.tuple([]),
  importOpml: z.tuple([z.string(), z.string().optional()]),
  exportOpml: z.tuple([]),
  doctor: z.tuple([]),
  transcript: z.tuple([episodeIdSchema]),
  importFiles: z.tuple([z.array(z.string().min(1)).min(1, 'Name at least one file or folder to import.')]),
  process: z.tuple([
    z.array(episodeIdSchema).optional(),
    z
      .object({ whisper: z.enum(['auto', 'always']).optional() })
      .strict()
      .optional(),
  ]),
  episodes: z.tuple([
    z
      .object({
        feedId: feedIdSchema.optional(),
        limit: z.number().int().positive().max(100_000).optional(),
      })
      .strict()
      .optional(),
  ]),
  models: z.tuple([]),
  installModel: z.tuple([modelIdSchema]),
  importModel: z.tuple([z.string().min(1, 'Name the model file (or embedding-model folder) to import.')]),
  removeModel: z.tuple([modelIdSchema]),
  useModel: z.tuple([modelIdSchema]),
  adviseModels: z.tuple([
    z
      .object({ seconds: z.number().int().min(5).max(600).optional() })
      .strict()
      .optional(),
  ]),
  search: z.tuple([
    z.string().trim().min(1, 'Give something to search for.').max(1000, 'That search is too long.'),
    z
      .object({
        limit: z.number().int().positive().max(200, 'A search returns at most 200 hits.').optional(),
        feedId: feedIdSchema.optional(),
        from: searchDateSchema.optional(),
        to: searchDateSchema.optional(),
        entity: z.string().min(1).max(200).optional(),
      })
      .strict()
      .optional(),
  ]),
  show: z.tuple([episodeIdSchema]),
  entities: z.tuple([
    z
      .object({
        limit: z.number().int().positive().max(10_000).optional(),
        type: z
          .enum(['person', 'organization', 'place', 'topic'], {
            error: 'An entity type is person, organization, place or topic.',
          })
          .optional(),
      })
      .strict()
      .optional(),
  ]),
  entity: z.tuple([
    z
      .number({ error: 'An entity id is a number (see `earshot entities`).' })
      .int('An entity id is a whole number (see `earshot entities`).')
      .positive('An entity id is a number above 0 (see `earshot entities`).'),
  ]),
  graph: z.union([
    z.tuple([]),
    z.tuple([
      z
        .object({
          entityId: z
            .number({ error: 'An entity id is a number (see `earshot entities`).' })
            .int('An entity id is a whole number (see `earshot entities`).')
            .positive('An entity id is a number above 0 (see `earshot entities`).')
            .optional(),
          episodeId: episodeIdSchema.optional(),
          types: z
            .array(
              z.enum(['person', 'organization', 'place', 'topic'], {
                error: 'An entity type is person, organization, place or topic.',
              }),
            )
            .optional(),
          feedId: feedIdSchema.optional(),
          minDegree: z.number().int('A degree is a whole number.').min(0).max(10_000).optional(),
          limit: z.number().int().positive().max(5000, 'A graph has at most 5,000 nodes.').optional(),
        })
        .strict()
        .refine((q) => q.entityId === undefined || q.episodeId === undefined, {
          message: 'Ask for one entity or one episode, not both.',
        })
        .optional(),
    ]),
  ]),
  editSegment: z.tuple([
    episodeIdSchema,
    z.number().int('A segment index is a whole number.').min(0, 'Segments are numbered from 0.'),
    z
      .string()
      .min(1, 'Give the corrected text of the segment.')
      .max(10_000, 'That is too long for one segment.'),
  ]),
  failures: z.tuple([]),
  skipEpisodes: z.tuple([
    z.array(episodeIdSchema).min(1, 'Name at least one episode to skip (see `earshot failures`).'),
  ]),
  shows: z.tuple([]),
  // One tuple with an optional object, so a wrong field gets its own message (not "Invalid input").
  episodePage: z.tuple([
    z
      .object({
        feedId: feedIdSchema.nullable().optional(),
        offset: z
          .number({ error: 'An offset is a number of episodes to skip.' })
          .int('An offset is a whole number.')
          .min(0, 'An offset is 0 or more.')
          .optional(),
        limit: z.number().int().positive().max(500, 'A page holds at most 500 episodes.').optional(),
        unplayed: z.boolean().optional(),
        processed: z.boolean().optional(),
        hasTranscript: z.boolean().optional(),
      })
      .strict()
      .optional(),
  ]),
  digest: z.tuple([
    z
      .object({
        since: z.string().min(1).max(50).optional(),
        from: searchDateSchema.optional(),
        to: searchDateSchema.optional(),
        budget: durationSchema.optional(),
      })
      .strict()
      .optional(),
  ]),
  episode: z.tuple([episodeIdSchema]),
  savePosition: z.tuple([episodeIdSchema, positionSchema, positionSchema.optional()]),
  markPlayed: z.tuple([episodeIdsSchema, z.boolean({ error: 'Played is true or false.' }).optional()]),
  inbox: z.tuple([
    z
      .object({ limit: z.number().int().positive().max(10_000).optional() })
      .strict()
      .optional(),
  ]),
  visitInbox: z.tuple([]),
  dismissFromInbox: z.tuple([episodeIdsSchema]),
  assetSource: z.tuple([z.string().max(200)]),
  digests: z.tuple([
    z
      .object({ limit: z.number().int().positive().max(1000).optional() })
      .strict()
      .optional(),
  ]),
  savedDigest: z.tuple([
    z
      .number({ error: 'A digest id is a number (see `earshot digests`).' })
      .int('A digest id is a whole number (see `earshot digests`).')
      .positive('A digest id is a number above 0 (see `earshot digests`).'),
  ]),
  digestSettings: z.tuple([]),
  setDigestSettings: z.tuple([
    z
      .object({
        every: z.union([z.literal('off'), durationSchema]).optional(),
        budget: durationSchema.optional(),
      })
      .strict(),
  ]),
  exportLibrary: z.tuple([
    z.string().trim().min(1, 'Name the folder to export into.'),
    z
      .object({
        format: z
          .enum(['obsidian', 'md', 'json', 'srt', 'vtt'], {
            error: 'An export format is obsidian, md, json, srt or vtt.',
          })
          .optional(),
        feedId: feedIdSchema.optional(),
        since: searchDateSchema.optional(),
      })
      .strict()
      .optional(),
  ]),
  feedSettings: z.tuple([feedIdSchema]),
  setFeedSettings: z.tuple([
    feedIdSchema,
    z
      .object({
        backlog: z.string().trim().min(1).max(50).optional(),
        autoProcess: z.boolean({ error: 'Auto-process is on (true) or off (false).' }).optional(),
        refreshMinutes: refreshMinutesSchema.nullable().optional(),
        whisper: z
          .enum(['auto', 'always'], { error: 'Whisper is "auto" (only without a transcript) or "always".' })
          .optional(),
        language: z
          .string()
          .trim()
          .regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'A language is a code like en, de or pt-BR.')
          .nullable()
          .optional(),
        url: z.string().trim().min(1, 'Give the feed address.').max(2048).optional(),
      })
      .strict(),
  ]),
  settings: z.tuple([]),
  setSettings: z.tuple([
    z
      .object({
        refreshMinutes: refreshMinutesSchema.optional(),
        processing: z
          .object({
            onBattery: z
              .enum(['pause', 'continue'], { error: 'On battery, heavy work pauses or continues.' })
              .optional(),
            nightOnly: z.boolean().optional(),
            nightStartHour: hourSchema.optional(),
            nightEndHour: hourSchema.optional(),
            gpuHoursPerDay: z
              .number({ error: 'A daily budget is a number of hours.' })
              .positive('A daily budget is more than 0 hours (or none).')
              .max(24, 'A day has 24 hours.')
              .nullable()
              .optional(),
          })
          .strict()
          .optional(),
        startAtLogin: z.boolean().optional(),
        keepRunningInTray: z.boolean().optional(),
        notifications: z
          .object({ processed: z.boolean().optional(), failures: z.boolean().optional() })
          .strict()
          .optional(),
        appearance: z
          .enum(['system', 'light', 'dark'], { error: 'Appearance is system, light or dark.' })
          .optional(),
        watchFolder: z
          .string()
          .trim()
          .min(1, 'Name the folder to watch (or none).')
          .max(4096)
          .nullable()
          .optional(),
      })
      .strict(),
  ]),
} satisfies ArgSchemas;

const jsonValue: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([
    z.null(),
    z.boolean(),
    z.number(),
    z.string(),
    z.array(jsonValue),
    z.record(z.string(), jsonValue),
  ]),
);
const count = z.number().int().nonnegative();
const id = z.number().int().positive();

/** An event's payload, as its zod schema must produce it. */
type EventSchemas = { [E in ApiEvent]: z.ZodType<ApiEvents[E]> };

export const eventSchemas: EventSchemas = {
  onJobStarted: z.object({
    jobId: id,
    workflowId: z.string(),
    episodeId: id.nullable().optional(),
    step: z.string(),
    lane: laneSchema,
    workerId: z.string(),
    device: z.string().nullable(),
  }),
  onJobProgress: z.object({
    jobId: id,
    workflowId: z.string(),
    episodeId: id.nullable().optional(),
    step: z.string(),
    fraction: z.number().min(0).max(1),
    detail: jsonValue.optional(),
  }),
  onJobFinished: z.object({
    jobId: id,
    workflowId: z.string(),
    episodeId: id.nullable().optional(),
    step: z.string(),
    outcome: z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('committed'), workflowDone: z.boolean() }),
      z.object({ kind: z.literal('retry'), runAt: z.number() }),
      z.object({ kind: z.literal('dead'), reason: z.string() }),
      z.object({ kind: z.literal('stale') }),
    ]),
  }),
  onModelProgress: z.object({ id: z.string(), bytes: count, total: count.nullable() }),
  onEpisodeChanged: z.object({ episodeId: id, status: z.string() }),
  onLaneChanged: z.object({
    lane: laneSchema,
    paused: z.boolean(),
    holds: z.array(z.string()),
    concurrency: count,
    queued: count,
    delayed: count,
    running: count,
  }),
  onDigestReady: z.object({
    digestId: id,
    from: z.number(),
    to: z.number(),
    stories: count,
    episodes: count,
    headline: z.string(),
  }),
  onFeedProgress: z.object({
    phase: z.enum(['refresh', 'import']),
    done: count,
    total: count,
    feedId: id,
    url: z.string(),
    ok: z.boolean(),
    error: z.string().nullable(),
  }),
  onImportProgress: z.object({
    importId: z.string(),
    done: count,
    total: count,
    file: z
      .object({
        path: z.string(),
        name: z.string(),
        outcome: z.enum(['imported', 'duplicate', 'rejected']),
        episodeId: id.nullable(),
        title: z.string().nullable(),
        reason: z.string().nullable(),
      })
      .nullable(),
    watchFolder: z.boolean(),
  }),
  onSettingsChanged: z.object({
    dataDir: z.string(),
    refreshMinutes: z.number(),
    processing: z.object({
      onBattery: z.enum(['pause', 'continue']),
      nightOnly: z.boolean(),
      nightStartHour: z.number().int(),
      nightEndHour: z.number().int(),
      gpuHoursPerDay: z.number().nullable(),
    }),
    startAtLogin: z.boolean(),
    keepRunningInTray: z.boolean(),
    notifications: z.object({ processed: z.boolean(), failures: z.boolean() }),
    appearance: z.enum(['system', 'light', 'dark']),
    watchFolder: z.string().nullable(),
    watchFolderStatus: z.object({ watching: z.boolean(), error: z.string().nullable() }).nullable(),
    gpuUsedTodayMs: count,
  }),
} satisfies EventSchemas;

export class ApiInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ApiInputError';
  }
}

function explain(error: z.ZodError): string {
  return error.issues.map((i) => i.message).join('; ');
}

/** A method's arguments, validated: an ApiInputError says what was wrong, in the user's terms. */
export function parseArgs<K extends ApiMethod>(method: K, args: readonly unknown[]): Parameters<Api[K]> {
  const r = argSchemas[method].safeParse(args);
  if (!r.success) throw new ApiInputError(explain(r.error));
  return r.data as Parameters<Api[K]>;
}

/** An event's payload, validated before it leaves the service (a payload that does not fit is a bug). */
export function parseEvent<E extends ApiEvent>(event: E, payload: unknown): ApiEvents[E] {
  const r = eventSchemas[event].safeParse(payload);
  if (!r.success)
    throw new TypeError(`The ${event} event's payload does not fit the contract: ${explain(r.error)}`);
  return r.data as ApiEvents[E];
}
