import fs from 'node:fs';
import os from 'node:os';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { openDatabase, databasePath, type Db } from '../store/index.ts';
import { StoreError } from '../store/errors.ts';
import { insideDataDir, insideDataDirMessage, secureDataDir, uploadsDir } from '../store/paths.ts';
import { readSettings, writeSettings } from '../store/app-settings.ts';
import { gpuUsedMs, systemLocalTime } from '../engine/rules.ts';
import { removePartial } from '../ingest/partial.ts';
import { Queue } from '../engine/queue.ts';
import { systemClock, type Clock } from '../engine/clock.ts';
import { defaultLaneConcurrency } from '../engine/engine.ts';
import { LANES, loadRegistry, type Lane, type Registry } from '../engine/workflow.ts';
import type { JobRow, StepRow, WorkflowRow } from '../engine/queue.ts';
import { isProcessAlive } from '../engine/process-alive.ts';
import { LaneHolds } from '../engine/holds.ts';
import type { GpuBinding } from '../engine/devices.ts';
import { detectHardware, planLanes } from '../../models/hardware.ts';
import { advise } from '../../models/advisor.ts';
import { chooseBinding } from '../../models/whisper/choose.ts';
import { decoderInfo } from '../ingest/ffmpeg.ts';
import { activeModel, ModelManager, modelsDir } from '../../models/manager.ts';
import type {
  Api,
  EpisodeRefView,
  FailureGroupView,
  JobView,
  JobsQuery,
  LaneView,
  StatusView,
  WaitingView,
  WorkerView,
  WorkflowStatus,
  WorkflowView,
} from './contract.ts';
import { ApiInputError } from './schemas.ts';
import { ApiEventBus } from './dispatch.ts';
import { Subscriptions } from '../ingest/subscriptions.ts';
import { startEpisodes } from '../ingest/episodes.ts';
import { importFiles } from '../ingest/local-import.ts';
import { PRIORITY_USER } from '../engine/queue.ts';
import type {
  DoctorView,
  EpisodeView,
  FeedView,
  ImportView,
  ModelActionView,
  ModelProgressEvent,
  ModelView,
  OpmlImportView,
  ProcessOptions,
  RefreshView,
  TranscriptView,
  AdviceView,
  ModelKind,
} from './contract.ts';
import type { Transcript } from '../ingest/transcripts.ts';
import type {
  CanonicalEntityDetailView,
  CanonicalEntityView,
  EntityKind,
  EpisodeUnderstandingView,
  SegmentEditView,
} from './contract.ts';
import {
  canonicalEntities,
  canonicalEntity,
  episodeUnderstanding,
  NotUnderstood,
} from '../understand/read.ts';
import { EditError, editSegment } from '../understand/edit.ts';
import { graph } from '../understand/graph.ts';
import type { GraphQuery, GraphView } from './contract.ts';
import type { SearchQuery, SearchView } from './contract.ts';
import { Searcher, searchDate } from '../search/search.ts';
import { episodeRefs, failureGroups } from './failures.ts';
import { modelResource } from '../episode-input.ts';
import { writeTx } from '../store/index.ts';
import { clause } from '../clause.ts';
import type {
  EpisodeDetailView,
  EpisodePageQuery,
  EpisodePageView,
  InboxView,
  PlaybackView,
  ShowView,
  AssetSource,
  DigestQuery,
  DigestSettingsView,
  DigestSummaryView,
  DigestView,
  ExportOptions,
  ExportView,
} from './contract.ts';
import { Listening, NoSuchEpisode } from '../listen/library.ts';
import { AssetSources } from '../listen/assets.ts';
import { buildDigest } from '../digest/build.ts';
import { DigestInputError, digestWindow, parseDuration } from '../digest/window.ts';
import {
  DigestNotFound,
  digestSettings,
  listDigests,
  readDigest,
  saveDigestSettings,
  settingsView,
} from '../digest/store.ts';
import { ExportError, exportLibrary } from '../export/export.ts';
import type {
  AppSettingsPatch,
  AppSettingsView,
  FeedSettingsPatch,
  FeedSettingsView,
  ImportProgressEvent,
} from './contract.ts';

/** The hold `adviseModels` puts on the gpu lane while it measures. */
export const ADVISE_HOLD = 'measuring this machine (models advise)';

export const defaultWorkflowsModule = fileURLToPath(new URL('../workflows.ts', import.meta.url));

export function workflowsModule(env: NodeJS.ProcessEnv = process.env): string {
  return env.EARSHOT_WORKFLOWS_MODULE ? path.resolve(env.EARSHOT_WORKFLOWS_MODULE) : defaultWorkflowsModule;
}

export interface AppContext {
  dataDir: string;
  db: Db;
  registry: Registry;
  registryModule: string;
  queue: Queue;
  clock: Clock;
  lanes: Record<Lane, number>;
  /** The GPUs found (with `detectGpus`): gpu-lane worker i is bound to the i-th. */
  gpus: GpuBinding[];
}

