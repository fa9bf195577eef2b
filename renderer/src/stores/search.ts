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
  /** Only episodes that mention this library entity (see `entities`); its name is for showing. */
  const entity = ref<{ id: number; name: string } | null>(null);
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
    // By id: a name could be two entities (a person and a place), an id is one.
    if (entity.value) options.entity = String(entity.value.id);
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

  /** Search only the episodes that mention entity `id` (null: all episodes again). */
  async function filterByEntity(id: number | null): Promise<void> {
    if (id === null) {
      entity.value = null;
      return;
    }
    if (entity.value?.id === id) return;
    try {
      const found = await api.invoke('entity', id);
      entity.value = { id: found.id, name: found.name };
    } catch (err) {
      entity.value = null;
      result.value = null;
      error.value = err instanceof Error ? err.message : String(err);
    }
  }

  /** For tests and other shells: search through another transport. */
  function setTransport(next: Transport): void {
    api = next;
  }

  return {
    query,
    feedId,
    from,
    to,
    entity,
    result,
    error,
    loading,
    search,
    filterByEntity,
    setTransport,
  };
});
