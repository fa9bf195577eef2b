/**
 * The one typed application API. Every shell (Electron IPC, the HTTP/WebSocket transport of
 * `earshot serve`, the CLI) is checked against this interface. Pure types: the renderer imports
 * this file, so it must not import Node modules.
 */
export type LaneName = 'gpu' | 'cpu' | 'io';
/** 'waiting': its next step needs something not there yet (a Whisper model); it resumes by itself. */
export type WorkflowStatus = 'queued' | 'waiting' | 'running' | 'completed' | 'dead' | 'cancelled';
export type StepStatus = 'pending' | 'waiting' | 'running' | 'completed' | 'failed' | 'cancelled';
export type JobState = 'queued' | 'waiting' | 'running' | 'done' | 'failed' | 'cancelled';

/** The episode a job, workflow or dead letter works on, by name. */
export interface EpisodeRefView {
  id: number;
  title: string | null;
  /** The show's title; null for a file you imported. */
  show: string | null;
}

export interface LaneView {
  lane: LaneName;
  /** Paused by the user (`earshot pause`, the tray, the UI): stored, survives restarts. */
  paused: boolean;
  /**
   * Live reasons the lane waits besides the user's pause, e.g. "on battery" or "measuring this
   * machine (models advise)": never stored over the user's choice, gone when the reason is.
   */
  holds: string[];
  /** Jobs this lane runs at once (for gpu: the number of GPU devices). */
  concurrency: number;
  queued: number;
  /** Queued but waiting for a retry backoff to end. */
  delayed: number;
  running: number;
}

export interface WorkerView {
  engine: string;
  workerId: string;
  lane: LaneName;
  pid: number | null;
  state: 'starting' | 'idle' | 'busy' | 'exited';
  jobId: number | null;
  restarts: number;
  lastExit: string | null;
}

export interface DeadLetterView {
  workflowId: string;
  kind: string;
  subject: string;
  /** The episode it was for; null when the work is not an episode's. */
  episode: EpisodeRefView | null;
  reason: string;
  updatedAt: number;
}

/** Work that waits for something (a model): how many episodes, and for what. */
export interface WaitingView {
  /** What it waits for, as the engine names it ('model:whisper'). */
  resource: string;
  /** The same for people: "a Whisper model". */
  what: string;
  episodes: number;
  /**
   * For a model: the one to suggest (`models advise`'s choice on this machine, else a first
   * choice from the catalog), by id; null when there is none to suggest.
   */
  recommended: string | null;
}

export interface StatusView {
  dataDir: string;
  lanes: LaneView[];
  workers: WorkerView[];
  workflows: Record<WorkflowStatus, number>;
  /** Episodes waiting for something, by what they wait for (not failures: they resume by themselves). */
  waiting: WaitingView[];
  deadLetters: DeadLetterView[];
}

export interface JobView {
  id: number;
  workflowId: string;
  /** The episode it works on; null when the work is not an episode's. */
  episode: EpisodeRefView | null;
  step: string;
  lane: LaneName;
  state: JobState;
  priority: number;
  attempts: number;
  recoveries: number;
  runAt: number;
  leaseOwner: string | null;
  leaseExpiresAt: number | null;
  lastError: string | null;
  /** When a running job was handed to its worker; null when it is not running. */
  startedAt: number | null;
  /**
   * How far a running job is (0..1), as its step last reported it to the engine of this process
   * (`onJobProgress`); null when not running or not reported (yet, or by an engine elsewhere).
   */
  progress: number | null;
}

export interface StepView {
  name: string;
  lane: LaneName;
  status: StepStatus;
  attempts: number;
  recoveries: number;
  startedAt: number | null;
  finishedAt: number | null;
  durationMs: number | null;
  error: string | null;
  reusedFrom: string | null;
}

export interface WorkflowView {
  id: string;
  kind: string;
  subject: string;
  /** The episode it works on; null when the work is not an episode's. */
  episode: EpisodeRefView | null;
  status: WorkflowStatus;
  priority: number;
  deadReason: string | null;
  /** While waiting: what for, in words ("a Whisper model"). */
  waitingFor: string | null;
  createdAt: number;
  updatedAt: number;
  completedAt: number | null;
  steps: StepView[];
}

export interface JobsQuery {
  state?: JobState;
  lane?: LaneName;
  /** Default 50. */
  limit?: number;
}

export interface FeedView {
  id: number;
  url: string;
  title: string | null;
  /** Which episodes of the back catalogue are processed: new, all, last:N or since:YYYY-MM-DD. */
  backlog: string;
  episodeCount: number;
  lastRefreshAt: number | null;
  /** Why the last refresh failed, written for the user; null when it worked. */
  lastError: string | null;
  /** Since when checks fail (the first failure after the last success); null while they work. */
  failingSince: number | null;
  nextRefreshAt: number | null;
}

export interface EpisodeView {
  id: number;
  feedId: number | null;
  key: string;
  /** Where the episode's identity came from: its guid, its enclosure URL, title + date, or file content. */
  keySource: 'guid' | 'enclosure' | 'title-date' | 'content-hash' | null;
  title: string | null;
  publishedAt: number | null;
  durationMs: number | null;
  enclosureUrl: string | null;
  transcriptUrl: string | null;
  /**
   * listed, queued, processing, downloaded, transcribed, understood…; 'waiting' (for what:
   * `waitingFor`) when it needs something not there yet and resumes by itself once it is;
   * 'failed' (see `failures`), 'cancelled', or 'skipped' (you gave up on it).
   */
  status: string;
  /** What a waiting episode waits for, in words ("a Whisper model"); null otherwise. */
  waitingFor: string | null;
  /** Optional parts that were skipped without failing the episode (chapters that would not load). */
  notes: string[];
  /** A transcript is stored (the publisher's or Whisper's): `transcript` can read it. */
  hasTranscript: boolean;
  /** Its summary, insights and knowledge graph are stored: `show` can read them. */
  understood: boolean;
}