export async function openApp(
  dataDir: string,
  options: {
    clock?: Clock;
    lanes?: Partial<Record<Lane, number>>;
    leaseMs?: number;
    /** Module with the workflows; default EARSHOT_WORKFLOWS_MODULE, else pipeline/workflows.ts. */
    registryModule?: string;
    /**
     * Size the gpu lane from the GPUs found (one job per device). Off by default: only processes
     * that run the engine need it, and it asks the driver (nvidia-smi).
     */
    detectGpus?: boolean;
  } = {},
): Promise<AppContext> {
  const registryModule = options.registryModule ?? workflowsModule();
  const registry = await loadRegistry(registryModule);
  refuseOrphanedMedia(dataDir);
  const db = openDatabase(databasePath(dataDir));
  secureDataDir(dataDir);
  const clock = options.clock ?? systemClock;
  const hardware = options.detectGpus ? await detectHardware() : null;
  const detected = hardware ? planLanes(hardware) : null;
  const lanes = {
    ...defaultLaneConcurrency(),
    ...(detected ? { gpu: detected.gpu.concurrency } : {}),
    ...options.lanes,
  };
  return {
    dataDir,
    db,
    registry,
    registryModule,
    clock,
    lanes,
    gpus: (hardware?.gpus ?? []).map((g) => ({ backend: g.backend, index: g.index, name: g.name })),
    queue: new Queue(db, registry, clock, { leaseMs: options.leaseMs }),
  };
}

/**
 * A library whose database is missing or empty while its media folder holds episodes has lost
 * its database (a failed copy, a truncated file): say so rather than start a new library over it.
 */
function refuseOrphanedMedia(dataDir: string): void {
  const file = databasePath(dataDir);
  const size = fs.statSync(file, { throwIfNoEntry: false })?.size;
  if (size !== undefined && size > 0) return;
  let media: string[] = [];
  try {
    media = fs.readdirSync(path.join(dataDir, 'media')).filter((f) => !f.startsWith('.'));
  } catch {
    return;
  }
  if (media.length === 0) return;
  throw new StoreError(
    'EARSHOT_DB_EMPTY',
    `The library database ${file} is ${size === 0 ? 'empty' : 'missing'}, but ${path.join(dataDir, 'media')} holds ${media.length} file${media.length === 1 ? '' : 's'} of an earlier library. ` +
      'Earshot did not start a new library over them. Restore earshot.db from a backup, or move the folder aside to start afresh.',
  );
}

function jobView(r: JobRow, episode: EpisodeRefView | null, progress: number | null): JobView {
  const running = r.state === 'running';
  return {
    id: r.id,
    workflowId: r.workflow_id,
    episode,
    step: r.step,
    lane: r.lane,
    state: r.state,
    priority: r.priority,
    attempts: r.attempts,
    recoveries: r.recoveries,
    runAt: r.run_at,
    leaseOwner: r.lease_owner,
    leaseExpiresAt: r.lease_expires_at,
    lastError: r.last_error ?? r.crash_reason,
    startedAt: running ? r.claimed_at : null,
    progress: running ? progress : null,
  };
}

/** The application API over one data directory. Inputs are validated with zod. */
export class App implements Api {
  readonly ctx: AppContext;
  readonly subscriptions: Subscriptions;
  /** The API's events (contract.ts `ApiEvents`), for shells to forward. */
  readonly events: ApiEventBus;
  private modelManager: ModelManager | undefined;
  constructor(
    ctx: AppContext,
    subscriptions?: Subscriptions,
    models?: ModelManager,
    events: ApiEventBus = new ApiEventBus(),
  ) {
    this.ctx = ctx;
    this.events = events;
    this.subscriptions = subscriptions ?? new Subscriptions(ctx.db, ctx.clock);
    this.modelManager = models;
    // How far each running job is, as this process's engine reports it: `jobs` says so to a
    // window that opens while a job runs (it hears the next progress events itself).
    this.events.on('onJobStarted', (e) => this.progress.set(e.jobId, 0));
    this.events.on('onJobProgress', (e) => this.progress.set(e.jobId, e.fraction));
    this.events.on('onJobFinished', (e) => this.progress.delete(e.jobId));
  }

  /** Running jobs' last reported progress (0..1), by job id. */
  private readonly progress = new Map<number, number>();

  /**
   * Called when this App queued work: 'episodes' when episodes were marked queued (a
   * subscription's backlog, a refresh, an OPML import) and their pipelines are to start,
   * 'jobs' when jobs were queued. The service that runs an engine sets it: it starts the
   * pipelines and nudges its engine, so the work begins at once rather than at the next
   * background round. Without one (the CLI), `earshot run` starts them.
   */
  onWorkQueued: ((what: 'episodes' | 'jobs') => void) | null = null;

  private workQueued(what: 'episodes' | 'jobs'): void {
    this.onWorkQueued?.(what);
  }

  /** The model manager over this library (made on first use: it reads the catalog). */
  get modelStore(): ModelManager {
    this.modelManager ??= new ModelManager({
      dataDir: this.ctx.dataDir,
      db: this.ctx.db,
      clock: this.ctx.clock,
      // Episodes waiting for a model of this kind go on at once (an engine claims them).
      onActiveChanged: (kind, id) => {
        if (id !== null) this.ctx.queue.wake(modelResource(kind));
      },
    });
    return this.modelManager;
  }

  private get db(): Db {
    return this.ctx.db;
  }

  private lane(lane: Lane): LaneView {
    const now = this.ctx.clock.now();
    const counts = this.db
      .prepare(
        `SELECT
           sum(state = 'queued' AND run_at <= ?) AS queued,
           sum(state = 'queued' AND run_at > ?) AS delayed,
           sum(state = 'running') AS running
         FROM jobs WHERE lane = ?`,
      )
      .get(now, now, lane) as { queued: number | null; delayed: number | null; running: number | null };
    return {
      lane,
      paused: this.ctx.queue.isPaused(lane),
      holds: this.ctx.queue.holds(lane),
      concurrency: this.ctx.lanes[lane],
      queued: counts.queued ?? 0,
      delayed: counts.delayed ?? 0,
      running: counts.running ?? 0,
    };
  }

