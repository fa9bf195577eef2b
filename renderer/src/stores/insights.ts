import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { EpisodeUnderstandingView } from '../../../pipeline/api/contract.ts';
import { transport as defaultTransport } from '../api.ts';
import type { Transport } from '../transport.ts';

/** The understanding (summary, insights, entities) of the episode being looked at. */
export const useInsightsStore = defineStore('insights', () => {
  const understanding = ref<EpisodeUnderstandingView | null>(null);
  const episodeId = ref<number | null>(null);
  const error = ref<string | null>(null);
  const loading = ref(false);
  let api: Transport = defaultTransport;

  async function load(id: number): Promise<void> {
    if (episodeId.value !== id) understanding.value = null;
    episodeId.value = id;
    loading.value = true;
    try {
      const read = await api.invoke('show', id);
      if (episodeId.value !== id) return;
      understanding.value = read;
      error.value = null;
    } catch (err) {
      if (episodeId.value !== id) return;
      understanding.value = null;
      error.value = err instanceof Error ? err.message : String(err);
    } finally {
      if (episodeId.value === id) loading.value = false;
    }
  }

  /** For tests and other shells: read from another transport. */
  function setTransport(next: Transport): void {
    api = next;
  }

  return { understanding, episodeId, error, loading, load, setTransport };
});
