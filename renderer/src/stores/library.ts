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

  function setTransport(next: Transport): void {
    api = next;
  }

  return { feeds, episodes, selected, error, busy, load, select, subscribe, process, setTransport };
});