  async status(): Promise<StatusView> {
    const here = os.hostname();
    const workers = (
      this.db
        .prepare(
          `SELECT w.boot_id, w.worker_id, w.lane, w.pid, w.restarts, w.last_exit, e.pid AS engine_pid, e.hostname,
             j.id AS job_id, CASE WHEN j.id IS NOT NULL THEN 'busy' ELSE w.state END AS state
           FROM workers w JOIN engines e ON e.boot_id = w.boot_id
           LEFT JOIN jobs j ON j.lane = w.lane AND j.state = 'running' AND j.state IN ('queued', 'running')
             AND j.lease_owner = w.boot_id || ':' || w.worker_id
           WHERE e.stopped_at IS NULL ORDER BY e.started_at, w.worker_id`,
        )
        .all() as {
        boot_id: string;
        worker_id: string;
        lane: Lane;
        pid: number | null;
        state: WorkerView['state'];
        job_id: number | null;
        restarts: number;
        last_exit: string | null;
        engine_pid: number;
        hostname: string;
      }[]
    )
      .filter((w) => w.hostname !== here || isProcessAlive(w.engine_pid))
      .map((w): WorkerView => ({
        engine: w.boot_id,
        workerId: w.worker_id,
        lane: w.lane,
        pid: w.pid,
        state: w.state,
        jobId: w.job_id,
        restarts: w.restarts,
        lastExit: w.last_exit,
      }));
    const workflows: Record<WorkflowStatus, number> = {
      queued: 0,
      waiting: 0,
      running: 0,
      completed: 0,
      dead: 0,
      cancelled: 0,
    };
    for (const r of this.db.prepare('SELECT status, count(*) AS n FROM workflows GROUP BY status').all() as {
      status: WorkflowStatus;
      n: number;
    }[]) {
      workflows[r.status] = r.n;
    }
    const deadRows = this.db
      .prepare(
        `SELECT id, kind, subject, dead_reason, updated_at FROM workflows WHERE status = 'dead' ORDER BY updated_at DESC LIMIT 100`,
      )
      .all() as {
      id: string;
      kind: string;
      subject: string;
      dead_reason: string | null;
      updated_at: number;
    }[];
    const refs = episodeRefs(
      this.db,
      deadRows.filter((r) => r.kind === 'episode').map((r) => r.subject),
    );
    const deadLetters = deadRows.map((r) => ({
      workflowId: r.id,
      kind: r.kind,
      subject: r.subject,
      episode: (r.kind === 'episode' && refs.get(r.subject)) || null,
      reason: r.dead_reason ?? 'unknown',
      updatedAt: r.updated_at,
    }));
    const waiting = this.db
      .prepare(
        `SELECT waiting_for AS resource, waiting_what AS what, count(*) AS episodes FROM workflows
         WHERE status = 'waiting' GROUP BY waiting_for, waiting_what ORDER BY episodes DESC`,
      )
      .all() as Omit<WaitingView, 'recommended'>[];
    const recommend = (resource: string): string | null => {
      const kind = /^model:(whisper|llm|embedding)$/.exec(resource)?.[1] as ModelKind | undefined;
      if (!kind) return null;
      try {
        return this.modelStore.recommended(kind);
      } catch {
        // No catalog to read (a broken EARSHOT_MODEL_CATALOG): nothing to suggest.
        return null;
      }
    };
    return {
      dataDir: this.ctx.dataDir,
      lanes: LANES.map((l) => this.lane(l)),
      workers,
      workflows,
      waiting: waiting.map((w) => ({ ...w, recommended: recommend(w.resource) })),
      deadLetters,
    };
  }

  async jobs(query?: JobsQuery): Promise<JobView[]> {
    const q = query ?? {};
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (q.state) {
      where.push('state = ?');
      params.push(q.state);
    } else {
      where.push(`state IN ('queued', 'waiting', 'running', 'failed')`);
    }
    if (q.lane) {
      where.push('lane = ?');
      params.push(q.lane);
    }
    const rows = this.db
      .prepare(
        `SELECT j.*, w.kind AS wf_kind, w.subject AS wf_subject FROM jobs j JOIN workflows w ON w.seq = j.wf_seq
         WHERE ${where.map((w) => `j.${w}`).join(' AND ')}
         ORDER BY j.state = 'running' DESC, j.state = 'waiting', j.priority DESC, j.run_at, j.id LIMIT ?`,
      )
      .all(...params, q.limit ?? 50) as (JobRow & { wf_kind: string; wf_subject: string })[];
    const refs = episodeRefs(
      this.db,
      rows.filter((r) => r.wf_kind === 'episode').map((r) => r.wf_subject),
    );
    return rows.map((r) =>
      jobView(
        r,
        (r.wf_kind === 'episode' && refs.get(r.wf_subject)) || null,
        this.progress.get(r.id) ?? null,
      ),
    );
  }

