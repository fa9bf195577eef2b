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
  paused: boolean;
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
  ffmpeg: { ok: true; path: string; version: string } | { ok: false; error: string };
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

export interface Api {
  status(): Promise<StatusView>;
  jobs(query?: JobsQuery): Promise<JobView[]>;
  workflow(id: string): Promise<WorkflowView>;
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
}

export type ApiMethod = keyof Api;

/** Every method name, for shells that register handlers (checked complete against Api). */
export const API_METHODS = [
  'status',
  'jobs',
  'workflow',
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
] as const satisfies readonly ApiMethod[];
type MissingMethods = Exclude<ApiMethod, (typeof API_METHODS)[number]>;
export const API_METHODS_COMPLETE: [MissingMethods] extends [never] ? true : never = true;
