import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type {
  ModelActionView,
  ModelKind,
  ModelProgressEvent,
  ModelView,
} from '../../../pipeline/api/contract.ts';
import { transport as defaultTransport } from '../api.ts';
import type { Transport } from '../transport.ts';

/** How long a finished download's full bar stays on screen, in ms. */
const DONE_SHOWN_MS = 4000;

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A download started from this window: its progress as `onModelProgress` reports it. */
export interface InstallProgress {
  bytes: number;
  /** Null when the server did not say how large the file is. */
  total: number | null;
  /** 'checking': every byte is here and Earshot is verifying the file before installing it. */
  state: 'downloading' | 'checking' | 'done' | 'failed';
}

/** What the last action said: the API's own sentence, as a success or as an error. */
export interface Notice {
  kind: 'ok' | 'error';
  text: string;
}

/** The models installed and on offer, and the downloads and actions under way. */
export const useModelsStore = defineStore('models', () => {
  const models = ref<ModelView[]>([]);
  /** Whether the list has been read once (so "no Whisper model" is known, not guessed). */
  const loaded = ref(false);
  /** Why the list could not be read, or null. */
  const error = ref<string | null>(null);
  const notice = ref<Notice | null>(null);
  const installs = ref<Record<string, InstallProgress>>({});
  /** Ids with an install, use or remove running, so their buttons wait. */
  const busy = ref<Record<string, boolean>>({});
  const importing = ref(false);
  let api: Transport = defaultTransport;

  const activeWhisper = computed(
    () => models.value.find((m) => m.kind === 'whisper' && m.active && m.installed) ?? null,
  );
  const byKind = computed(() => {
    const out: Record<ModelKind, ModelView[]> = { whisper: [], llm: [], embedding: [] };
    for (const m of models.value) out[m.kind].push(m);
    return out;
  });

  async function load(): Promise<void> {
    try {
      models.value = await api.invoke('models');
      loaded.value = true;
      error.value = null;
    } catch (err) {
      error.value = message(err);
    }
  }

  function onProgress(payload: unknown): void {
    const p = payload as ModelProgressEvent;
    const current = installs.value[p.id];
    // Only downloads started here; a late event must not reopen one that has finished.
    if (!current || current.state === 'done' || current.state === 'failed') return;
    const total = p.total ?? current.total;
    installs.value[p.id] = {
      bytes: p.bytes,
      total,
      state: total !== null && p.bytes >= total ? 'checking' : 'downloading',
    };
  }

  // One subscription to progress events, held while the Models view is open or a download runs.
  let holders = 0;
  let unsubscribe: (() => void) | null = null;
  function hold(): () => void {
    if (holders++ === 0) unsubscribe = api.on('onModelProgress', onProgress);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--holders === 0) {
        unsubscribe?.();
        unsubscribe = null;
      }
    };
  }

  /** Run an action on one model; its message (or error) becomes the notice. True when it worked. */
  async function act(id: string, run: () => Promise<ModelActionView>): Promise<boolean> {
    busy.value[id] = true;
    try {
      const result = await run();
      notice.value = { kind: 'ok', text: result.message };
      return true;
    } catch (err) {
      notice.value = { kind: 'error', text: message(err) };
      return false;
    } finally {
      delete busy.value[id];
      await load();
    }
  }

  async function install(id: string): Promise<boolean> {
    const model = models.value.find((m) => m.id === id);
    installs.value[id] = {
      bytes: model?.partialBytes ?? 0,
      total: model?.bytes ?? null,
      state: 'downloading',
    };
    const release = hold();
    try {
      const ok = await act(id, async () => {
        const result = await api.invoke('installModel', id);
        const size = result.model.bytes;
        const done: InstallProgress = { bytes: size ?? 0, total: size, state: 'done' };
        installs.value[id] = done;
        // Long enough to see it finish; then the row shows what an installed model shows.
        setTimeout(() => {
          if (installs.value[id]?.state === 'done') delete installs.value[id];
        }, DONE_SHOWN_MS);
        return result;
      });
      if (!ok) installs.value[id] = { ...installs.value[id]!, state: 'failed' };
      return ok;
    } finally {
      release();
    }
  }

  const use = (id: string) => act(id, () => api.invoke('useModel', id));

  async function remove(id: string): Promise<boolean> {
    const ok = await act(id, () => api.invoke('removeModel', id));
    if (ok) delete installs.value[id];
    return ok;
  }

  /** Import a model file (or embedding folder) by its path; returns the error to show, or null. */
  async function importPath(file: string): Promise<string | null> {
    importing.value = true;
    try {
      const result = await api.invoke('importModel', file);
      notice.value = { kind: 'ok', text: result.message };
      return null;
    } catch (err) {
      return message(err);
    } finally {
      importing.value = false;
      await load();
    }
  }

  /** Forget downloads that ended (so a reopened view starts clean); running ones stay. */
  function clearFinished(): void {
    for (const [id, p] of Object.entries(installs.value)) {
      if (p.state === 'done' || p.state === 'failed') delete installs.value[id];
    }
  }

  function dismissNotice(): void {
    notice.value = null;
  }

  /** For tests and other shells: talk to another transport. */
  function setTransport(next: Transport): void {
    api = next;
  }

  return {
    models,
    loaded,
    error,
    notice,
    installs,
    busy,
    importing,
    activeWhisper,
    byKind,
    load,
    hold,
    install,
    use,
    remove,
    importPath,
    clearFinished,
    dismissNotice,
    setTransport,
  };
});