export interface RefreshView {
  feedId: number;
  notModified: boolean;
  added: number;
  updated: number;
  queued: number[];
  movedTo?: string;
}

export interface OpmlImportView {
  added: FeedView[];
  /** Added, but not readable yet: they stay subscribed and show the reason. */
  failed: { feedId: number; url: string; error: string }[];
  existing: string[];
  skipped: { text: string; reason: string }[];
}

export interface ImportView {
  imported: {
    path: string;
    episodeId: number;
    key: string;
    title: string;
    durationMs: number | null;
    /** Its processing, started at once (`onJobProgress` carries this id); null without a pipeline. */
    workflowId: string | null;
  }[];
  /** Already in the library (the same content), with the episode it is and its title. */
  duplicates: { path: string; episodeId: number; title: string | null }[];
  rejected: { path: string; reason: string }[];
}

export interface DoctorView {
  dataDir: string;
  /** Where models live: EARSHOT_MODELS_DIR, else <data dir>/models. */
  modelsDir: string;
  hardware: {
    platform: string;
    arch: string;
    osRelease: string;
    cpu: { model: string; cores: number };
    memory: { totalBytes: number; freeBytes: number };
    gpus: {
      backend: 'cuda' | 'metal';
      index: number;
      name: string;
      vramBytes: number | null;
      driver?: string;
    }[];
    backends: { metal: boolean; cuda: boolean; cpu: true };
    notes: string[];
  };
  /** What each lane runs on here, and the concurrency this library's engine is configured with. */
  lanes: Record<LaneName, { concurrency: number; uses: string; configured: number }>;
  /**
   * What decodes audio: FFmpeg's libraries through node-av (shipped per platform on npm), or a
   * system ffmpeg named by EARSHOT_FFMPEG; its FFmpeg version and where it came from.
   */
  decoder:
    | { ok: true; name: string; version: string; major: number; source: string; path: string }
    | { ok: false; error: string };
  /** The whisper.cpp binding chosen for this machine (models/whisper/choose.ts) and the active model. */
  whisper:
    | {
        ok: true;
        binding: 'napi-rs' | 'fugood';
        variant: 'default' | 'cuda' | 'vulkan';
        gpu: boolean;
        reason: string;
        model: string | null;
      }
    | { ok: false; error: string };
}

export interface AdviceView {
  binding: {
    binding: 'napi-rs' | 'fugood';
    variant: 'default' | 'cuda' | 'vulkan';
    gpu: boolean;
    reason: string;
  };
  threads: number;
  /** Audio per trial, seconds. */
  audioSeconds: number;
  /** One run per Whisper size, smallest first: how many times faster than real time. */
  trials: { size: string; realtimeFactor: number; seconds: number }[];
  whisper: { id: string; label: string; realtimeFactor: number | null; reason: string };
  llm: { id: string; label: string; reason: string };
  backlog: { episodes: number; audioHours: number; estimateHours: number | null; text: string };
  notes: string[];
}

export interface TranscriptView {
  episodeId: number;
  title: string | null;
  source: 'publisher' | 'whisper';
  /** The Whisper model that wrote it, or 'publisher'. */
  model: string | null;
  language: string | null;
  /** False for a publisher's plain-HTML transcript (no timings). */
  timed: boolean;
  segments: { startMs: number; endMs: number; text: string; speaker?: string }[];
}

export interface ProcessOptions {
  /** 'always': transcribe with Whisper even when the publisher has a transcript. Default 'auto'. */
  whisper?: 'auto' | 'always';
}

export type ModelKind = 'whisper' | 'llm' | 'embedding';

/** A model: installed (from the catalog or imported), or in the catalog and not installed. */
export interface ModelView {
  id: string;
  kind: ModelKind;
  /** The catalog's name for it, or the file name of an imported custom model. */
  label: string;
  installed: boolean;
  /** The model this kind uses now (`useModel`). */
  active: boolean;
  /** Where it is: the model file, or the folder of an embedding model; null when not installed. */
  path: string | null;
  /** Size on disk when installed, else the download size (null when the catalog does not know it). */
  bytes: number | null;
  /**
   * How the installed file was checked: true, against the published hash; 'size-only', the
   * catalog gives no hash and the size matched; false, not checked (a custom import). Null when
   * not installed.
   */
  verified: boolean | 'size-only' | null;
  source: 'catalog' | 'import' | null;
  installedAt: number | null;
  /** Bytes of an interrupted download kept for resuming; null when there is none. */
  partialBytes: number | null;
  /** The catalog's one-line quality note; null for custom models. */
  quality: string | null;
  /** The catalog's licence of the weights (e.g. "MIT"); null for custom models. */
  licence: string | null;
  /** Memory it needs while loaded (an estimate); null when unknown. */
  memoryBytes: number | null;
}

/** The result of installing, importing, removing or choosing a model. */
export interface ModelActionView {
  model: ModelView;
  /** What happened, in a sentence or two (what to do next, when there is something to do). */
  message: string;
}

/** Payload of the `onModelProgress` event while a model downloads. */
export interface ModelProgressEvent {
  id: string;
  bytes: number;
  total: number | null;
}

/** Payload of the `onFeedProgress` event: one feed checked while many are (refresh all, OPML import). */
export interface FeedProgressEvent {
  phase: 'refresh' | 'import';
  /** Feeds checked so far, of `total`. */
  done: number;
  total: number;
  feedId: number;
  url: string;
  ok: boolean;
  /** Why it could not be read, for people; null when it was. */
  error: string | null;
}

/** Filters and size of a library search (`search`). */
export interface SearchQuery {
  /** Hits returned. Default 20, at most 200. */
  limit?: number;
  /** Only this show's episodes (see `feeds`). */
  feedId?: number;
  /** Only episodes published on or after this date: YYYY-MM-DD, an ISO time, or ms since the epoch. */
  from?: string | number;
  /** Only episodes published on or before this date (a bare YYYY-MM-DD includes that whole day). */
  to?: string | number;
  /** Only episodes that mention this entity (a name from the knowledge graph). */
  entity?: string;
}

