import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { TranscriptView } from '../../../pipeline/api/contract.ts';
import { transport as defaultTransport } from '../api.ts';
import type { Transport } from '../transport.ts';

/** The transcript being read, and why it could not be read if it could not. */
export const useTranscriptStore = defineStore('transcript', () => {
  const transcript = ref<TranscriptView | null>(null);
  const episodeId = ref<number | null>(null);
  const error = ref<string | null>(null);
  const loading = ref(false);
  let api: Transport = defaultTransport;

  async function load(id: number): Promise<void> {
    if (episodeId.value !== id) transcript.value = null;
    episodeId.value = id;
    loading.value = true;
    try {
      const read = await api.invoke('transcript', id);
      // Another episode was opened while this one was being read.
      if (episodeId.value !== id) return;
      transcript.value = read;
      error.value = null;
    } catch (err) {
      if (episodeId.value !== id) return;
      transcript.value = null;
      error.value = err instanceof Error ? err.message : String(err);
    } finally {
      loading.value = false;
    }
  }

  /** For tests and other shells: read from another transport. */
  function setTransport(next: Transport): void {
    api = next;
  }

  return { transcript, episodeId, error, loading, load, setTransport };
});
