import { defineStore } from 'pinia';
import { computed, ref, watch } from 'vue';
import type { EpisodeFilter, FeedView, ShowView } from '../../../pipeline/api/contract.ts';
import { transport as defaultTransport } from '../api.ts';
import type { Transport } from '../transport.ts';

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Which show is open: a feed id, or 'files' for "Your files" (imported episodes). */
export type ShowKey = number | 'files';

const SHOW_KEY = 'earshot.show';

function storedShow(): ShowKey | null {
  try {
    const v = globalThis.localStorage?.getItem(SHOW_KEY);
    if (v === 'files') return 'files';
    return v && /^\d+$/.test(v) ? Number(v) : null;
  } catch {
    return null;
  }
}

export const showKey = (s: ShowView): ShowKey => s.feedId ?? 'files';

/** The shows followed (with artwork and unplayed counts), the one open, and the list's filters. */
export const useLibraryStore = defineStore('library', () => {
  const shows = ref<ShowView[]>([]);
  /** The subscriptions alone (Search's show filter). */
  const feeds = computed<FeedView[]>(() =>
    shows.value
      .filter((s) => s.feedId !== null)
      .map((s) => ({
        id: s.feedId!,
        url: s.url ?? '',
        title: s.title,
        backlog: '',
        episodeCount: s.episodeCount,
        lastRefreshAt: null,
        lastError: s.lastError,
        failingSince: s.failingSince,
        nextRefreshAt: null,
      })),
  );
  /** The show open last time (this window's storage), so its episodes are asked for at once. */
  const selected = ref<ShowKey | null>(storedShow());
  watch(selected, (key) => {
    try {
      if (key === null) globalThis.localStorage?.removeItem(SHOW_KEY);
      else globalThis.localStorage?.setItem(SHOW_KEY, String(key));
    } catch {
      // Storage refused (a private window): the first show opens next time.
    }
  });
  const filters = ref<Required<EpisodeFilter>>({ unplayed: false, processed: false, hasTranscript: false });
  const error = ref<string | null>(null);
  const busy = ref(false);
  /** The shows have been read at least once (until then, "none" is not known). */
  const loaded = ref(false);
  /** Bumped when the open show's episodes changed (subscribed, processed, a step finished). */
  const changes = ref(0);
  let api: Transport = defaultTransport;

  const current = computed(() => shows.value.find((s) => showKey(s) === selected.value) ?? null);

  async function load(): Promise<void> {
    try {
      shows.value = await api.invoke('shows');
      loaded.value = true;
      if (!shows.value.some((s) => showKey(s) === selected.value)) {
        selected.value = shows.value[0] ? showKey(shows.value[0]) : null;
      }
      error.value = null;
    } catch (err) {
      error.value = message(err);
    }
  }

  function select(key: ShowKey): void {
    selected.value = key;
  }

  /** Subscribe; returns the error to show beside the form, or null when it worked. */
  async function subscribe(url: string, backlog: string): Promise<string | null> {
    busy.value = true;
    try {
      const feed = await api.invoke('subscribe', url, backlog);
      selected.value = feed.id;
      await load();
      changes.value++;
      return null;
    } catch (err) {
      return message(err);
    } finally {
      busy.value = false;
    }
  }

  /**
   * Read the shows again as soon as a step finishes (counts and statuses may have changed), rather
   * than at the next poll. Returns a function that stops listening.
   */
  function watchJobs(): () => void {
    let pending: ReturnType<typeof setTimeout> | null = null;
    const off = api.on('onJobFinished', ({ outcome }) => {
      if (outcome.kind === 'stale') return;
      // Steps often finish in bursts: one read for the lot.
      pending ??= setTimeout(() => {
        pending = null;
        void load();
        changes.value++;
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
    shows,
    feeds,
    selected,
    loaded,
    current,
    filters,
    error,
    busy,
    changes,
    load,
    select,
    subscribe,
    watchJobs,
    setTransport,
  };
});