export interface SearchHitView {
  chunkId: number;
  episodeId: number;
  episodeTitle: string | null;
  feedId: number | null;
  feedTitle: string | null;
  publishedAt: number | null;
  /** Where the text comes from: the transcript, the episode title, its show notes, or an insight. */
  kind: 'transcript' | 'title' | 'notes' | 'insight';
  /**
   * Every source found at this moment, `kind` first: hits are grouped by episode and moment, so
   * an insight quoting a passage that also matched is one hit with kinds ['transcript', 'insight'].
   */
  kinds: ('transcript' | 'title' | 'notes' | 'insight')[];
  /** A passage of the hit, whitespace collapsed. */
  snippet: string;
  /** [start, end) offsets in `snippet` of the words that matched the query. */
  highlights: [number, number][];
  /** Where to start playing; null when the text has no time (title, notes, an untimed transcript). */
  startMs: number | null;
  endMs: number | null;
  /** Which searches found it: by its words, by its meaning (embeddings), or both. */
  matchedBy: ('keyword' | 'meaning')[];
  /** Reciprocal-rank-fusion score (higher is better); a title that is exactly the query gets 1 more, so it comes first. */
  score: number;
}

export interface SearchView {
  query: string;
  /** 'hybrid': words and meaning; 'keyword': words only (`note` says why). */
  mode: 'hybrid' | 'keyword';
  /** Said to the user when the search was narrower than it could be; null otherwise. */
  note: string | null;
  /** The embedding model used for meaning, when there was one. */
  modelId: string | null;
  hits: SearchHitView[];
}

/** A quote verified as a verbatim span of the transcript: offsets into its full text, and times. */
export interface QuoteView {
  text: string;
  /** [charStart, charEnd) in the transcript's segments joined by single spaces. */
  charStart: number;
  charEnd: number;
  /** Where to play it from; null for an untimed transcript. */
  startMs: number | null;
  endMs: number | null;
}

export type InsightKind = 'claim' | 'recommendation' | 'observation' | 'question';
export type EntityKind = 'person' | 'organization' | 'place' | 'topic';

/** An episode's understanding (`show`): summary, insights with their quotes, entities. */
export interface EpisodeUnderstandingView {
  episodeId: number;
  title: string | null;
  /** 'classic': NLP on this machine, no model; 'llm': the language model `modelId`. */
  tier: 'classic' | 'llm';
  modelId: string | null;
  promptVersion: string;
  schemaVersion: number;
  /** SHA-256 of the transcript segments it was made from. */
  transcriptSha256: string;
  summary: { abstract: string; keyPoints: { text: string; quote: QuoteView | null }[] };
  /** `grounded` is false when no quote could be verified in the transcript: never show those as grounded. */
  insights: { id: string; type: InsightKind; text: string; grounded: boolean; quotes: QuoteView[] }[];
  entities: {
    id: string;
    name: string;
    type: EntityKind;
    role: 'host' | 'guest' | 'mentioned';
    aliases: string[];
    mentionCount: number;
    firstMs: number | null;
    /** The library-wide entity (`entities`) it was merged into. */
    canonicalId: number | null;
    episodeCount: number;
  }[];
  relations: { source: string; target: string; type: string; count: number }[];
}

/** A library-wide entity: one person, organization, place or topic across episodes. */
export interface CanonicalEntityView {
  id: number;
  type: EntityKind;
  name: string;
  aliases: string[];
  episodeCount: number;
  mentionCount: number;
}

/** One library entity and the episodes that name it (`entity`). */
export interface CanonicalEntityDetailView extends CanonicalEntityView {
  /** Newest first. */
  episodes: {
    episodeId: number;
    title: string | null;
    feedId: number | null;
    feedTitle: string | null;
    publishedAt: number | null;
    /** The name this episode uses for it. */
    name: string;
    role: 'host' | 'guest' | 'mentioned';
    mentions: number;
    /** Where the episode first names it; null when the transcript has no times. */
    firstMs: number | null;
  }[];
}

/** One thing to do about a group of failures. */
export interface FailureActionView {
  /**
   * 'retry': run each episode's failed step again; 'retry-from': run `step` and every later step
   * again; 'skip': stop trying (a failed episode stays in the library, unprocessed; a skipped
   * part stays skipped and its note goes away).
   */
  kind: 'retry' | 'retry-from' | 'skip';
  step?: string;
  /** A button's words: "Try again", "Download again", "Skip". */
  label: string;
}

/** Episodes that failed (or lost an optional part) for the same cause, in one show. */
export interface FailureGroupView {
  /** Stable while the group lasts: the cause and the show (`earshot failures retry ID`). */
  id: string;
  /** What went wrong, as a key: 'audio-missing', 'audio-unreachable', 'chapters-skipped'… */
  cause: string;
  /** 'failed': the episodes stopped; 'skipped-part': they were processed without an optional part. */
  severity: 'failed' | 'skipped-part';
  /** For people: "3 episodes of Show: the audio address answers 404 …". */
  message: string;
  feedId: number | null;
  show: string | null;
  episodes: {
    id: number;
    title: string | null;
    show: string | null;
    /** Its workflow (`retry`, `workflow`); null for a skipped part. */
    workflowId: string | null;
    /** The step that failed; null for a skipped part. */
    step: string | null;
    /** The error as recorded, or the note. */
    error: string;
  }[];
  actions: FailureActionView[];
}

/** What a node of the knowledge graph is. */
export type GraphNodeType = EntityKind | 'show' | 'episode' | 'insight' | 'quote';
/** How two nodes are related (stored per episode with the quotes that back it). */
export type GraphEdgeKind = 'host-of' | 'guest-on' | 'mentions' | 'co-occurs' | 'insight-supports' | 'about';

