import { defineStore } from 'pinia';
import { ref } from 'vue';
import type {
  CanonicalEntityDetailView,
  CanonicalEntityView,
  EntityKind,
} from '../../../pipeline/api/contract.ts';
import { transport as defaultTransport } from '../api.ts';
import type { Transport } from '../transport.ts';

/** How many entities the list reads at once (the API's most episodes first). */
const LIST_LIMIT = 500;

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** The library's people, organizations, places and topics, and the one being looked at. */
export const useEntitiesStore = defineStore('entities', () => {
  /** Only this kind; null: all of them. */
  const type = ref<EntityKind | null>(null);
  const list = ref<CanonicalEntityView[]>([]);
  /** The list has been read at least once (so an empty one means there is nothing). */
  const loaded = ref(false);
  const error = ref<string | null>(null);
  const detail = ref<CanonicalEntityDetailView | null>(null);
  const detailError = ref<string | null>(null);
  let api: Transport = defaultTransport;
  let listAsked = 0;
  let detailAsked = 0;

  async function load(): Promise<void> {
    const mine = ++listAsked;
    try {
      const read = await api.invoke('entities', {
        limit: LIST_LIMIT,
        ...(type.value ? { type: type.value } : {}),
      });
      if (mine !== listAsked) return;
      list.value = read;
      error.value = null;
      loaded.value = true;
    } catch (err) {
      if (mine !== listAsked) return;
      error.value = message(err);
    }
  }

  async function setType(next: EntityKind | null): Promise<void> {
    type.value = next;
    await load();
  }

  /** Read one entity and the episodes that name it; null closes it. */
  async function open(id: number | null): Promise<void> {
    const mine = ++detailAsked;
    if (id === null) {
      detail.value = null;
      detailError.value = null;
      return;
    }
    if (detail.value?.id !== id) detail.value = null;
    try {
      const read = await api.invoke('entity', id);
      if (mine !== detailAsked) return;
      detail.value = read;
      detailError.value = null;
    } catch (err) {
      if (mine !== detailAsked) return;
      detail.value = null;
      detailError.value = message(err);
    }
  }

  /** For tests and other shells: read through another transport. */
  function setTransport(next: Transport): void {
    api = next;
  }

  return { type, list, loaded, error, detail, detailError, load, setType, open, setTransport };
});