  async workflow(wid: string): Promise<WorkflowView> {
    const wf = this.db.prepare('SELECT * FROM workflows WHERE id = ?').get(wid) as WorkflowRow | undefined;
    if (!wf) throw new ApiInputError(`There is no workflow with id ${wid}; \`earshot jobs\` lists them.`);
    // A claim writes only its job: a step whose job runs is shown running, from its claim.
    const steps = (
      this.db
        .prepare(
          `SELECT s.*, j.claimed_at AS job_claimed_at FROM steps s
             LEFT JOIN jobs j ON j.wf_seq = s.wf_seq AND j.step = s.name AND j.state = 'running'
            WHERE s.wf_seq = ? ORDER BY s.position`,
        )
        .all(wf.seq) as (StepRow & { job_claimed_at: number | null })[]
    ).map((s) =>
      s.job_claimed_at === null ? s : { ...s, status: 'running' as const, started_at: s.job_claimed_at },
    );
    return {
      id: wf.id,
      kind: wf.kind,
      subject: wf.subject,
      episode: (wf.kind === 'episode' && episodeRefs(this.db, [wf.subject]).get(wf.subject)) || null,
      status: wf.status,
      priority: wf.priority,
      deadReason: wf.dead_reason,
      waitingFor: wf.status === 'waiting' ? wf.waiting_what : null,
      createdAt: wf.created_at,
      updatedAt: wf.updated_at,
      completedAt: wf.completed_at,
      steps: steps.map((s) => ({
        name: s.name,
        lane: s.lane,
        status: s.status,
        attempts: s.attempts,
        recoveries: s.recoveries,
        startedAt: s.started_at,
        finishedAt: s.finished_at,
        durationMs: s.started_at !== null && s.finished_at !== null ? s.finished_at - s.started_at : null,
        error: s.last_error,
        reusedFrom: s.reused_from,
      })),
    };
  }

  async episodeWorkflow(episodeId: number): Promise<WorkflowView> {
    const ep = this.db.prepare('SELECT key, status FROM episodes WHERE id = ?').get(episodeId) as
      { key: string; status: string } | undefined;
    if (!ep) throw new ApiInputError(`There is no episode ${episodeId}; \`earshot episodes\` lists them.`);
    const wf = this.db
      .prepare(`SELECT id FROM workflows WHERE kind = 'episode' AND subject = ? ORDER BY seq DESC LIMIT 1`)
      .get(ep.key) as { id: string } | undefined;
    if (!wf)
      throw new ApiInputError(
        `Episode ${episodeId} has not been processed yet (it is ${ep.status}); \`earshot process ${episodeId}\` queues it.`,
      );
    return this.workflow(wf.id);
  }

  async retry(wid: string, step?: string): Promise<WorkflowView> {
    await this.workflow(wid);
    try {
      this.ctx.queue.retry(wid, step);
    } catch (err) {
      if (err instanceof Error && !('code' in err)) throw new ApiInputError(err.message);
      throw err;
    }
    this.workQueued('jobs');
    return this.workflow(wid);
  }

  async cancel(wid: string): Promise<WorkflowView> {
    const before = await this.workflow(wid);
    if (before.status === 'completed' || before.status === 'cancelled') {
      throw new ApiInputError(`Workflow ${wid} is already ${before.status}; there is nothing to cancel.`);
    }
    this.ctx.queue.cancel(wid);
    return this.workflow(wid);
  }

  async pauseLane(lane: Lane): Promise<LaneView> {
    this.ctx.queue.setPaused(lane, true);
    return this.laneChanged(lane);
  }

  async resumeLane(lane: Lane): Promise<LaneView> {
    this.ctx.queue.setPaused(lane, false);
    this.workQueued('jobs');
    return this.laneChanged(lane);
  }

  /** The lane as `status` shows it now, told to every shell (`onLaneChanged`). */
  laneChanged(lane: Lane): LaneView {
    const view = this.lane(lane);
    this.events.emit('onLaneChanged', view);
    return view;
  }

  async subscribe(url: string, backlog?: string): Promise<FeedView> {
    const { feed, refresh } = await this.subscriptions.subscribe(url, backlog);
    if (refresh.queued.length > 0) this.workQueued('episodes');
    return feed;
  }

  /**
   * Stop following a show: its episodes leave the library with what Earshot made of them (their
   * processing is cancelled first, then their downloads, transcripts and insights are deleted).
   * Other shows, your own files and anything exported stay.
   */
  async unsubscribe(feedId: number): Promise<FeedView> {
    this.subscriptions.feed(feedId);
    const episodes = this.db.prepare('SELECT id, key FROM episodes WHERE feed_id = ?').all(feedId) as {
      id: number;
      key: string;
    }[];
    const files = (
      this.db
        .prepare(`SELECT a.path FROM artifacts a JOIN episodes e ON e.id = a.episode_id WHERE e.feed_id = ?`)
        .all(feedId) as { path: string }[]
    ).map((r) => r.path);
    const active = this.db.prepare(
      `SELECT id FROM workflows WHERE kind = 'episode' AND subject = ? AND status IN ('queued', 'running', 'waiting')`,
    );
    writeTx(this.db, 'cancelling the processing of a show', () => {
      for (const e of episodes)
        for (const wf of active.all(e.key) as { id: string }[]) this.ctx.queue.cancel(wf.id);
    });
    const feed = this.subscriptions.unsubscribe(feedId);
    // After the commit: a file is never gone while its row still names it.
    for (const file of files) {
      if (insideDataDir(this.ctx.dataDir, file)) fs.rmSync(file, { force: true });
    }
    for (const e of episodes) removePartial(this.ctx.dataDir, e.key);
    return feed;
  }

