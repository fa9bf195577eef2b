/**
 * The app's own words. The API's messages are written for the command line too and name its
 * commands ("`earshot process 12` queues it"); in the app a person has buttons and screens, so
 * every message the UI shows passes through `appWords` (the transport does it once for errors
 * and for the messages in results: `inAppWords`). The CLI keeps its wording. Also the names the
 * app gives lanes, steps and statuses.
 */
import type { Api, ApiMethod, ApiResult, LaneName } from '../../pipeline/api/contract.ts';
import type { Transport } from './transport.ts';

/** A phrase naming a command (backticked), and what the app says instead. Most specific first. */
const PHRASES: [RegExp, string][] = [
  // "Install one (`earshot models install X`, or the Models screen)"
  [/\(`earshot models install ([^`\s]+)`, or (?:the Models screen|Settings → Models)\)/g, '(in Models: $1)'],
  [/\brun `earshot models install ([^`\s]+)` again/g, 'install $1 again in Models'],
  [/\bRun `earshot models install ([^`\s]+)` again/g, 'Install $1 again in Models'],
  [/\btry `earshot models install ([^`\s]+)` again/g, 'try installing $1 again'],
  [/to get that model, run `earshot models install ([^`\s]+)`/g, 'to get that model, install $1 in Models'],
  [/,? ?(?:run|with) `earshot models install ([^`\s]+)`/g, ' in Models ($1)'],
  [/\(`earshot models install[^`]*`\)/g, '(in Models)'],
  [/,? ?with `earshot models use[^`]*`/g, ' in Models (Use)'],
  [/\(`earshot models use[^`]*`\)/g, '(in Models)'],
  [/`earshot models use [^`]*` switches to this one/g, 'Use, in Models, switches to this one'],
  [/\(`earshot models remove[^`]*`\)/g, '(Remove, in Models)'],
  [/,? ?\(after `earshot models remove[^`]*`\)/g, ' (after Remove, in Models)'],
  [/,? ?with `earshot models import[^`]*`/g, ' in Models (Import a model you already have)'],
  [/`earshot models list` shows the catalog/g, 'Models shows the catalog'],
  [/Settings → Models/g, 'Models'],
  [/then `earshot process[^`]*`/g, 'then process it again (Process, on its page)'],
  [/`earshot process[^`]*` queues it/g, 'Process, on its page, queues it'],
  [/`earshot process[^`]*` makes it again/g, 'Process, on its page, makes it again'],
  [/\(`earshot process --all` indexes them\)/g, '(Process on an episode indexes it)'],
  [/`earshot status` shows the progress/g, 'Activity shows the progress'],
  [
    /`earshot retry` with --from-step understand makes them again/g,
    'Understand again, on its page, makes them again',
  ],
  [/`earshot retry` tries again/g, 'Try again, in Problems, tries again'],
  [/`earshot digest --from … --to …` makes one for the same window/g, 'the Digest screen makes a new one'],
];

/** Where each command's work is in the app, for any command the phrases above do not name. */
const SCREENS: [RegExp, string][] = [
  [/^models\b/, 'Models'],
  [/^(process|transcript|show)\b/, 'the episode’s page'],
  [/^(retry|failures|skip)\b/, 'Problems'],
  [/^(status|jobs|workflow|pause|resume|cancel|run)\b/, 'Activity'],
  [/^(episodes|feeds|subscribe|unsubscribe|refresh|opml|import)\b/, 'Podcasts'],
  [/^(entities|entity)\b/, 'People & topics'],
  [/^graph\b/, 'Graph'],
  [/^search\b/, 'Search'],
  [/^(digests?|digest-schedule)\b/, 'Digest'],
  [/^export\b/, 'Export'],
  [/^(inbox|played|unplayed)\b/, 'Inbox'],
];

/**
 * A message from the API in the app's words: commands become the buttons and screens that do
 * the same. `earshot serve` stays: in a browser it is what the person ran.
 */
export function appWords(text: string): string {
  let out = text;
  for (const [pattern, words] of PHRASES) out = out.replace(pattern, words);
  out = out.replace(/`earshot ([^`]+)`/g, (whole, command: string) => {
    if (/^serve\b/.test(command)) return whole;
    return SCREENS.find(([p]) => p.test(command))?.[1] ?? 'Earshot';
  });
  // "… (see Podcasts)." reads fine; "; Podcasts lists them." too. Tidy what the swaps left.
  return out.replace(/ {2,}/g, ' ').replace(/ ([.,;)])/g, '$1');
}

type Rewrite<K extends ApiMethod> = (result: ApiResult<K>) => ApiResult<K>;
const action = (r: { message: string; model: unknown }) => ({ ...r, message: appWords(r.message) });
const orNull = (text: string | null) => (text === null ? null : appWords(text));

/** The messages inside results that the app shows, by method. */
const RESULTS: { [K in ApiMethod]?: Rewrite<K> } = {
  installModel: (r) => action(r) as typeof r,
  importModel: (r) => action(r) as typeof r,
  removeModel: (r) => action(r) as typeof r,
  useModel: (r) => action(r) as typeof r,
  failures: (groups) =>
    groups.map((g) => ({
      ...g,
      message: appWords(g.message),
      episodes: g.episodes.map((e) => ({ ...e, error: appWords(e.error) })),
    })),
  search: (r) => ({ ...r, note: orNull(r.note) }),
  shows: (shows) => shows.map((s) => ({ ...s, lastError: orNull(s.lastError) })),
  feeds: (feeds) => feeds.map((f) => ({ ...f, lastError: orNull(f.lastError) })),
  refresh: (r) => ({ ...r, failed: r.failed.map((f) => ({ ...f, error: appWords(f.error) })) }),
  importOpml: (r) => ({
    ...r,
    failed: r.failed.map((f) => ({ ...f, error: appWords(f.error) })),
    skipped: r.skipped.map((s) => ({ ...s, reason: appWords(s.reason) })),
  }),
  importFiles: (r) => ({ ...r, rejected: r.rejected.map((x) => ({ ...x, reason: appWords(x.reason) })) }),
  exportLibrary: (r) => ({ ...r, skipped: r.skipped.map((x) => ({ ...x, reason: appWords(x.reason) })) }),
  status: (s) => ({ ...s, deadLetters: s.deadLetters.map((d) => ({ ...d, reason: appWords(d.reason) })) }),
  jobs: (jobs) => jobs.map((j) => ({ ...j, lastError: orNull(j.lastError) })),
  workflow: (w) => ({
    ...w,
    deadReason: orNull(w.deadReason),
    steps: w.steps.map((s) => ({ ...s, error: orNull(s.error) })),
  }),
  episodeWorkflow: (w) => ({
    ...w,
    deadReason: orNull(w.deadReason),
    steps: w.steps.map((s) => ({ ...s, error: orNull(s.error) })),
  }),
  digest: (d) => ({ ...d, notes: d.notes.map(appWords) }),
  savedDigest: (d) => ({ ...d, notes: d.notes.map(appWords) }),
};

/** The transport, speaking the app's words: errors and the messages in results. */
export function inAppWords(inner: Transport): Transport {
  return {
    ...inner,
    async invoke<K extends ApiMethod>(name: K, ...args: Parameters<Api[K]>): Promise<ApiResult<K>> {
      let result: ApiResult<K>;
      try {
        result = await inner.invoke(name, ...args);
      } catch (err) {
        if (!(err instanceof Error)) throw new Error(appWords(String(err)));
        const worded = new Error(appWords(err.message));
        worded.name = err.name;
        throw worded;
      }
      const rewrite = RESULTS[name] as Rewrite<K> | undefined;
      return rewrite ? rewrite(result) : result;
    },
  };
}

/** What each lane does, for people: a title and a line. */
export const LANE_WORDS: Record<LaneName, { title: string; does: string }> = {
  io: { title: 'Downloads', does: 'Audio, transcripts and chapters from the internet' },
  cpu: { title: 'Understanding', does: 'Preparing audio, summaries, insights and the search index' },
  gpu: {
    title: 'Transcription',
    does: 'Whisper turns speech into text (and a language model, if you chose one)',
  },
};

const STEP_WORDS: Record<string, string> = {
  download: 'Downloading',
  'publisher-transcript': 'Getting the publisher’s transcript',
  decode: 'Preparing the audio',
  transcribe: 'Transcribing',
  understand: 'Understanding',
  index: 'Indexing for search',
  build: 'Making your digest',
};

/** What a step is doing, as an -ing phrase ("Transcribing"). */
export function stepWords(step: string): string {
  return STEP_WORDS[step] ?? `Working (${step})`;
}

const STATUS_WORDS: Record<string, string> = {
  listed: 'Not processed',
  queued: 'Queued',
  processing: 'Processing',
  downloaded: 'Downloaded',
  transcribed: 'Transcribed',
  understood: 'Understood',
  failed: 'Failed',
  cancelled: 'Stopped',
  skipped: 'Skipped',
};

/** An episode's processing status as a list shows it ("Waiting for a Whisper model"). */
export function statusWords(status: string, waitingFor?: string | null): string {
  if (status === 'waiting') return `Waiting for ${waitingFor ?? 'what it needs'}`;
  return STATUS_WORDS[status] ?? status.charAt(0).toUpperCase() + status.slice(1);
}

/** "about 3 min left", "less than a minute left", "about 1 h 20 min left". */
export function etaWords(ms: number): string {
  if (ms < 60_000) return 'less than a minute left';
  const min = Math.round(ms / 60_000);
  if (min < 60) return `about ${min} min left`;
  const h = Math.floor(min / 60);
  const rest = min % 60;
  return `about ${h} h${rest ? ` ${rest} min` : ''} left`;
}

/** "1 episode", "3 episodes". */
export function count(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en')} ${n === 1 ? one : many}`;
}
