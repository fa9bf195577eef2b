import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { EpisodeDetailView } from '../../../pipeline/api/contract.ts';
import { transport as defaultTransport } from '../api.ts';
import type { Transport } from '../transport.ts';

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The episode whose page is open: its details, and what can be done to it. */
export const useEpisodeStore = defineStore('episode', () => {
  const detail = ref<EpisodeDetailView | null>(null);
  const episodeId = ref<number | null>(null);
  const error = ref<string | null>(null);
  /** What the last action did, in a sentence (shown beside the buttons). */
  const notice = ref<string | null>(null);
  const loading = ref(false);
  let api: Transport = defaultTransport;

  async function load(id: number): Promise<void> {
    if (episodeId.value !== id) {
      detail.value = null;
      notice.value = null;
    }
    episodeId.value = id;
    loading.value = true;
    try {
      const read = await api.invoke('episode', id);
      if (episodeId.value !== id) return;
      detail.value = read;
      error.value = null;
    } catch (err) {
      if (episodeId.value !== id) return;
      detail.value = null;
      error.value = message(err);
    } finally {
      if (episodeId.value === id) loading.value = false;
    }
  }

  async function act(what: () => Promise<unknown>, done: string): Promise<void> {
    const id = episodeId.value;
    if (id === null) return;
    try {
      await what();
      notice.value = done;
      error.value = null;
    } catch (err) {
      notice.value = null;
      error.value = message(err);
    }
    await load(id);
  }

  /** Download, transcribe, understand and index it; a failed or cancelled run starts again. */
  const process = () =>
    act(
      () => api.invoke('process', [episodeId.value!]),
      'Queued: Earshot downloads, transcribes and understands it in the background.',
    );

  /** Transcribe with Whisper even when the publisher has a transcript. */
  const transcribeWithWhisper = () =>
    act(
      () => api.invoke('process', [episodeId.value!], { whisper: 'always' }),
      'Queued for Whisper: the transcript is replaced when it is done.',
    );

  /** Run understanding and indexing again (with the models chosen now). */
  const understandAgain = () =>
    act(async () => {
      const wf = detail.value?.workflowId;
      if (!wf) throw new Error('This episode has not been processed yet: use Process first.');
      await api.invoke('retry', wf, 'understand');
    }, 'Queued: its summary, insights and search index are made again.');

  const markPlayed = (played: boolean) =>
    act(
      () => api.invoke('markPlayed', [episodeId.value!], played),
      played ? 'Marked played.' : 'Marked unplayed.',
    );

  function setTransport(next: Transport): void {
    api = next;
  }

  return {
    detail,
    episodeId,
    error,
    notice,
    loading,
    load,
    process,
    transcribeWithWhisper,
    understandAgain,
    markPlayed,
    setTransport,
  };
});
