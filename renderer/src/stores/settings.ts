import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { AppSettingsPatch, AppSettingsView, Appearance } from '../../../pipeline/api/contract.ts';
import { transport as defaultTransport } from '../api.ts';
import type { Transport } from '../transport.ts';

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Light, dark, or the system's: the page's colours follow (App.vue reads data-appearance). */
export function applyAppearance(appearance: Appearance): void {
  const root = globalThis.document?.documentElement;
  if (!root) return;
  if (appearance === 'system') delete root.dataset.appearance;
  else root.dataset.appearance = appearance;
}

/** The app's settings as the library service keeps them, shared by every window (`onSettingsChanged`). */
export const useSettingsStore = defineStore('settings', () => {
  const settings = ref<AppSettingsView | null>(null);
  const error = ref<string | null>(null);
  const saved = ref(false);
  let api: Transport = defaultTransport;
  let off: (() => void) | null = null;

  const take = (s: AppSettingsView) => {
    settings.value = s;
    applyAppearance(s.appearance);
  };

  async function load(): Promise<void> {
    try {
      take(await api.invoke('settings'));
      error.value = null;
    } catch (err) {
      error.value = message(err);
    }
    off ??= api.on('onSettingsChanged', take);
  }

  /** Save a change; returns the error to show beside it, or null. */
  async function save(patch: AppSettingsPatch): Promise<string | null> {
    saved.value = false;
    try {
      take(await api.invoke('setSettings', patch));
      error.value = null;
      saved.value = true;
      return null;
    } catch (err) {
      return (error.value = message(err));
    }
  }

  function setTransport(next: Transport): void {
    api = next;
  }

  return { settings, error, saved, load, save, setTransport };
});
