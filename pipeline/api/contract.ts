/**
 * The one typed application API. Every shell (Electron IPC, the HTTP/WebSocket transport of
 * `earshot serve`, the CLI) is checked against this interface. Pure types: the renderer imports
 * this file, so it must not import Node modules.
 */
export type LaneName = 'gpu' | 'cpu' | 'io';
export type WorkflowStatus = 'queued' | 'running' | 'completed' | 'dead' | 'cancelled';
export type StepStatus = 'pending' | 'running' | 'completed' | 'failed' | 'cancelled';
export type JobState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

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
  reason: string;
  updatedAt: number;
}

export interface StatusView {
  dataDir: string;
  lanes: LaneView[];
  workers: WorkerView[];
  workflows: Record<WorkflowStatus, number>;
  deadLetters: DeadLetterView[];
}

export interface JobView {
  id: number;
  workflowId: string;
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
  status: WorkflowStatus;
  priority: number;
  deadReason: string | null;
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
  status: string;
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
  imported: { path: string; episodeId: number; key: string; title: string; durationMs: number | null }[];
  duplicates: { path: string; episodeId: number }[];
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
  /** Reciprocal-rank-fusion score (higher is better). */
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
  /** Refresh one feed, or every feed when no id is given. */
  refresh(
    feedId?: number,
  ): Promise<{ refreshed: RefreshView[]; failed: { feedId: number; error: string }[] }>;
  feeds(): Promise<FeedView[]>;
  episodes(query?: { feedId?: number; limit?: number }): Promise<EpisodeView[]>;
  /** Import an OPML subscription list (its text). */
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
}

export type ApiMethod = keyof Api;
/** What a call resolves to. */
export type ApiResult<K extends ApiMethod> = Awaited<ReturnType<Api[K]>>;

/** A JSON value (what a step reports as progress detail). */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A step was handed to a worker. */
export interface JobStartedEvent {
  jobId: number;
  workflowId: string;
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
  step: string;
  outcome: JobOutcome;
}

/** An episode's state changed (a step committed, it was queued, listed or removed). */
export interface EpisodeChangedEvent {
  episodeId: number;
  /** The episode's status now; 'removed' when it left the library. */
  status: string;
}

/** A digest was written (issue 15 owns its content; this says which and for when). */
export interface DigestReadyEvent {
  digestId: number;
  /** The window it covers, ms since the epoch. */
  from: number;
  to: number;
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
] as const satisfies readonly ApiMethod[];
type MissingMethods = Exclude<ApiMethod, (typeof API_METHODS)[number]>;
export const API_METHODS_COMPLETE: [MissingMethods] extends [never] ? true : never = true;
