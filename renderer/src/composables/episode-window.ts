import { shallowRef, ref, type Ref } from 'vue';
import type { EpisodeListItem, EpisodePageQuery } from '../../../pipeline/api/contract.ts';
import { transport as defaultTransport } from '../api.ts';
import type { Transport } from '../transport.ts';

/** Rows asked for at once. */
export const PAGE_SIZE = 100;

export type EpisodeQuery = Omit<EpisodePageQuery, 'offset' | 'limit'>;

/**
 * An episode list read from the service in pages, as a virtual list scrolls over it: `total`
 * says how long the list is, `ensure(first, last)` reads the pages those rows fall in (once
 * each), `at(index)` is the row or undefined while its page is on its way. Changing the query
 * starts again from the first page; `refresh()` reads again the pages already read (statuses
 * change while processing).
 */
export function useEpisodeWindow(query: Ref<EpisodeQuery | null>, api: Transport = defaultTransport) {
  const total = ref<number | null>(null);
  const pages = shallowRef(new Map<number, EpisodeListItem[]>());
  const error = ref<string | null>(null);
  /** Pages being read, as `generation:page`. */
  const loading = new Set<string>();
  /** Bumped by every reset: answers to an older query are dropped. */
  let generation = 0;

  async function loadPage(page: number, gen = generation): Promise<void> {
    const q = query.value;
    const key = `${gen}:${page}`;
    if (!q || loading.has(key)) return;
    loading.add(key);
    try {
      const result = await api.invoke('episodePage', { ...q, offset: page * PAGE_SIZE, limit: PAGE_SIZE });
      if (gen !== generation) return;
      total.value = result.total;
      const next = new Map(pages.value);
      next.set(page, result.items);
      pages.value = next;
      error.value = null;
    } catch (err) {
      if (gen === generation) error.value = err instanceof Error ? err.message : String(err);
    } finally {
      loading.delete(key);
    }
  }

  /** Read the pages rows `first`..`last` fall in, if not read yet. */
  function ensure(first: number, last: number): void {
    if (last < first) return;
    for (let p = Math.floor(Math.max(0, first) / PAGE_SIZE); p <= Math.floor(last / PAGE_SIZE); p++) {
      if (!pages.value.has(p)) void loadPage(p);
    }
  }

  function at(index: number): EpisodeListItem | undefined {
    return pages.value.get(Math.floor(index / PAGE_SIZE))?.[index % PAGE_SIZE];
  }

  /** Start again (the query changed): the first page, and the length from it. */
  async function reset(): Promise<void> {
    generation++;
    pages.value = new Map();
    total.value = null;
    error.value = null;
    await loadPage(0);
  }

  /** Read again the pages already read (or only `only`, the ones on screen). */
  async function refresh(only?: Iterable<number>): Promise<void> {
    const wanted = only ? [...only] : [...pages.value.keys()];
    await Promise.all(wanted.map((p) => loadPage(p)));
  }

  /** Change one row in place (a play state changed here), without reading again. */
  function patch(id: number, change: Partial<EpisodeListItem>): void {
    let touched = false;
    const next = new Map(pages.value);
    for (const [p, items] of next) {
      const i = items.findIndex((e) => e.id === id);
      if (i >= 0) {
        const copy = [...items];
        copy[i] = { ...copy[i]!, ...change };
        next.set(p, copy);
        touched = true;
      }
    }
    if (touched) pages.value = next;
  }

  return { total, pages, error, ensure, at, reset, refresh, patch };
}
