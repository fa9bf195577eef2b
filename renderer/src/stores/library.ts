import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { EpisodeView, FeedView } from '../../../pipeline/api/contract.ts';
import { transport as defaultTransport } from '../api.ts';
import type { Transport } from '../transport.ts';

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The podcasts followed and the episodes of the one being looked at. */
export const useLibraryStore = defineStore('library', () => {
  const feeds = ref<FeedView[]>([]);
  const episodes = ref<EpisodeView[]>([]);
  const selected = ref<number | null>(null);
  const error = ref<string | null>(null);
  const busy = ref(false);
  let api: Transport = defaultTransport;

  async function load(): Promise<void> {
    try {
      feeds.value = await api.invoke('feeds');
      if (selected.value === null && feeds.value[0]) selected.value = feeds.value[0].id;
      episodes.value =
        selected.value === null ? [] : await api.invoke('episodes', { feedId: selected.value, limit: 200 });
      error.value = null;
    } catch (err) {
      error.value = message(err);
    }
  }

  async function select(feedId: number): Promise<void> {
    selected.value = feedId;
    await load();
  }

  /** Subscribe; returns the error to show beside the form, or null when it worked. */
  async function subscribe(url: string, backlog: string): Promise<string | null> {
    busy.value = true;
    try {
      const feed = await api.invoke('subscribe', url, backlog);
      selected.value = feed.id;
      await load();
      return null;
    } catch (err) {
      return message(err);
    } finally {
      busy.value = false;
    }
  }

  async function process(episodeId: number): Promise<void> {
    try {
      await api.invoke('process', [episodeId]);
      await load();
    } catch (err) {
      error.value = message(err);
    }
  }

  /** Episodes queued for Whisper from this window (episode id → workflow id), so their rows say so. */
  const whisperQueued = ref<Record<number, string>>({});

  /** Transcribe with Whisper even when the publisher has a transcript. */
  async function transcribeWithWhisper(episodeId: number): Promise<void> {
    try {
      const [workflowId] = await api.invoke('process', [episodeId], { whisper: 'always' });
      if (workflowId) whisperQueued.value[episodeId] = workflowId;
      await load();
    } catch (err) {
      error.value = message(err);
    }
  }

  /**
   * Re-read the library as soon as a step finishes (an episode's status may have changed), rather
   * than at the next poll. Returns a function that stops listening.
   */
  function watchJobs(): () => void {
    let pending: ReturnType<typeof setTimeout> | null = null;
    const off = api.on('onJobFinished', ({ workflowId, outcome }) => {
      // A Whisper run asked for here has ended (done or failed for good): its row stops saying "queued".
      if (outcome.kind === 'dead' || (outcome.kind === 'committed' && outcome.workflowDone)) {
        for (const [episodeId, queued] of Object.entries(whisperQueued.value)) {
          if (queued === workflowId) delete whisperQueued.value[Number(episodeId)];
        }
      }
      // Steps often finish in bursts: one read for the lot.
      pending ??= setTimeout(() => {
        pending = null;
        void load();
      }, 250);
    });
    return () => {
      off();
      if (pending) clearTimeout(pending);
    };
  }

  function setTransport(next: Transport): void {
    api = next;
  }

  return {
    feeds,
    episodes,
    selected,
    error,
    busy,
    whisperQueued,
    load,
    select,
    subscribe,
    process,
    transcribeWithWhisper,
    watchJobs,
    setTransport,
  };
});