/** Which graph `graph` returns: the library's, one entity's neighbourhood, or one episode's. */
export interface GraphQuery {
  /** One entity in focus (id from `entities`) with its neighbours and the episodes that name it. */
  entityId?: number;
  /** One episode's graph: its insights, their quotes and the entities they name. */
  episodeId?: number;
  /** Only these kinds of entity. Default: all four. */
  types?: EntityKind[];
  /** Only what this show's episodes say (see `feeds`). */
  feedId?: number;
  /** Leave out nodes with fewer edges than this (after the other filters). Default 0. */
  minDegree?: number;
  /** At most this many nodes, the ones in most episodes first. Default 500, at most 5,000. */
  limit?: number;
}

export interface GraphNodeView {
  /** 'entity:12', 'episode:3', 'show:1', 'insight:3:c-120', 'quote:3:120-180'. */
  id: string;
  type: GraphNodeType;
  label: string;
  /** Episodes it is in (an entity, a show); 1 for an episode, an insight or a quote. */
  episodes: number;
  /** The library entity (`entity`), for entity nodes. */
  entityId?: number;
  /** The episode it belongs to (episode, insight and quote nodes). */
  episodeId?: number;
  /** Where to play it from (insights and quotes); null for an untimed transcript. */
  startMs?: number | null;
  /** An episode graph's people: their part in it. */
  role?: 'host' | 'guest' | 'mentioned';
}

export interface GraphEdgeView {
  source: string;
  target: string;
  kind: GraphEdgeKind;
  /** Summed over the episodes that back it: sentences (co-occurs), mentions, episodes (host-of, guest-on). */
  weight: number;
  /** How many episodes back it. */
  episodes: number;
}

export interface GraphView {
  nodes: GraphNodeView[];
  edges: GraphEdgeView[];
  /** The node in focus (an entity or an episode), or null for the library's graph. */
  focus: string | null;
  /** Nodes the filters kept before the limit cut them (so a view can say "500 of 2,300"). */
  matched: number;
}

export interface SegmentEditView {
  episodeId: number;
  index: number;
  workflowId: string;
  /** The steps queued again: understanding and what follows it. */
  rerun: string[];
}

/** Where a listener is in an episode: not started, started, or played to the end (or marked played). */
export type PlayState = 'new' | 'in-progress' | 'played';

/** A show in the library: a followed podcast, or "Your files" (imported episodes, `feedId` null). */
export interface ShowView {
  /** The feed's id; null for "Your files". */
  feedId: number | null;
  title: string;
  author: string | null;
  /** The feed's address; null for "Your files". */
  url: string | null;
  /** The show's artwork on Earshot's own origin ('/artwork/feed/3'), fetched once and cached; null when it has none. */
  artwork: string | null;
  episodeCount: number;
  /** Episodes not played (new or in progress). */
  unplayedCount: number;
  /** Why the last refresh failed, written for the user; null when it worked. */
  lastError: string | null;
  /** Since when checks of the feed fail; null while they work (and for "Your files"). */
  failingSince: number | null;
}

/** Which episodes a list keeps: each filter that is true must hold. */
export interface EpisodeFilter {
  /** Not played yet (new or in progress). */
  unplayed?: boolean;
  /** Transcribed, understood and indexed: the whole pipeline has run. */
  processed?: boolean;
  /** A transcript is stored (the publisher's or Whisper's). */
  hasTranscript?: boolean;
}

export interface EpisodePageQuery extends EpisodeFilter {
  /** One show: a feed id, or null for "Your files" (imported episodes). Omitted: every show. */
  feedId?: number | null;
  /** Rows to skip, newest first. Default 0. */
  offset?: number;
  /** Rows to return. Default 100, at most 500. */
  limit?: number;
}

/** An episode as lists show it. */
export interface EpisodeListItem {
  id: number;
  feedId: number | null;
  /** The show's title ("Your files" for an imported episode). */
  showTitle: string;
  title: string | null;
  publishedAt: number | null;
  durationMs: number | null;
  /**
   * Processing status: listed, queued (its pipeline has not started yet), processing,
   * downloaded, transcribed; waiting (for `waitingFor`: it goes on by itself), failed,
   * cancelled, skipped.
   */
  status: string;
  /** What a waiting episode waits for, in words ("a Whisper model"); null otherwise. */
  waitingFor: string | null;
  hasTranscript: boolean;
  understood: boolean;
  /** Transcribed, understood and indexed. */
  processed: boolean;
  state: PlayState;
  /** Where listening resumes, in ms (0 when new or played). */
  positionMs: number;
  /** Artwork on Earshot's own origin (the episode's own, else its show's); null when there is none. */
  artwork: string | null;
}

/** A window of an episode list (`episodePage`): `total` rows match, `items` start at `offset`. */
export interface EpisodePageView {
  total: number;
  offset: number;
  items: EpisodeListItem[];
}

export interface ChapterView {
  startMs: number;
  title: string;
  url: string | null;
}

/** One episode's page (`episode`): what the header, the show notes and the player need. */
export interface EpisodeDetailView extends EpisodeListItem {
  showAuthor: string | null;
  /** The episode's web page. */
  link: string | null;
  /**
   * The show notes as the feed gives them (HTML, untrusted): sanitize before showing (the
   * renderer uses DOMPurify). Null when there are none.
   */
  notesHtml: string | null;
  /** What relative links in the notes are relative to: the episode's page, else the feed's address. */
  notesBase: string | null;
  /** From the publisher's chapters file or the feed (Podlove), else the file's own; by start time. */
  chapters: ChapterView[];
  /**
   * What the player plays: `url` on Earshot's own origin ('/media/12') serves the downloaded
   * file when there is one (`downloaded`), else streams the publisher's enclosure. Null when
   * there is nothing to play.
   */
  media: { url: string; downloaded: boolean } | null;
  playedAt: number | null;
  /** The episode's latest pipeline run (for `retry`), and its status; null when never queued. */
  workflowId: string | null;
  workflowStatus: WorkflowStatus | null;
  /**
   * Optional parts that could not be fetched and were left out without failing the episode, one
   * sentence each ("Chapters skipped: … (address)."); empty when nothing was skipped.
   */
  skippedParts: string[];
}

