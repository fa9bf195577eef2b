import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { JobView, LaneName, LaneView, StatusView } from '../../../pipeline/api/contract.ts';
import { transport as defaultTransport } from '../api.ts';
import type { Transport } from '../transport.ts';

/** A job running now, as the engine's events tell it. */
export interface LiveJob {
  jobId: number;
  workflowId: string;
  /** The episode it works on; null for other work (the digest). */
  episodeId: number | null;
  step: string;
  lane: LaneName | null;
  /** How far it is (0..1); null until its step says. */
  fraction: number | null;
  /** When it started (ms, this machine's clock): the ETA is the rate since then. */
  startedAt: number;
  /** When `fraction` was last reported. */
  at: number;
  /** Its episode's title, once the service's list said it (events carry ids). */
  title?: string | null;
}

/** An episode's status as an event said it, and when (newer than what a list read before it). */
export interface HeardStatus {
  status: string;
  at: number;
}

/** The rate is trusted once the job has run this long and moved (ms). */
const ETA_AFTER_MS = 1500;
/** Status and the queue are read again this long after job events stop coming in (a burst is one read). */
const RELOAD_MS = 300;
/** While a screen holds the store, the lanes are read again this often (ms) besides the events. */
const HOLD_REFRESH_MS = 2000;

/**
 * What Earshot is doing, live: the jobs running (with progress and a time left, from the
 * engine's events), each episode's latest status, and, while a screen holds it (Activity),
 * the lanes and what is queued. One subscription to the events for the whole window: every
 * list's rows read their episode's state here, never by polling.
 */
