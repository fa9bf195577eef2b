import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { ExportFormat, ExportView } from '../../../pipeline/api/contract.ts';
import { transport as defaultTransport } from '../api.ts';
import type { Transport } from '../transport.ts';

/** Writing the library to a folder: the choices, the last result, why it failed. */
export const useExportStore = defineStore('export', () => {
  const dir = ref('');
  const format = ref<ExportFormat>('obsidian');
  const feedId = ref<number | null>(null);
  const since = ref('');
  const result = ref<ExportView | null>(null);
  const error = ref<string | null>(null);
  const running = ref(false);
  let api: Transport = defaultTransport;

  async function run(): Promise<void> {
    if (!dir.value.trim() || running.value) return;
    running.value = true;
    try {
      result.value = await api.invoke('exportLibrary', dir.value.trim(), {
        format: format.value,
        ...(feedId.value !== null ? { feedId: feedId.value } : {}),
        ...(since.value ? { since: since.value } : {}),
      });
      error.value = null;
    } catch (err) {
      result.value = null;
      error.value = err instanceof Error ? err.message : String(err);
    } finally {
      running.value = false;
    }
  }

  function setTransport(next: Transport): void {
    api = next;
  }

  return { dir, format, feedId, since, result, error, running, run, setTransport };
});
