import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { StatusView } from '../../../pipeline/api/contract.ts';
import { transport as defaultTransport } from '../api.ts';
import type { Transport } from '../transport.ts';

/** The engine's status as last read, and why the last read failed if it did. */
export const useStatusStore = defineStore('status', () => {
  const status = ref<StatusView | null>(null);
  const error = ref<string | null>(null);
  const loading = ref(false);
  let api: Transport = defaultTransport;

  async function refresh(): Promise<void> {
    loading.value = true;
    try {
      status.value = await api.invoke('status');
      error.value = null;
    } catch (err) {
      error.value = err instanceof Error ? err.message : String(err);
    } finally {
      loading.value = false;
    }
  }

  /** For tests and other shells: read from another transport. */
  function setTransport(next: Transport): void {
    api = next;
  }

  return { status, error, loading, refresh, setTransport };
});