/** An episode's playback state after a change (`savePosition`, `markPlayed`). */
export interface PlaybackView {
  episodeId: number;
  state: PlayState;
  positionMs: number;
  playedAt: number | null;
}

export interface InboxItemView extends EpisodeListItem {
  /** When it entered the inbox. */
  arrivedAt: number;
  /** It arrived after your last visit. */
  isNew: boolean;
}

/** New episodes across all shows (`inbox`), newest first: they stay until played or removed. */
export interface InboxView {
  /** Your last visit (`visitInbox`); null before the first. */
  lastVisitAt: number | null;
  /** Episodes that arrived since then. */
  newCount: number;
  total: number;
  items: InboxItemView[];
}

/** Which window a digest covers and how much listening its playlist may take (`digest`). */
export interface DigestQuery {
  /** A window that ends now: "7d", "2w", "36h" (default 7d). Not together with from/to. */
  since?: string;
  /** Start of the window: YYYY-MM-DD, an ISO time, or ms since the epoch. */
  from?: string | number;
  /** End of the window (a bare YYYY-MM-DD includes that whole day). Default: now. */
  to?: string | number;
  /** Listening time for the playlist: "30m", "1h", "1h30m", or ms. Default 30 minutes. */
  budget?: string | number;
}

export interface DigestEpisodeView {
  episodeId: number;
  title: string | null;
  feedId: number | null;
  feedTitle: string | null;
  publishedAt: number | null;
  durationMs: number | null;
}

/** A grounded insight of one of the story's episodes, with its verbatim quote and where it is said. */
export interface DigestInsightView {
  episodeId: number;
  insightId: string;
  type: InsightKind;
  text: string;
  quote: QuoteView;
}

export interface DigestEntityView {
  /** The library entity (`entity`); null when the episode's entity was not merged into one. */
  entityId: number | null;
  name: string;
  type: EntityKind;
  /** How many of the story's episodes name it. */
  episodes: number;
}

/** Episodes of one or more shows about the same thing, grouped by meaning or by shared names. */
export interface DigestStoryView {
  id: string;
  title: string;
  /** Most central first. */
  episodes: DigestEpisodeView[];
  /** Distinct shows among them. */
  shows: number;
  insights: DigestInsightView[];
  entities: DigestEntityView[];
}

/** A person or topic named in more episodes this window than in the one before. */
export interface RisingEntityView {
  entityId: number;
  name: string;
  type: EntityKind;
  episodes: number;
  previousEpisodes: number;
}

/** A stretch of an episode worth hearing: a chapter, or the segment around an insight's quote. */
export interface DigestPlaylistItemView {
  episodeId: number;
  episodeTitle: string | null;
  feedTitle: string | null;
  storyId: string;
  kind: 'chapter' | 'segment';
  /** The chapter's title, or the insight the segment was picked for. */
  title: string;
  startMs: number;
  endMs: number;
}

/** A digest of a window of the library (schema: pipeline/digest/schema.ts, versioned). */
export interface DigestView {
  schemaVersion: 1;
  /** The stored digest's id (`savedDigest`); null for one made on request and not stored. */
  id: number | null;
  generatedAt: number;
  /** [from, to) in ms since the epoch. */
  window: { from: number; to: number };
  /** The window of the same length just before, that `rising` compares with. */
  previousWindow: { from: number; to: number };
  /** How stories were grouped: by the embedding model's vectors, or by shared names and words. */
  grouping: { by: 'embedding' | 'keywords'; modelId: string | null };
  counts: { episodes: number; understood: number; shows: number };
  /** Most important first: most episodes, most shows. */
  stories: DigestStoryView[];
  rising: { people: RisingEntityView[]; topics: RisingEntityView[] };
  playlist: { budgetMs: number; totalMs: number; items: DigestPlaylistItemView[] };
  /** Things the reader should know (episodes not understood yet, why grouping fell back to names). */
  notes: string[];
}

/** A stored digest in the list (`digests`), newest first. */
export interface DigestSummaryView {
  id: number;
  window: { from: number; to: number };
  generatedAt: number;
  stories: number;
  episodes: number;
  /** Made by the schedule (true) or on request. */
  scheduled: boolean;
}

export interface DigestSettingsView {
  /** How often a digest is made, in ms (its window is as long); null: never (schedule off). */
  everyMs: number | null;
  /** The playlist's listening time, in ms. */
  budgetMs: number;
  /** The end of the last scheduled digest's window; null before the first. */
  lastTo: number | null;
  /** When the next one is due (it waits for the window's episodes to be processed); null when off. */
  nextAt: number | null;
}

export type ExportFormat = 'obsidian' | 'md' | 'json' | 'srt' | 'vtt';

export interface ExportOptions {
  /** Default obsidian. */
  format?: ExportFormat;
  /** Only this show's episodes. */
  feedId?: number;
  /** Only episodes published on or after this date (YYYY-MM-DD, an ISO time, or ms). */
  since?: string | number;
}

export interface ExportView {
  dir: string;
  format: ExportFormat;
  episodes: number;
  /** Entity notes (obsidian and md). */
  entities: number;
  /** Files created or changed. */
  written: number;
  /** Files that were already up to date. */
  unchanged: number;
  /** Episodes left out, and why (no transcript, untimed for subtitles, not understood yet). */
  skipped: { episodeId: number; title: string | null; reason: string }[];
}

