/**
 * The renderer's live state behind Activity, Problems and every list's rows, with a fake
 * transport and clock: job events become running jobs with progress and a time left, episode
 * events reach the rows, lanes pause and resume, a stop drops the job, and the failure inbox's
 * actions call retry / skip for each episode of a group. The screens are tested in Chromium
 * (test/e2e/control-activity.test.ts).
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';

const renderer = (p: string) => new URL(`../../renderer/src/${p}`, import.meta.url).href;
// api.ts picks the page's transport at import: a page origin is enough for it (HTTP, not used).
vi.stubGlobal('window', { location: { origin: 'http://127.0.0.1:1' } });

type Handler = (payload: never) => void;
interface Fake {
  kind: 'http';
  calls: [string, unknown[]][];
  handlers: Map<string, Handler[]>;
  answers: Record<string, (...args: unknown[]) => unknown>;
  invoke(name: string, ...args: unknown[]): Promise<unknown>;
  on(event: string, handler: Handler): () => void;
  assetUrl(p: string): string;
  emit(event: string, payload: unknown): void;
}
function fakeTransport(answers: Fake['answers'] = {}): Fake {
  const fake: Fake = {
    kind: 'http',
    calls: [],
    handlers: new Map(),
    answers,
    async invoke(name, ...args) {
      fake.calls.push([name, args]);
      const answer = fake.answers[name];
      if (!answer) throw new Error(`no answer for ${name}`);
      return answer(...args);
    },
    on(event, handler) {
      fake.handlers.set(event, [...(fake.handlers.get(event) ?? []), handler]);
      return () =>
        fake.handlers.set(
          event,
          (fake.handlers.get(event) ?? []).filter((h) => h !== handler),
        );
    },
    assetUrl: (p) => p,
    emit(event, payload) {
      for (const h of fake.handlers.get(event) ?? []) (h as (p: unknown) => void)(payload);
    },
  };
  return fake;
}

interface LiveJob {
  jobId: number;
  workflowId: string;
  episodeId: number | null;
  step: string;
  lane: string | null;
  fraction: number | null;
  startedAt: number;
  at: number;
  title?: string | null;
}
interface ActivityStore {
  running: Record<number, LiveJob>;
  byEpisode: Record<number, LiveJob>;
  byLane: Record<string, LiveJob[]>;
  workingOn: number;
  failedAt: number;
  status: { lanes: { lane: string; paused: boolean; holds: string[] }[] } | null;
  eta(job: LiveJob, at?: number): number | null;
  statusSince(episodeId: number, since: number): string | null;
  listen(): void;
  load(): Promise<void>;
  setPaused(lane: string, paused: boolean): Promise<boolean>;
  cancel(workflowId: string): Promise<boolean>;
  setTransport(t: Fake, clock?: () => number): void;
}
interface FailuresStore {
  notice: string | null;
  error: string | null;
  failedEpisodes: number;
  load(): Promise<void>;
  act(group: unknown, action: { kind: string; step?: string; label: string }): Promise<boolean>;
  listen(): void;
  setTransport(t: Fake): void;
}
const { useActivityStore } = (await import(renderer('stores/activity.ts'))) as {
  useActivityStore(): ActivityStore;
};
const { useFailuresStore } = (await import(renderer('stores/failures.ts'))) as {
  useFailuresStore(): FailuresStore;
};

const lane = (name: string, over: object = {}) => ({
  lane: name,
  paused: false,
  holds: [],
  concurrency: 1,
  queued: 0,
  delayed: 0,
  running: 0,
  ...over,
});
const statusView = () => ({
  dataDir: '/x',
  lanes: [lane('gpu'), lane('cpu'), lane('io')],
  workers: [],
  workflows: {},
  waiting: [],
  deadLetters: [],
});

beforeEach(() => setActivePinia(createPinia()));

describe('the activity store', () => {
  it('turns job events into running jobs by lane and episode, with progress and a time left from the rate', () => {
    let now = 10_000;
    const t = fakeTransport();
    const store = useActivityStore();
    store.setTransport(t, () => now);
    store.listen();
    t.emit('onJobStarted', {
      jobId: 7,
      workflowId: 'wf-7',
      episodeId: 3,
      step: 'download',
      lane: 'io',
      workerId: 'w',
      device: null,
    });
    expect(store.workingOn).toBe(1);
    expect(store.byLane.io!.map((j) => j.jobId)).toEqual([7]);
    expect(store.byEpisode[3]).toMatchObject({ step: 'download', fraction: null });
    // Not known yet: no progress, then too early to trust the rate.
    expect(store.eta(store.running[7]!)).toBeNull();
    now += 500;
    t.emit('onJobProgress', { jobId: 7, workflowId: 'wf-7', episodeId: 3, step: 'download', fraction: 0.05 });
    expect(store.eta(store.running[7]!)).toBeNull();
    // A quarter in 2 s: 6 s more at that rate, counting down between events.
    now = 12_000;
    t.emit('onJobProgress', { jobId: 7, workflowId: 'wf-7', episodeId: 3, step: 'download', fraction: 0.25 });
    expect(store.byEpisode[3]!.fraction).toBe(0.25);
    expect(store.eta(store.running[7]!)).toBe(6000);
    expect(store.eta(store.running[7]!, 13_000)).toBe(5000);
    expect(store.eta(store.running[7]!, 30_000)).toBe(0);

    t.emit('onJobFinished', {
      jobId: 7,
      workflowId: 'wf-7',
      episodeId: 3,
      step: 'download',
      outcome: { kind: 'dead', reason: 'gone' },
    });
    expect(store.workingOn).toBe(0);
    expect(store.byEpisode[3]).toBeUndefined();
    // A failure for good: Problems reads its count again.
    expect(store.failedAt).toBe(12_000);
  });

  it('tells a row the status an event said after the row read its own, and only then', () => {
    let now = 1000;
    const t = fakeTransport();
    const store = useActivityStore();
    store.setTransport(t, () => now);
    store.listen();
    t.emit('onEpisodeChanged', { episodeId: 5, status: 'waiting' });
    // A row that read its status after the event keeps its own.
    expect(store.statusSince(5, 1500)).toBeNull();
    now = 2000;
    t.emit('onEpisodeChanged', { episodeId: 5, status: 'transcribed' });
    expect(store.statusSince(5, 1500)).toBe('transcribed');
    expect(store.statusSince(6, 0)).toBeNull();
  });

  it('reads lanes and running jobs (with titles and progress), pauses and resumes a lane, and stops a job', async () => {
    const now = 50_000;
    const paused = new Set<string>();
    const t = fakeTransport({
      status: () => statusView(),
      jobs: (q) =>
        (q as { state: string }).state === 'running'
          ? [
              {
                id: 9,
                workflowId: 'wf-9',
                episode: { id: 4, title: 'Sleep, explained', show: 'The Long Game' },
                step: 'transcribe',
                lane: 'gpu',
                state: 'running',
                startedAt: 40_000,
                progress: 0.5,
              },
            ]
          : [],
      pauseLane: (l) => (paused.add(l as string), lane(l as string, { paused: true })),
      resumeLane: (l) => (paused.delete(l as string), lane(l as string)),
      cancel: () => ({}),
    });
    const store = useActivityStore();
    store.setTransport(t, () => now);
    await store.load();
    expect(store.running[9]).toMatchObject({ title: 'Sleep, explained', fraction: 0.5, startedAt: 40_000 });
    // Half in 10 s: 10 s left.
    expect(store.eta(store.running[9]!)).toBe(10_000);

    expect(await store.setPaused('gpu', true)).toBe(true);
    expect(t.calls.at(-1)).toEqual(['pauseLane', ['gpu']]);
    expect(store.status!.lanes.find((l) => l.lane === 'gpu')!.paused).toBe(true);
    // A hold the machine puts on (on battery) arrives as an event, apart from the user's pause.
    store.listen();
    t.emit('onLaneChanged', lane('io', { holds: ['on battery'] }));
    expect(store.status!.lanes.find((l) => l.lane === 'io')).toMatchObject({
      paused: false,
      holds: ['on battery'],
    });
    expect(await store.setPaused('gpu', false)).toBe(true);
    expect(store.status!.lanes.find((l) => l.lane === 'gpu')!.paused).toBe(false);
    expect([...paused]).toEqual([]);

    // Stop: the service is asked, and the job is gone from what runs (the next read has it ended).
    t.answers.jobs = () => [];
    expect(await store.cancel('wf-9')).toBe(true);
    expect(t.calls.some(([n, a]) => n === 'cancel' && a[0] === 'wf-9')).toBe(true);
    expect(store.running[9]).toBeUndefined();
  });
});

describe('the failure inbox store', () => {
  const group = {
    id: 'audio-missing@2',
    cause: 'audio-missing',
    severity: 'failed',
    message: '2 episodes of Broken Records: the audio address answers 404',
    feedId: 2,
    show: 'Broken Records',
    episodes: [
      { id: 11, title: 'Side A', show: 'Broken Records', workflowId: 'wf-a', step: 'download', error: '404' },
      { id: 12, title: 'Side B', show: 'Broken Records', workflowId: 'wf-b', step: 'download', error: '404' },
    ],
    actions: [
      { kind: 'retry', label: 'Try again' },
      { kind: 'skip', label: 'Skip' },
    ],
  };

  it('retries every episode of a group, from a step when asked, and says what it did', async () => {
    const t = fakeTransport({ failures: () => [group], retry: () => ({}), skipEpisodes: () => [] });
    const store = useFailuresStore();
    store.setTransport(t);
    await store.load();
    expect(store.failedEpisodes).toBe(2);
    expect(await store.act(group, { kind: 'retry', label: 'Try again' })).toBe(true);
    expect(t.calls.filter(([n]) => n === 'retry').map(([, a]) => a)).toEqual([
      ['wf-a', undefined],
      ['wf-b', undefined],
    ]);
    expect(store.notice).toBe('Trying 2 episodes of Broken Records again. Activity shows how it goes.');
    await store.act(group, { kind: 'retry-from', step: 'download', label: 'Start over' });
    expect(
      t.calls
        .filter(([n]) => n === 'retry')
        .slice(2)
        .map(([, a]) => a),
    ).toEqual([
      ['wf-a', 'download'],
      ['wf-b', 'download'],
    ]);
  });

  it('skips a group in one call, and names the episode that could not be retried', async () => {
    const t = fakeTransport({
      failures: () => [group],
      skipEpisodes: () => [],
      retry: (id) => {
        if (id === 'wf-b') throw new Error('It is running already.');
        return {};
      },
    });
    const store = useFailuresStore();
    store.setTransport(t);
    await store.act(group, { kind: 'skip', label: 'Skip' });
    expect(t.calls.find(([n]) => n === 'skipEpisodes')).toEqual(['skipEpisodes', [[11, 12]]]);
    expect(store.notice).toBe(
      'Skipped 2 episodes of Broken Records: they stay in your library, unprocessed.',
    );
    expect(await store.act(group, { kind: 'retry', label: 'Try again' })).toBe(false);
    expect(store.error).toBe('Side B: It is running already.');
  });

  it('reads the groups again when an episode they name changes, and not for others', async () => {
    vi.useFakeTimers();
    try {
      let reads = 0;
      const t = fakeTransport({ failures: () => (reads++, [group]) });
      const store = useFailuresStore();
      store.setTransport(t);
      store.listen();
      await store.load();
      t.emit('onEpisodeChanged', { episodeId: 99, status: 'understood' });
      await vi.advanceTimersByTimeAsync(1000);
      expect(reads).toBe(1);
      // Side A retried from its page: a burst of changes is one read.
      t.emit('onEpisodeChanged', { episodeId: 11, status: 'queued' });
      t.emit('onEpisodeChanged', { episodeId: 11, status: 'processing' });
      await vi.advanceTimersByTimeAsync(1000);
      expect(reads).toBe(2);
    } finally {
      vi.useRealTimers();
    }
  });
});