export const useActivityStore = defineStore('activity', () => {
  const running = ref<Record<number, LiveJob>>({});
  const heard = ref<Record<number, HeardStatus>>({});
  const status = ref<StatusView | null>(null);
  /** The next jobs to run, most urgent first. */
  const upNext = ref<JobView[]>([]);
  const error = ref<string | null>(null);
  /** Lanes whose pause or resume is being asked for. */
  const switching = ref<Partial<Record<LaneName, boolean>>>({});
  let api: Transport = defaultTransport;
  let now: () => number = () => Date.now();

  /** The job running for each episode (the latest to start, when there are two). */
  const byEpisode = computed(() => {
    const out: Record<number, LiveJob> = {};
    for (const job of Object.values(running.value)) {
      if (job.episodeId !== null) out[job.episodeId] = job;
    }
    return out;
  });

  const lanes = computed<LaneView[]>(() => status.value?.lanes ?? []);
  const byLane = computed(() => {
    const out: Record<LaneName, LiveJob[]> = { io: [], cpu: [], gpu: [] };
    for (const job of Object.values(running.value)) if (job.lane) out[job.lane].push(job);
    return out;
  });
  /** Jobs running now, across lanes (from the events, or the last read). */
  const workingOn = computed(() => Object.keys(running.value).length);

  /** How long a running job has left, in ms, from its rate so far; null while not known. */
  function eta(job: LiveJob, at = now()): number | null {
    if (job.fraction === null || job.fraction <= 0 || job.fraction >= 1) return null;
    const spent = job.at - job.startedAt;
    if (spent < ETA_AFTER_MS) return null;
    const left = (spent / job.fraction) * (1 - job.fraction) - (at - job.at);
    return Math.max(0, left);
  }

  /** The status an episode's row shows: the one heard after `since` (when the row read its own), else null. */
  function statusSince(episodeId: number, since: number): string | null {
    const h = heard.value[episodeId];
    return h && h.at > since ? h.status : null;
  }

  /** Episodes' titles from the service's lists, so a job that starts is named at once. */
  const titles = new Map<number, string | null>();
  function track(job: Omit<LiveJob, 'at'> & { at?: number }): void {
    const title = job.title ?? (job.episodeId === null ? null : (titles.get(job.episodeId) ?? null));
    running.value[job.jobId] = { ...job, title, at: job.at ?? now() };
  }

  // Each event once, for the window; views hold the store to get lanes and the queue too.
  let listening: (() => void)[] | null = null;
  function listen(): void {
    if (listening) return;
    listening = [
      api.on('onJobStarted', (e) => {
        track({
          jobId: e.jobId,
          workflowId: e.workflowId,
          episodeId: e.episodeId ?? null,
          step: e.step,
          lane: e.lane,
          fraction: null,
          startedAt: now(),
        });
        if (e.episodeId != null) heard.value[e.episodeId] = { status: 'processing', at: now() };
        soon();
      }),
      api.on('onJobProgress', (e) => {
        const job = running.value[e.jobId];
        if (job) running.value[e.jobId] = { ...job, fraction: e.fraction, at: now() };
        else
          // Started before this window listened: it counts from now.
          track({
            jobId: e.jobId,
            workflowId: e.workflowId,
            episodeId: e.episodeId ?? null,
            step: e.step,
            lane: null,
            fraction: e.fraction,
            startedAt: now(),
          });
      }),
      api.on('onJobFinished', (e) => {
        delete running.value[e.jobId];
        if (e.outcome.kind === 'dead') failedAt.value = now();
        soon();
      }),
      api.on('onEpisodeChanged', (e) => {
        heard.value[e.episodeId] = { status: e.status, at: now() };
        // Queued, waiting or done: the counts on Activity change.
        soon();
      }),
      api.on('onLaneChanged', (lane) => {
        if (!status.value) return;
        status.value = {
          ...status.value,
          lanes: status.value.lanes.map((l) => (l.lane === lane.lane ? lane : l)),
        };
      }),
    ];
  }

  /** Bumped when an episode failed for good (the Problems count is read again). */
  const failedAt = ref(0);

  let holders = 0;
  let reload: ReturnType<typeof setTimeout> | null = null;
  function soon(): void {
    if (holders === 0 || reload) return;
    reload = setTimeout(() => {
      reload = null;
      void load();
    }, RELOAD_MS);
  }

  /** Read the lanes, what waits, what runs and what is next. */
  async function load(): Promise<void> {
    const since = now();
    try {
      const [s, jobsRunning, queued] = await Promise.all([
        api.invoke('status'),
        api.invoke('jobs', { state: 'running', limit: 50 }),
        api.invoke('jobs', { state: 'queued', limit: 30 }),
      ]);
      status.value = s;
      upNext.value = queued;
      for (const j of [...jobsRunning, ...queued]) if (j.episode) titles.set(j.episode.id, j.episode.title);
      // What runs, as the service sees it (jobs that ended while no event reached us are dropped).
      const next: Record<number, LiveJob> = {};
      for (const j of jobsRunning) {
        const seen = running.value[j.id];
        next[j.id] = seen
          ? { ...seen, lane: seen.lane ?? j.lane, title: j.episode?.title ?? null }
          : {
              jobId: j.id,
              workflowId: j.workflowId,
              episodeId: j.episode?.id ?? null,
              step: j.step,
              lane: j.lane,
              fraction: j.progress,
              // Its rate from when it really started, when the service knows.
              startedAt: j.startedAt !== null && j.startedAt <= now() ? j.startedAt : now(),
              at: now(),
              title: j.episode?.title ?? null,
            };
      }
      // A job that started after the read began is kept (its event came before the answer).
      for (const [id, job] of Object.entries(running.value))
        if (!(id in next) && job.startedAt >= since) next[Number(id)] = job;
      running.value = next;
      error.value = null;
    } catch (err) {
      error.value = err instanceof Error ? err.message : String(err);
    }
  }

  /**
   * While a screen shows lanes and the queue: read them now, after each burst of job events,
   * and every few seconds (work queued elsewhere, by the CLI or a subscription, sends no job
   * event until it starts). One read for the whole window, however many screens hold it.
   */
  let every: ReturnType<typeof setInterval> | null = null;
  function hold(): () => void {
    listen();
    holders++;
    void load();
    every ??= setInterval(() => void load(), HOLD_REFRESH_MS);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      holders--;
      if (holders === 0 && every) {
        clearInterval(every);
        every = null;
      }
    };
  }

  /** Pause or resume a lane for the user; true when it worked. */
  async function setPaused(lane: LaneName, paused: boolean): Promise<boolean> {
    switching.value[lane] = true;
    try {
      const view = await api.invoke(paused ? 'pauseLane' : 'resumeLane', lane);
      if (status.value)
        status.value = {
          ...status.value,
          lanes: status.value.lanes.map((l) => (l.lane === lane ? view : l)),
        };
      error.value = null;
      return true;
    } catch (err) {
      error.value = err instanceof Error ? err.message : String(err);
      return false;
    } finally {
      delete switching.value[lane];
    }
  }

  /** Stop an episode's processing (its running step is aborted); Process or Try again brings it back. */
  async function cancel(workflowId: string): Promise<boolean> {
    try {
      await api.invoke('cancel', workflowId);
      error.value = null;
      for (const [id, job] of Object.entries(running.value))
        if (job.workflowId === workflowId) delete running.value[Number(id)];
      await load();
      return true;
    } catch (err) {
      error.value = err instanceof Error ? err.message : String(err);
      return false;
    }
  }

  /** Remember a status this window caused (queued by a button), as if an event had said it. */
  function note(episodeId: number, status: string): void {
    heard.value[episodeId] = { status, at: now() };
  }

  /** For tests and other shells: another transport, another clock. */
  function setTransport(next: Transport, clock?: () => number): void {
    for (const off of listening ?? []) off();
    listening = null;
    api = next;
    if (clock) now = clock;
  }

  return {
    running,
    heard,
    status,
    upNext,
    error,
    switching,
    failedAt,
    byEpisode,
    byLane,
    lanes,
    workingOn,
    eta,
    statusSince,
    listen,
    load,
    hold,
    setPaused,
    cancel,
    note,
    setTransport,
  };
});
