import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { SearchQuery, SearchView } from '../../../pipeline/api/contract.ts';
import { transport as defaultTransport } from '../api.ts';
import type { Transport } from '../transport.ts';

/** The last library search, its filters, and why it failed if it did. */
export const useSearchStore = defineStore('search', () => {
  const query = ref('');
  const feedId = ref<number | null>(null);
  const from = ref('');
  const to = ref('');
  const result = ref<SearchView | null>(null);
  const error = ref<string | null>(null);
  const loading = ref(false);
  let api: Transport = defaultTransport;
  let asked = 0;

  async function search(): Promise<void> {
    const text = query.value.trim();
    if (!text) return;
    const options: SearchQuery = { limit: 50 };
    if (feedId.value !== null) options.feedId = feedId.value;
    if (from.value) options.from = from.value;
    if (to.value) options.to = to.value;
    const mine = ++asked;
    loading.value = true;
    try {
      const found = await api.invoke('search', text, options);
      // A newer search was started while this one ran.
      if (mine !== asked) return;
      result.value = found;
      error.value = null;
    } catch (err) {
      if (mine !== asked) return;
      result.value = null;
      error.value = err instanceof Error ? err.message : String(err);
    } finally {
      if (mine === asked) loading.value = false;
    }
  }

  /** For tests and other shells: search through another transport. */
  function setTransport(next: Transport): void {
    api = next;
  }

  return { query, feedId, from, to, result, error, loading, search, setTransport };
});