/** A show's own settings (`feedSettings`, `setFeedSettings`), honoured by refresh and processing. */
export interface FeedSettingsView {
  feedId: number;
  url: string;
  title: string | null;
  /**
   * Which of the back catalogue is processed: new, all, last:N or since:YYYY-MM-DD. A change
   * queues the listed episodes the new policy takes in (it never stops one already queued).
   */
  backlog: string;
  /** New episodes are processed as they arrive; off: they are listed only (Process starts one). */
  autoProcess: boolean;
  /** Minutes between checks of this feed; null: the app's interval (Settings). */
  refreshMinutes: number | null;
  /** The interval in use, in minutes: this feed's, else the app's. */
  effectiveRefreshMinutes: number;
  /** 'always': transcribe with Whisper even when the publisher has a transcript. */
  whisper: 'auto' | 'always';
  /** The language Whisper is told and models are chosen for (e.g. 'de'); null: the feed's own. */
  language: string | null;
  /** The language the feed declares; null when it declares none. */
  feedLanguage: string | null;
  lastRefreshAt: number | null;
  lastSuccessAt: number | null;
  /** Why the last check failed, for people; null when it worked. */
  lastError: string | null;
  /** Since when checks fail (the first failure after the last success); null while they work. */
  failingSince: number | null;
  /** Checks failed in a row. */
  failures: number;
  nextRefreshAt: number | null;
  /** What unsubscribing would remove: its episodes, of which transcribed and downloaded. */
  counts: { episodes: number; transcribed: number; downloaded: number };
}

/** A change to a show's settings; what is left out stays as it is. */
export interface FeedSettingsPatch {
  backlog?: string;
  autoProcess?: boolean;
  /** Minutes (5 to 10,080), or null for the app's interval. */
  refreshMinutes?: number | null;
  whisper?: 'auto' | 'always';
  /** A language code ('en', 'de', 'pt-BR'), or null for the feed's own. */
  language?: string | null;
  /** The feed's new address (it moved): checked at once; a failure is kept on the feed. */
  url?: string;
}

/** When heavy work (the gpu lane: Whisper, a language model) may run. Each rule is a lane hold. */
export interface ProcessingRulesView {
  /** On battery power (desktop app): pause heavy work (default) or go on. */
  onBattery: 'pause' | 'continue';
  /** Heavy work only between `nightStartHour` and `nightEndHour` (local time). Default off. */
  nightOnly: boolean;
  /** 0–23; default 22 (10 pm). */
  nightStartHour: number;
  /** 0–23; default 7 (7 am). */
  nightEndHour: number;
  /** Hours of gpu-lane work a day (local midnight to midnight); null: no limit (default). */
  gpuHoursPerDay: number | null;
}

export type Appearance = 'system' | 'light' | 'dark';

/** The app's settings (`settings`), kept in the library and shared by every window and shell. */
export interface AppSettingsView {
  /** The library folder (shown; it is chosen at start, see Settings). */
  dataDir: string;
  /** Minutes between checks of each feed (a show may have its own). Default 60. */
  refreshMinutes: number;
  processing: ProcessingRulesView;
  /** Start Earshot when you log in (the desktop app, macOS and Windows). Default off. */
  startAtLogin: boolean;
  /** Closing the window keeps Earshot working from the tray (desktop app). Default on; off quits. */
  keepRunningInTray: boolean;
  /** System notifications from the desktop app, coalesced. Both default on. */
  notifications: { processed: boolean; failures: boolean };
  appearance: Appearance;
  /** A folder whose new audio files are imported by themselves; null: none. */
  watchFolder: string | null;
  /** The watch folder's state: watching, or why not (the folder is gone); null without one. */
  watchFolderStatus: { watching: boolean; error: string | null } | null;
  /** Heavy (gpu-lane) work done today, in ms, against `processing.gpuHoursPerDay`. */
  gpuUsedTodayMs: number;
}

/** A change to the app's settings; what is left out stays as it is. */
export interface AppSettingsPatch {
  /** 5 to 10,080 minutes. */
  refreshMinutes?: number;
  processing?: Partial<ProcessingRulesView>;
  startAtLogin?: boolean;
  keepRunningInTray?: boolean;
  notifications?: Partial<AppSettingsView['notifications']>;
  appearance?: Appearance;
  /** An existing folder outside the library, or null for none. */
  watchFolder?: string | null;
}

/** Payload of `onImportProgress`: one file of an import looked at (drop, dialog, dock, watch folder). */
export interface ImportProgressEvent {
  /** One per `importFiles` call, so several imports can be told apart. */
  importId: string;
  /** Files looked at so far, of `total` (folders expanded). */
  done: number;
  total: number;
  /** The file just looked at and what became of it; null in the first event (nothing looked at yet). */
  file: {
    path: string;
    /** Its file name. */
    name: string;
    outcome: 'imported' | 'duplicate' | 'rejected';
    /** The episode it is (new or already there); null when rejected. */
    episodeId: number | null;
    title: string | null;
    /** Why it was not imported; null otherwise. */
    reason: string | null;
  } | null;
  /** It came from the watch folder (Settings), not from you. */
  watchFolder: boolean;
}