  async refresh(
    feedId?: number,
  ): Promise<{ refreshed: RefreshView[]; failed: { feedId: number; error: string }[] }> {
    if (feedId !== undefined) this.subscriptions.feed(feedId);
    const result = await this.subscriptions.refreshMany(
      feedId !== undefined ? [feedId] : this.subscriptions.list().map((f) => f.id),
      feedId !== undefined ? {} : { onProgress: (p) => this.events.emit('onFeedProgress', p) },
    );
    if (result.refreshed.some((r) => r.queued.length > 0)) this.workQueued('episodes');
    return result;
  }

  async feeds(): Promise<FeedView[]> {
    return this.subscriptions.list();
  }

  async importOpml(opml: string, backlog?: string): Promise<OpmlImportView> {
    const result = await this.subscriptions.importOpml(opml, backlog, {
      onProgress: (p) => this.events.emit('onFeedProgress', p),
    });
    if (result.added.length > 0) this.workQueued('episodes');
    return result;
  }

  async process(ids?: number[], opts?: ProcessOptions): Promise<string[]> {
    if (!this.ctx.registry.has('episode'))
      throw new ApiInputError('This Earshot has no episode pipeline registered.');
    const whisper = opts?.whisper;
    const started = startEpisodes(this.ctx.db, this.ctx.queue, {
      ...(ids ? { ids, priority: PRIORITY_USER } : {}),
      ...(whisper ? { whisper } : {}),
    });
    if (started.length > 0) this.workQueued('jobs');
    return started;
  }

  async importFiles(list: string[]): Promise<ImportView> {
    return this.importPaths(list, { watchFolder: false });
  }

  /**
   * Import files and folders, telling every shell how it goes (`onImportProgress`), and start
   * processing what was imported at once. Earshot's own files (its database, media, models) are
   * never imported from a named path; only what a browser uploaded through `earshot serve`
   * (uploads/) is read from inside the library.
   */
  async importPaths(list: string[], options: { watchFolder: boolean }): Promise<ImportView> {
    const importId = randomUUID();
    const uploads = uploadsDir(this.ctx.dataDir);
    const result = await importFiles(this.ctx.db, this.ctx.clock, list, {
      exclude: (p) => insideDataDir(this.ctx.dataDir, p) && !insideDataDir(uploads, p),
      onProgress: ({ done, total, file }) =>
        this.events.emit('onImportProgress', {
          importId,
          done,
          total,
          watchFolder: options.watchFolder,
          file: file && {
            path: file.path,
            name: path.basename(file.path),
            outcome: file.outcome,
            episodeId: file.outcome === 'rejected' ? null : file.episodeId,
            title: file.outcome === 'rejected' ? null : file.title,
            reason: file.outcome === 'rejected' ? file.reason : null,
          },
        } satisfies ImportProgressEvent),
    });
    const workflows =
      result.imported.length > 0 && this.ctx.registry.has('episode')
        ? startEpisodes(this.ctx.db, this.ctx.queue, {
            ids: result.imported.map((i) => i.episodeId),
            priority: PRIORITY_USER,
          })
        : [];
    if (workflows.length > 0) this.workQueued('jobs');
    return {
      imported: result.imported.map((i, n) => ({ ...i, workflowId: workflows[n] ?? null })),
      duplicates: result.duplicates,
      rejected: result.rejected,
    };
  }

  async transcript(id: number): Promise<TranscriptView> {
    const ep = this.ctx.db.prepare('SELECT id, title, status FROM episodes WHERE id = ?').get(id) as
      { id: number; title: string | null; status: string } | undefined;
    if (!ep) throw new ApiInputError(`There is no episode ${id}; \`earshot episodes\` lists them.`);
    const art = this.ctx.db
      .prepare(`SELECT path, model_id FROM artifacts WHERE episode_id = ? AND kind = 'transcript'`)
      .get(id) as { path: string; model_id: string | null } | undefined;
    if (!art)
      throw new ApiInputError(
        `Episode ${id} has no transcript yet (it is ${ep.status}). \`earshot process ${id}\` queues it; \`earshot status\` shows the progress.`,
      );
    let t: Transcript;
    try {
      t = JSON.parse(fs.readFileSync(art.path, 'utf8')) as Transcript;
    } catch (err) {
      throw new ApiInputError(
        `The transcript file of episode ${id} (${art.path}) cannot be read: ${clause((err as Error).message)}. \`earshot process ${id}\` makes it again.`,
      );
    }
    return {
      episodeId: id,
      title: ep.title,
      source: t.source,
      model: t.source === 'whisper' ? (t.model ?? art.model_id) : 'publisher',
      language: t.language ?? null,
      timed: t.timed,
      segments: t.segments,
    };
  }

