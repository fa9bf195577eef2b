/**
 * What main follows of the library service's work, for the tray ("working on 3 episodes",
 * "paused: on battery", "2 problems") and for system notifications (episodes processed, episodes
 * that failed), coalesced so a backlog of forty episodes is one notification, not forty.
 */
import type { NotificationApi } from './notify.ts';
import { activityOf, type Activity, type StatusLike } from './processing.ts';

/** What this needs of main's client of the service. */
export interface ActivityClient {
  call(method: 'status', args: []): Promise<StatusLike>;
  call(
    method: 'episode',
    args: [number],
  ): Promise<{ title: string | null; workflowId: string | null; workflowStatus: string | null }>;
  on(event: string, listener: (payload: never) => void): () => void;
}

export interface ActivityOptions {
  /** Quiet time before the status is read again after events, in ms. Default 1000. */
  settleMs?: number;
  onError?: (err: Error) => void;
}

/**
 * Read the service's status whenever work starts, ends or a lane changes (at most once per
 * `settleMs`), and hand the tray what it says. Returns `refresh` (the service restarted) and `stop`.
 */
export function followActivity(
  client: ActivityClient,
  apply: (activity: Activity) => void,
  options: ActivityOptions = {},
): { refresh(): Promise<void>; stop(): void } {
  let timer: ReturnType<typeof setTimeout> | null = null;
  const refresh = async () => {
    try {
      apply(activityOf(await client.call('status', [])));
    } catch (err) {
      options.onError?.(err as Error);
    }
  };
  const soon = () => {
    timer ??= setTimeout(() => {
      timer = null;
      void refresh();
    }, options.settleMs ?? 1000);
  };
  const offs = ['onJobStarted', 'onEpisodeChanged', 'onLaneChanged'].map((e) => client.on(e, soon));
  return {
    refresh,
    stop() {
      for (const off of offs) off();
      if (timer) clearTimeout(timer);
    },
  };
}

export interface NotifySettings {
  processed: boolean;
  failures: boolean;
}

/** "Ep A", "Ep A and Ep B", "Ep A, Ep B and 3 more". */
export function titlesLine(titles: string[]): string {
  if (titles.length <= 1) return titles[0] ?? '';
  if (titles.length === 2) return `${titles[0]} and ${titles[1]}`;
  return `${titles[0]}, ${titles[1]} and ${(titles.length - 2).toLocaleString('en')} more`;
}

/** The notification for a batch: the title and body, or null for nothing to say. */
export function batchNotice(
  kind: 'processed' | 'failed',
  titles: string[],
): { title: string; body: string } | null {
  const n = titles.length;
  if (n === 0) return null;
  const episodes = n === 1 ? 'An episode' : `${n.toLocaleString('en')} episodes`;
  if (kind === 'processed')
    return {
      title: n === 1 ? 'Episode ready' : `${episodes} ready`,
      body: `${titlesLine(titles)}: transcribed and ready to read.`,
    };
  return {
    title: n === 1 ? 'An episode could not be processed' : `${episodes} could not be processed`,
    body: `${titlesLine(titles)}. Open Problems in Earshot to see why and try again.`,
  };
}

/**
 * System notifications for episodes processed and episodes that failed, as the settings allow
 * (`settings()` is read when a batch is shown). Episodes whose run ends within `gatherMs` of each
 * other make one notification per kind; clicking it calls `open`. Each run is told once.
 */
export function notifyEpisodes(
  client: ActivityClient,
  Notification: NotificationApi,
  settings: () => NotifySettings,
  open: (kind: 'processed' | 'failed') => void,
  options: { gatherMs?: number; onError?: (err: Error) => void } = {},
): { stop(): void; flush(): Promise<void> } {
  const changed = new Set<number>();
  const told = new Set<string>();
  let timer: ReturnType<typeof setTimeout> | null = null;
  const flush = async () => {
    timer = null;
    const ids = [...changed];
    changed.clear();
    const batches = { processed: [] as string[], failed: [] as string[] };
    for (const id of ids) {
      const e = await client.call('episode', [id]).catch(() => null);
      if (!e?.workflowId) continue;
      const kind =
        e.workflowStatus === 'completed' ? 'processed' : e.workflowStatus === 'dead' ? 'failed' : null;
      if (!kind || told.has(`${e.workflowId}:${kind}`)) continue;
      told.add(`${e.workflowId}:${kind}`);
      batches[kind].push(e.title ?? 'An episode');
    }
    const wanted = settings();
    if (!Notification.isSupported()) return;
    for (const kind of ['processed', 'failed'] as const) {
      if (!(kind === 'processed' ? wanted.processed : wanted.failures)) continue;
      const notice = batchNotice(kind, batches[kind]);
      if (!notice) continue;
      const n = new Notification(notice);
      n.on('click', () => open(kind));
      n.show();
    }
  };
  const off = client.on('onEpisodeChanged', ((e: { episodeId: number }) => {
    changed.add(e.episodeId);
    timer ??= setTimeout(
      () => void flush().catch((err: unknown) => options.onError?.(err as Error)),
      options.gatherMs ?? 10_000,
    );
  }) as (payload: never) => void);
  return {
    flush,
    stop() {
      off();
      if (timer) clearTimeout(timer);
    },
  };
}