export interface Api {
  status(): Promise<StatusView>;
  jobs(query?: JobsQuery): Promise<JobView[]>;
  workflow(id: string): Promise<WorkflowView>;
  /** An episode's latest workflow (the one `process` or a refresh started last). */
  episodeWorkflow(episodeId: number): Promise<WorkflowView>;
  retry(id: string, fromStep?: string): Promise<WorkflowView>;
  cancel(id: string): Promise<WorkflowView>;
  pauseLane(lane: LaneName): Promise<LaneView>;
  resumeLane(lane: LaneName): Promise<LaneView>;
  subscribe(url: string, backlog?: string): Promise<FeedView>;
  unsubscribe(feedId: number): Promise<FeedView>;
  /** Refresh one feed, or every feed when no id is given (a few at once). Progress: `onFeedProgress`. */
  refresh(
    feedId?: number,
  ): Promise<{ refreshed: RefreshView[]; failed: { feedId: number; error: string }[] }>;
  feeds(): Promise<FeedView[]>;
  episodes(query?: { feedId?: number; limit?: number }): Promise<EpisodeView[]>;
  /** Import an OPML subscription list (its text); every feed is read at once. Progress: `onFeedProgress`. */
  importOpml(opml: string, backlog?: string): Promise<OpmlImportView>;
  /** The subscriptions as OPML 2.0 text. */
  exportOpml(): Promise<string>;
  /** Queue episodes now (ahead of the backlog), or with no ids every episode a policy queued. Returns workflow ids. */
  process(episodeIds?: number[], options?: ProcessOptions): Promise<string[]>;
  /** Import audio files and folders (drag-and-drop); imported episodes are processed at once. */
  importFiles(paths: string[]): Promise<ImportView>;
  /** This machine as Earshot sees it: hardware, GPU backends, what each lane uses, the decoder. */
  doctor(): Promise<DoctorView>;
  /** An episode's transcript (Whisper's, or the publisher's). */
  transcript(episodeId: number): Promise<TranscriptView>;
  /** Installed models, then the catalog's models not installed. */
  models(): Promise<ModelView[]>;
  /** Download a catalog model (resuming an interrupted download), verify it, install it. Progress: `onModelProgress`. */
  installModel(id: string): Promise<ModelActionView>;
  /** Add a model file (or embedding-model folder) the user already has. */
  importModel(path: string): Promise<ModelActionView>;
  removeModel(id: string): Promise<ModelActionView>;
  /** Make an installed model the one its kind uses. */
  useModel(id: string): Promise<ModelActionView>;
  /** Measure this machine (a short Whisper run per model size) and recommend models; estimates the backlog. */
  adviseModels(options?: { seconds?: number }): Promise<AdviceView>;
  /** Search the library by words and meaning (hybrid), with filters; hits jump to a time in the episode. */
  search(query: string, options?: SearchQuery): Promise<SearchView>;
  /** An episode's summary, grounded insights (with quotes that jump to the audio) and entities. */
  show(episodeId: number): Promise<EpisodeUnderstandingView>;
  /** The library's canonical entities, most episodes first. Default limit 100. */
  entities(query?: { limit?: number; type?: EntityKind }): Promise<CanonicalEntityView[]>;
  /** One canonical entity (id from `entities`) with the episodes that name it, newest first. */
  entity(id: number): Promise<CanonicalEntityDetailView>;
  /** The knowledge graph: the library's entities and how they relate, one entity's neighbourhood, or an episode's insights, quotes and entities. */
  graph(query?: GraphQuery): Promise<GraphView>;
  /** Correct one transcript segment (index from 0); understanding and what follows it run again. */
  editSegment(episodeId: number, index: number, text: string): Promise<SegmentEditView>;
  /** What failed, grouped by cause and show, in plain words, with what can be done (waiting is not failing). */
  failures(): Promise<FailureGroupView[]>;
  /** Stop trying these episodes (a failed one stays listed, unprocessed) and clear their notes. */
  skipEpisodes(episodeIds: number[]): Promise<EpisodeView[]>;
  /** The shows in the library with artwork and unplayed counts; "Your files" last when there are imported episodes. */
  shows(): Promise<ShowView[]>;
  /** A window of a show's episodes (or every episode), newest first, with filters and the total. */
  episodePage(query?: EpisodePageQuery): Promise<EpisodePageView>;
  /** One episode: show, dates, artwork, show notes, chapters, play state, what the player plays. */
  episode(episodeId: number): Promise<EpisodeDetailView>;
  /**
   * Remember where listening is (`durationMs`: the length the player found). Near the end (the
   * last 5 %, at most a minute) the episode is marked played.
   */
  savePosition(episodeId: number, positionMs: number, durationMs?: number): Promise<PlaybackView>;
  /** Mark episodes played (or, with false, unplayed again: new, from the start). */
  markPlayed(episodeIds: number[], played?: boolean): Promise<PlaybackView[]>;
  /** New episodes across all shows, newest first, with those since your last visit marked. Default limit 200. */
  inbox(query?: { limit?: number }): Promise<InboxView>;
  /** Record a visit to the inbox now: what is in it stops counting as new. */
  visitInbox(): Promise<{ lastVisitAt: number }>;
  /** Take episodes out of the inbox without marking them played. */
  dismissFromInbox(episodeIds: number[]): Promise<{ removed: number }>;
  /**
   * Where the bytes of a player or artwork address (`/media/ID`, `/artwork/feed/ID`,
   * `/artwork/episode/ID`) are: for the shells that serve them (`earshot serve`, the desktop
   * app's `earshot://`). Artwork is fetched into the cache first when it is not there yet.
   */
  assetSource(path: string): Promise<AssetSource>;
  /** A digest of a window (default the last 7 days), made now and not stored. */
  digest(query?: DigestQuery): Promise<DigestView>;
  /** The stored digests (the schedule's, newest first). */
  digests(query?: { limit?: number }): Promise<DigestSummaryView[]>;
  /** One stored digest (id from `digests`). */
  savedDigest(id: number): Promise<DigestView>;
  digestSettings(): Promise<DigestSettingsView>;
  /** every: "7d", "1d", "off" (or ms); budget: "30m" (or ms). */
  setDigestSettings(settings: {
    every?: string | number;
    budget?: string | number;
  }): Promise<DigestSettingsView>;
  /** Write the library to a folder: an Obsidian/Markdown vault, JSON artifacts, or SRT/WebVTT subtitles. */
  exportLibrary(dir: string, options?: ExportOptions): Promise<ExportView>;
  /** A show's own settings: backlog, auto-process, refresh interval, Whisper, language; why it fails. */
  feedSettings(feedId: number): Promise<FeedSettingsView>;
  /** Change a show's settings (or its address); they apply from now on. */
  setFeedSettings(feedId: number, patch: FeedSettingsPatch): Promise<FeedSettingsView>;
  /** The app's settings: data folder, refresh interval, processing rules, desktop, watch folder. */
  settings(): Promise<AppSettingsView>;
  /** Change the app's settings; every window and shell hears of it (`onSettingsChanged`). */
  setSettings(patch: AppSettingsPatch): Promise<AppSettingsView>;
}