  async doctor(): Promise<DoctorView> {
    const hardware = await detectHardware();
    const plan = planLanes(hardware);
    let decoder: DoctorView['decoder'];
    try {
      decoder = { ok: true, ...(await decoderInfo()) };
    } catch (err) {
      decoder = { ok: false, error: (err as Error).message };
    }
    let whisper: DoctorView['whisper'];
    try {
      const c = chooseBinding(hardware);
      const active = activeModel('whisper', { dataDir: this.ctx.dataDir, db: this.ctx.db });
      whisper = { ok: true, ...c, model: active?.id ?? null };
    } catch (err) {
      whisper = { ok: false, error: (err as Error).message };
    }
    const gpuUses = whisper.ok
      ? `${plan.gpu.uses}; Whisper: ${whisper.binding}${whisper.variant === 'default' ? '' : ` (${whisper.variant})`} on the ${whisper.gpu ? 'GPU' : 'CPU'}`
      : plan.gpu.uses;
    return {
      dataDir: this.ctx.dataDir,
      modelsDir: modelsDir(this.ctx.dataDir),
      hardware,
      whisper,
      lanes: {
        gpu: { ...plan.gpu, uses: gpuUses, configured: this.ctx.lanes.gpu },
        cpu: { ...plan.cpu, configured: this.ctx.lanes.cpu },
        io: { ...plan.io, configured: this.ctx.lanes.io },
      },
      decoder,
    };
  }

  async models(): Promise<ModelView[]> {
    return this.modelStore.list();
  }

  async installModel(id: string): Promise<ModelActionView> {
    return this.modelStore.install(id, {
      onProgress: (p) => this.events.emit('onModelProgress', p satisfies ModelProgressEvent),
    });
  }

  async importModel(file: string): Promise<ModelActionView> {
    if (insideDataDir(this.ctx.dataDir, file))
      throw new ApiInputError(insideDataDirMessage(this.ctx.dataDir, file));
    return this.modelStore.import(file);
  }

  async removeModel(id: string): Promise<ModelActionView> {
    return this.modelStore.remove(id);
  }

  async useModel(id: string): Promise<ModelActionView> {
    return this.modelStore.use(id);
  }

  /** This process's live holds on lanes (the power source in the app, `models advise` anywhere). */
  get holds(): LaneHolds {
    this.laneHolds ??= new LaneHolds(this.ctx.queue);
    return this.laneHolds;
  }
  private laneHolds: LaneHolds | undefined;

  /** Hold or release a lane for a live reason, and tell every shell (`onLaneChanged`). */
  setHold(lane: Lane, reason: string, on: boolean): LaneView {
    if (this.holds.set(lane, reason, on)) return this.laneChanged(lane);
    return this.lane(lane);
  }

  /**
   * Measure through the gpu lane: hold it (no new job starts, in any process), wait for the
   * jobs running on it to end, measure, release. Whisper is never measured beside a job that
   * already has the GPU, and the figures are not skewed by one.
   */
  async adviseModels(opts?: { seconds?: number }): Promise<AdviceView> {
    this.setHold('gpu', ADVISE_HOLD, true);
    try {
      await this.untilLaneIdle('gpu');
      return await this.measureAndAdvise(opts);
    } finally {
      this.setHold('gpu', ADVISE_HOLD, false);
    }
  }

