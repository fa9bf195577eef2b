import type { Subscriptions } from './subscriptions.ts';
import type { Queue } from '../engine/queue.ts';
import { startEpisodes } from './episodes.ts';
import { indexUnindexedListings } from '../search/store.ts';
import { writeTx } from '../store/db.ts';
import { startDueDigest } from '../digest/schedule.ts';

export interface BackgroundIngestOptions {
  /** How often to look for feeds that are due, in ms. Default 60000. */
  everyMs?: number;
  onError?: (err: Error) => void;
}

/**
 * What runs beside the engine: refresh the feeds whose time has come, start the episodes their
 * policy queued, wake work that waited for what is there now (a model), and start the digest
 * the schedule owes. Each feed carries its own schedule (interval, jitter, backoff), so this
 * only has to look often.
 */
export class BackgroundIngest {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private readonly subs: Subscriptions;
  private readonly queue: Queue;
  private readonly options: BackgroundIngestOptions;

  constructor(subs: Subscriptions, queue: Queue, options: BackgroundIngestOptions = {}) {
    this.subs = subs;
    this.queue = queue;
    this.options = options;
  }

  /** One round; concurrent calls share the round in progress. */
  tick(): Promise<void> {
    this.running ??= (async () => {
      try {
        await this.subs.refreshDue();
        startEpisodes(this.subs.db, this.queue);
        // Work waiting for a model chosen elsewhere (another process, an older Earshot) goes on.
        this.queue.wake();
        // Episodes listed before listings were searchable (an older library) become searchable.
        writeTx(this.subs.db, 'indexing listed episodes', () => indexUnindexedListings(this.subs.db));
        // The weekly digest, once the episodes of its week are processed.
        startDueDigest(this.subs.db, this.queue);
      } catch (err) {
        this.options.onError?.(err as Error);
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }

  start(): void {
    void this.tick();
    this.timer = setInterval(() => void this.tick(), this.options.everyMs ?? 60_000);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }
}
