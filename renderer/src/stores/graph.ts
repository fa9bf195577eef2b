import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { EntityKind, GraphQuery, GraphView } from '../../../pipeline/api/contract.ts';
import { transport as defaultTransport } from '../api.ts';
import type { Transport } from '../transport.ts';

/** The most nodes the Graph view asks for at once. */
export const GRAPH_LIMIT = 2000;

/** The knowledge graph being looked at: the library's, one entity's or one episode's, and its filters. */
export const useGraphStore = defineStore('graph', () => {
  /** Which kinds of entity the library's graph shows (people, organizations and topics to start). */
  const types = ref<EntityKind[]>(['person', 'organization', 'topic']);
  const feedId = ref<number | null>(null);
  /** Leave out nodes with fewer connections than this (names said with nothing else, to start). */
  const minDegree = ref(1);
  const view = ref<GraphView | null>(null);
  const error = ref<string | null>(null);
  const loading = ref(false);
  let api: Transport = defaultTransport;
  let asked = 0;

  /** Read a graph: `focus` is an entity or an episode, or null for the library's. */
  async function load(focus: { entityId: number } | { episodeId: number } | null): Promise<void> {
    const mine = ++asked;
    const query: GraphQuery = { limit: GRAPH_LIMIT };
    if (focus) Object.assign(query, focus);
    if (!focus || 'entityId' in focus) {
      query.types = types.value;
      if (feedId.value !== null) query.feedId = feedId.value;
      if (minDegree.value > 0) query.minDegree = minDegree.value;
    }
    loading.value = true;
    try {
      const read = await api.invoke('graph', query);
      if (mine !== asked) return;
      view.value = read;
      error.value = null;
    } catch (err) {
      if (mine !== asked) return;
      view.value = null;
      error.value = err instanceof Error ? err.message : String(err);
    } finally {
      if (mine === asked) loading.value = false;
    }
  }

  /** For tests and other shells: read through another transport. */
  function setTransport(next: Transport): void {
    api = next;
  }

  return { types, feedId, minDegree, view, error, loading, load, setTransport };
});
