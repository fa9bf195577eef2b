import { defineStore } from 'pinia';
import { ref } from 'vue';
import type {
  DigestReadyEvent,
  DigestSettingsView,
  DigestSummaryView,
  DigestView,
} from '../../../pipeline/api/contract.ts';
import { transport as defaultTransport } from '../api.ts';
import type { Transport } from '../transport.ts';

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** The stored digests, the one being read (a stored one, or this week's so far), the schedule. */
export const useDigestStore = defineStore('digest', () => {
  const list = ref<DigestSummaryView[]>([]);
  const loaded = ref(false);
  /** null: this week so far (made on request, not stored). */
  const selected = ref<number | null>(null);
  const digest = ref<DigestView | null>(null);
  const loading = ref(false);
  const error = ref<string | null>(null);
  const settings = ref<DigestSettingsView | null>(null);
  /** A digest the schedule made since the Digest screen was last opened. */
  const fresh = ref<DigestReadyEvent | null>(null);
  let api: Transport = defaultTransport;
  let asked = 0;
  let stopListening: (() => void) | null = null;

  async function loadList(): Promise<void> {
    try {
      const [digests, schedule] = await Promise.all([
        api.invoke('digests', {}),
        api.invoke('digestSettings'),
      ]);
      list.value = digests;
      settings.value = schedule;
      loaded.value = true;
    } catch (err) {
      error.value = message(err);
    }
  }

  /** Read a stored digest, or (null) this week's so far. */
  async function open(id: number | null): Promise<void> {
    const mine = ++asked;
    selected.value = id;
    loading.value = true;
    try {
      const read = id === null ? await api.invoke('digest', {}) : await api.invoke('savedDigest', id);
      if (mine !== asked) return;
      digest.value = read;
      error.value = null;
      if (id !== null && fresh.value?.digestId === id) fresh.value = null;
    } catch (err) {
      if (mine !== asked) return;
      digest.value = null;
      error.value = message(err);
    } finally {
      if (mine === asked) loading.value = false;
    }
  }

  async function saveSettings(change: { every?: string; budget?: string }): Promise<void> {
    try {
      settings.value = await api.invoke('setDigestSettings', change);
      error.value = null;
    } catch (err) {
      error.value = message(err);
    }
  }

  /** Hear about digests the schedule makes (`onDigestReady`) while the app is open. */
  function listen(): void {
    stopListening ??= api.on('onDigestReady', (payload) => {
      fresh.value = payload as DigestReadyEvent;
      void loadList();
    });
  }

  /** For tests and other shells: read through another transport. */
  function setTransport(next: Transport): void {
    stopListening?.();
    stopListening = null;
    api = next;
  }

  return {
    list,
    loaded,
    selected,
    digest,
    loading,
    error,
    settings,
    fresh,
    loadList,
    open,
    saveSettings,
    listen,
    setTransport,
  };
});