  /** Resolves once no job of `lane` runs (nor is winding down after a cancel) in any process. */
  private async untilLaneIdle(lane: Lane, pollMs = 250): Promise<void> {
    const busy = this.db.prepare(
      `SELECT EXISTS (SELECT 1 FROM jobs WHERE lane = ? AND state = 'running' AND state IN ('queued', 'running'))
           OR EXISTS (SELECT 1 FROM jobs WHERE lane = ? AND state = 'cancelled'
                        AND lease_expires_at IS NOT NULL AND lease_expires_at > ?) AS busy`,
    );
    while ((busy.get(lane, lane, this.ctx.clock.now()) as { busy: number }).busy) {
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }

  private async measureAndAdvise(opts?: { seconds?: number }): Promise<AdviceView> {
    const hardware = await detectHardware();
    const backlog = this.ctx.db
      .prepare(
        `SELECT count(*) AS episodes, coalesce(sum(duration_ms), 0) AS knownMs,
                sum(duration_ms IS NULL) AS unknownLength
         FROM episodes e
         WHERE status IN ('queued', 'processing', 'downloaded')
           AND NOT EXISTS (SELECT 1 FROM artifacts a WHERE a.episode_id = e.id AND a.kind = 'transcript')`,
      )
      .get() as { episodes: number; knownMs: number; unknownLength: number | null };
    const languages = (
      this.ctx.db
        .prepare(
          `SELECT DISTINCT coalesce(language_override, language) AS language FROM feeds
            WHERE coalesce(language_override, language) IS NOT NULL`,
        )
        .all() as {
        language: string;
      }[]
    ).map((r) => r.language);
    const advice = await advise({
      hardware,
      backlog: { ...backlog, unknownLength: backlog.unknownLength ?? 0 },
      feedLanguages: languages,
      ...(opts?.seconds ? { seconds: opts.seconds } : {}),
    });
    // Remembered: when no model can be used, the advice names the one measured best here.
    writeTx(this.db, 'recording the model advice', () => {
      const put = this.db.prepare(
        `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
      );
      put.run('model.advice.whisper', advice.whisper.id, this.ctx.clock.now());
      put.run('model.advice.llm', advice.llm.id, this.ctx.clock.now());
    });
    return advice;
  }

  async exportOpml(): Promise<string> {
    return this.subscriptions.exportOpml();
  }

  private searcher: Searcher | undefined;

  async search(q: string, opts: SearchQuery = {}): Promise<SearchView> {
    this.searcher ??= new Searcher({ db: this.ctx.db, dataDir: this.ctx.dataDir });
    return this.searcher.search(q, {
      ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
      ...(opts.feedId !== undefined ? { feedId: opts.feedId } : {}),
      ...(opts.from !== undefined ? { from: searchDate(opts.from, 'from') } : {}),
      ...(opts.to !== undefined ? { to: searchDate(opts.to, 'to') } : {}),
      ...(opts.entity !== undefined ? { entity: opts.entity } : {}),
    });
  }

  async show(id: number): Promise<EpisodeUnderstandingView> {
    try {
      return episodeUnderstanding(this.ctx.db, id);
    } catch (err) {
      if (err instanceof NotUnderstood) throw new ApiInputError(err.message);
      throw err;
    }
  }

  async entities(query?: { limit?: number; type?: EntityKind }): Promise<CanonicalEntityView[]> {
    return canonicalEntities(this.ctx.db, query ?? {});
  }

  async entity(entityId: number): Promise<CanonicalEntityDetailView> {
    try {
      return canonicalEntity(this.ctx.db, entityId);
    } catch (err) {
      if (err instanceof NotUnderstood) throw new ApiInputError(err.message);
      throw err;
    }
  }

  async graph(query?: GraphQuery): Promise<GraphView> {
    try {
      return graph(this.ctx.db, query ?? {});
    } catch (err) {
      if (err instanceof NotUnderstood) throw new ApiInputError(err.message);
      throw err;
    }
  }

  async editSegment(id: number, i: number, t: string): Promise<SegmentEditView> {
    try {
      return editSegment(this.ctx.db, this.ctx.queue, id, i, t);
    } catch (err) {
      if (err instanceof EditError) throw new ApiInputError(err.message);
      throw err;
    }
  }

  async failures(): Promise<FailureGroupView[]> {
    return failureGroups(this.db);
  }

  async skipEpisodes(ids: number[]): Promise<EpisodeView[]> {
    const rows = ids.map((id) => {
      const e = this.db.prepare('SELECT id, key FROM episodes WHERE id = ?').get(id) as
        { id: number; key: string } | undefined;
      if (!e) throw new ApiInputError(`There is no episode ${id}; \`earshot episodes\` lists them.`);
      return e;
    });
    const now = this.ctx.clock.now();
    writeTx(this.db, 'skipping episodes', () => {
      for (const e of rows) {
        // Its latest workflow, if it failed or waits, stops; one that runs or is done is left alone.
        const wf = this.db
          .prepare(
            `SELECT id, status FROM workflows WHERE kind = 'episode' AND subject = ? ORDER BY seq DESC LIMIT 1`,
          )
          .get(e.key) as { id: string; status: string } | undefined;
        const stopped = wf && (wf.status === 'dead' || wf.status === 'waiting');
        if (wf && stopped) this.ctx.queue.cancel(wf.id);
        this.db
          .prepare(
            `UPDATE episodes SET notes = NULL, updated_at = ?,
               status = CASE WHEN ? THEN 'skipped' WHEN status = 'queued' THEN 'listed' ELSE status END WHERE id = ?`,
          )
          .run(now, stopped ? 1 : 0, e.id);
      }
    });
    const byId = new Map((await this.subscriptions.episodesById(ids)).map((v) => [v.id, v]));
    return ids.map((id) => byId.get(id)!);
  }

  private listeningStore: Listening | undefined;
  private assetSources: AssetSources | undefined;
  /** Shows, episode pages, play state and the inbox over this library. */
  get listening(): Listening {
    this.listeningStore ??= new Listening(this.ctx.db, this.ctx.clock);
    return this.listeningStore;
  }

  /** Run a listening read or change; an episode that is not there is the caller's mistake. */
  private listen<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (err instanceof NoSuchEpisode) throw new ApiInputError(err.message);
      throw err;
    }
  }

  async digest(query?: DigestQuery): Promise<DigestView> {
    const q = query ?? {};
    const now = this.ctx.clock.now();
    let window;
    try {
      window = digestWindow(q, now, digestSettings(this.ctx.db).budgetMs);
    } catch (err) {
      if (err instanceof DigestInputError) throw new ApiInputError(err.message);
      throw err;
    }
    return buildDigest(this.ctx.db, { ...window, now });
  }

  async digests(query?: { limit?: number }): Promise<DigestSummaryView[]> {
    return listDigests(this.ctx.db, query?.limit);
  }

  async savedDigest(id: number): Promise<DigestView> {
    try {
      return readDigest(this.ctx.db, id);
    } catch (err) {
      if (err instanceof DigestNotFound) throw new ApiInputError(err.message);
      throw err;
    }
  }

  async shows(): Promise<ShowView[]> {
    return this.listening.shows();
  }

  async episodePage(query: EpisodePageQuery = {}): Promise<EpisodePageView> {
    if (typeof query.feedId === 'number') this.subscriptions.feed(query.feedId);
    return this.listening.episodePage(query);
  }

  async episode(episodeId: number): Promise<EpisodeDetailView> {
    return this.listen(() => this.listening.episode(episodeId));
  }

  async savePosition(episodeId: number, positionMs: number, durationMs?: number): Promise<PlaybackView> {
    return this.listen(() => this.listening.savePosition(episodeId, positionMs, durationMs));
  }

  async markPlayed(episodeIds: number[], played = true): Promise<PlaybackView[]> {
    return this.listen(() => this.listening.markPlayed(episodeIds, played));
  }

  async inbox(query: { limit?: number } = {}): Promise<InboxView> {
    return this.listening.inbox(query.limit);
  }

  async visitInbox(): Promise<{ lastVisitAt: number }> {
    return this.listening.visitInbox();
  }

  async dismissFromInbox(episodeIds: number[]): Promise<{ removed: number }> {
    return this.listen(() => this.listening.dismissFromInbox(episodeIds));
  }

  async assetSource(assetPath: string): Promise<AssetSource> {
    this.assetSources ??= new AssetSources({ db: this.ctx.db, dataDir: this.ctx.dataDir });
    return this.assetSources.source(assetPath);
  }

  async digestSettings(): Promise<DigestSettingsView> {
    return settingsView(this.ctx.db, this.ctx.clock.now());
  }

  async setDigestSettings(settings: {
    every?: string | number;
    budget?: string | number;
  }): Promise<DigestSettingsView> {
    const s = settings;
    const ms = (v: string | number, what: string) => (typeof v === 'number' ? v : parseDuration(v, what));
    try {
      const every = s.every === undefined || s.every === 'off' ? null : ms(s.every, 'schedule (or off)');
      if (every !== null && (every < 3_600_000 || every > 366 * 86_400_000))
        throw new DigestInputError(
          'A digest is made at most every hour and at least once a year (like 1d or 7d), or never (off).',
        );
      const budget = s.budget === undefined ? null : ms(s.budget, 'listening time');
      if (budget !== null && budget > 24 * 3_600_000)
        throw new DigestInputError('The listening time is at most 24h (like 30m or 1h).');
      saveDigestSettings(
        this.ctx.db,
        {
          ...(s.every !== undefined ? { everyMs: every } : {}),
          ...(budget !== null ? { budgetMs: budget } : {}),
        },
        this.ctx.clock.now(),
      );
    } catch (err) {
      if (err instanceof DigestInputError) throw new ApiInputError(err.message);
      throw err;
    }
    return this.digestSettings();
  }

  async exportLibrary(dir: string, options?: ExportOptions): Promise<ExportView> {
    const opts = options ?? {};
    try {
      return await exportLibrary(this.ctx.db, {
        dir,
        format: opts.format ?? 'obsidian',
        ...(opts.feedId !== undefined ? { feedId: opts.feedId } : {}),
        ...(opts.since !== undefined ? { since: searchDate(opts.since, 'from') } : {}),
      });
    } catch (err) {
      if (err instanceof ExportError) throw new ApiInputError(err.message);
      throw err;
    }
  }

  async episodes(query?: { feedId?: number; limit?: number }): Promise<EpisodeView[]> {
    return this.subscriptions.episodes(query ?? {});
  }

  async feedSettings(feedId: number): Promise<FeedSettingsView> {
    return this.subscriptions.settings(feedId);
  }

  async setFeedSettings(feedId: number, patch: FeedSettingsPatch): Promise<FeedSettingsView> {
    const { queued, urlChanged } = this.subscriptions.setSettings(feedId, patch);
    // A wider backlog, or auto-process turned on: what it takes in starts now.
    if (queued.length > 0 && this.ctx.registry.has('episode'))
      startEpisodes(this.ctx.db, this.ctx.queue, { ids: queued });
    if (urlChanged) {
      // Read at the new address now; a failure is kept on the feed (lastError) and shown.
      await this.subscriptions.refresh(feedId).catch(() => undefined);
    }
    return this.subscriptions.settings(feedId);
  }

  /**
   * The watch folder's state as the service that watches it sees it; null where nothing
   * watches (the CLI, `earshot serve --no-engine`). Set by the service.
   */
  watchFolderStatus: () => AppSettingsView['watchFolderStatus'] = () => null;

  async settings(): Promise<AppSettingsView> {
    const s = readSettings(this.db);
    const now = this.ctx.clock.now();
    return {
      dataDir: this.ctx.dataDir,
      ...s,
      watchFolderStatus: s.watchFolder === null ? null : this.watchFolderStatus(),
      gpuUsedTodayMs: gpuUsedMs(this.db, systemLocalTime.startOfDay(now), now),
    };
  }

  async setSettings(patch: AppSettingsPatch): Promise<AppSettingsView> {
    const next = { ...patch };
    if (typeof patch.watchFolder === 'string') next.watchFolder = this.checkWatchFolder(patch.watchFolder);
    const before = readSettings(this.db);
    const after = writeSettings(this.db, next, this.ctx.clock.now());
    if (after.refreshMinutes !== before.refreshMinutes) this.subscriptions.appIntervalChanged();
    const view = await this.settings();
    this.events.emit('onSettingsChanged', view);
    return view;
  }

  /** A folder Earshot may watch: there, a folder, and neither inside the library nor holding it. */
  private checkWatchFolder(input: string): string {
    const dir = path.resolve(input);
    const st = fs.statSync(dir, { throwIfNoEntry: false });
    if (!st) throw new ApiInputError(`There is no folder ${dir}. Choose a folder that exists.`);
    if (!st.isDirectory()) throw new ApiInputError(`${dir} is a file; the watch folder is a folder.`);
    if (insideDataDir(this.ctx.dataDir, dir))
      throw new ApiInputError(
        `${dir} is inside Earshot's library folder; choose a folder of your own to watch.`,
      );
    if (insideDataDir(dir, this.ctx.dataDir))
      throw new ApiInputError(
        `${dir} holds Earshot's library folder (${this.ctx.dataDir}); choose a folder that does not, such as one for your recordings.`,
      );
    return dir;
  }
}