/** Where an asset's bytes are (`assetSource`). */
export type AssetSource =
  /** An audio file on this computer (downloaded, or the imported original). */
  | { kind: 'file'; path: string; contentType: string }
  /** The publisher's file, streamed through; `trustedHost` is the one private host it may be on (the feed's). */
  | { kind: 'remote'; url: string; trustedHost: string | null }
  /** A cached picture. */
  | { kind: 'image'; path: string; contentType: string; etag: string }
  | { kind: 'missing'; message: string };

export type ApiMethod = keyof Api;
/** What a call resolves to. */
export type ApiResult<K extends ApiMethod> = Awaited<ReturnType<Api[K]>>;

/** A JSON value (what a step reports as progress detail). */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A step was handed to a worker. */
export interface JobStartedEvent {
  jobId: number;
  workflowId: string;
  /** The episode the job works on; null when the work is not an episode's. */
  episodeId?: number | null;
  step: string;
  lane: LaneName;
  workerId: string;
  /** The GPU its worker is bound to, e.g. "cuda:1"; null off the gpu lane or without a GPU. */
  device: string | null;
}

/** A running step reported how far it is (0..1), with anything the step adds. */
export interface JobProgressEvent {
  jobId: number;
  workflowId: string;
  /** The episode the job works on; null when the work is not an episode's. */
  episodeId?: number | null;
  step: string;
  fraction: number;
  detail?: JsonValue;
}

/** How a job ended: committed (and whether its workflow is done), retried later, dead-lettered, or no longer held. */
export type JobOutcome =
  | { kind: 'committed'; workflowDone: boolean }
  | { kind: 'retry'; runAt: number }
  | { kind: 'dead'; reason: string }
  | { kind: 'stale' };

export interface JobFinishedEvent {
  jobId: number;
  workflowId: string;
  /** The episode the job works on; null when the work is not an episode's. */
  episodeId?: number | null;
  step: string;
  outcome: JobOutcome;
}

/** An episode's state changed (a step committed, it was queued, listed or removed). */
export interface EpisodeChangedEvent {
  episodeId: number;
  /** The episode's status now; 'removed' when it left the library. */
  status: string;
}

/** The schedule made and stored a digest (`savedDigest(digestId)` reads it). */
export interface DigestReadyEvent {
  digestId: number;
  /** The window it covers, ms since the epoch. */
  from: number;
  to: number;
  stories: number;
  /** Episodes in its stories. */
  episodes: number;
  /** One line for a notification, e.g. "5 stories from 12 episodes this week". */
  headline: string;
}

/**
 * Every event the API pushes to shells (IPC to windows, /events on `earshot serve`, the CLI's
 * listeners), named once with its payload. Payloads are validated where they leave the service
 * (schemas.ts `eventSchemas`), like calls' arguments where they enter it.
 */
export interface ApiEvents {
  onJobStarted: JobStartedEvent;
  onJobProgress: JobProgressEvent;
  onJobFinished: JobFinishedEvent;
  /** A model download's progress (`installModel`). */
  onModelProgress: ModelProgressEvent;
  onEpisodeChanged: EpisodeChangedEvent;
  /** A lane was paused or resumed (by the user, or held by the machine's power), as `status` shows it. */
  onLaneChanged: LaneView;
  onDigestReady: DigestReadyEvent;
  /** One feed checked while many are (`refresh` of every feed, `importOpml`). */
  onFeedProgress: FeedProgressEvent;
  /** One file of an import looked at: imported, already there, or refused. */
  onImportProgress: ImportProgressEvent;
  /** The app's settings changed (from any window, the CLI or the service). */
  onSettingsChanged: AppSettingsView;
}

export type ApiEvent = keyof ApiEvents;

/** Every event name, for shells that forward them (checked complete against ApiEvents). */
export const API_EVENTS = [
  'onJobStarted',
  'onJobProgress',
  'onJobFinished',
  'onModelProgress',
  'onEpisodeChanged',
  'onLaneChanged',
  'onDigestReady',
  'onFeedProgress',
  'onImportProgress',
  'onSettingsChanged',
] as const satisfies readonly ApiEvent[];
type MissingEvents = Exclude<ApiEvent, (typeof API_EVENTS)[number]>;
export const API_EVENTS_COMPLETE: [MissingEvents] extends [never] ? true : never = true;

/** Every method name, for shells that register handlers (checked complete against Api). */
export const API_METHODS = [
  'status',
  'jobs',
  'workflow',
  'episodeWorkflow',
  'retry',
  'cancel',
  'pauseLane',
  'resumeLane',
  'subscribe',
  'unsubscribe',
  'refresh',
  'feeds',
  'episodes',
  'importOpml',
  'exportOpml',
  'process',
  'importFiles',
  'doctor',
  'models',
  'installModel',
  'importModel',
  'removeModel',
  'useModel',
  'adviseModels',
  'transcript',
  'search',
  'show',
  'entities',
  'entity',
  'graph',
  'editSegment',
  'failures',
  'skipEpisodes',
  'shows',
  'episodePage',
  'episode',
  'savePosition',
  'markPlayed',
  'inbox',
  'visitInbox',
  'dismissFromInbox',
  'assetSource',
  'digest',
  'digests',
  'savedDigest',
  'digestSettings',
  'setDigestSettings',
  'exportLibrary',
  'feedSettings',
  'setFeedSettings',
  'settings',
  'setSettings',
] as const satisfies readonly ApiMethod[];
type MissingMethods = Exclude<ApiMethod, (typeof API_METHODS)[number]>;
export const API_METHODS_COMPLETE: [MissingMethods] extends [never] ? true : never = true;
