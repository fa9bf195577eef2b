import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { FailureActionView, FailureGroupView } from '../../../pipeline/api/contract.ts';
import { transport as defaultTransport } from '../api.ts';
import type { Transport } from '../transport.ts';
import { count } from '../words.ts';

/** The groups are read again this long after an episode they name changed (a burst is one read). */
const RELOAD_MS = 500;

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * The failure inbox: what failed, grouped by cause and show (the API's words), and what the
 * person did about it. Parts skipped without failing their episode (chapters) are notes.
 */
export const useFailuresStore = defineStore('failures', () => {
  const groups = ref<FailureGroupView[]>([]);
  const loaded = ref(false);
  const error = ref<string | null>(null);
  /** What the last action did, in a sentence. */
  const notice = ref<string | null>(null);
  /** Groups with an action under way. */
  const busy = ref<Record<string, boolean>>({});
  let api: Transport = defaultTransport;

  const failed = computed(() => groups.value.filter((g) => g.severity === 'failed'));
  const notes = computed(() => groups.value.filter((g) => g.severity !== 'failed'));
  /** Episodes that failed: the number beside Problems. */
  const failedEpisodes = computed(() => failed.value.reduce((n, g) => n + g.episodes.length, 0));

  async function load(): Promise<void> {
    try {
      groups.value = await api.invoke('failures');
      loaded.value = true;
      error.value = null;
    } catch (err) {
      error.value = message(err);
    }
  }

  /** Do one of a group's actions for all its episodes; true when every one of them took it. */
  async function act(group: FailureGroupView, action: FailureActionView): Promise<boolean> {
    busy.value[group.id] = true;
    const problems: string[] = [];
    let said: string | null = null;
    try {
      if (action.kind === 'skip') {
        await api.invoke(
          'skipEpisodes',
          group.episodes.map((e) => e.id),
        );
      } else {
        for (const e of group.episodes) {
          if (!e.workflowId) continue;
          try {
            await api.invoke('retry', e.workflowId, action.kind === 'retry-from' ? action.step : undefined);
          } catch (err) {
            problems.push(`${e.title ?? 'An episode'}: ${message(err)}`);
          }
        }
      }
      const n = group.episodes.length;
      const what = group.show ? `${count(n, 'episode')} of ${group.show}` : count(n, 'file');
      said =
        action.kind === 'skip'
          ? group.severity === 'failed'
            ? `Skipped ${what}: they stay in your library, unprocessed.`
            : `Dismissed the note on ${what}.`
          : `Trying ${what} again. Activity shows how it goes.`;
    } catch (err) {
      problems.push(message(err));
    } finally {
      delete busy.value[group.id];
    }
    // The groups as they are now; what went wrong is said after (a read that worked clears errors).
    await load();
    notice.value = said;
    if (problems.length) error.value = problems.join(' ');
    return problems.length === 0;
  }

  /**
   * Keep the groups true while the window is open: an episode they name that changes (retried
   * from its page, processed by another window) has the groups read again, once per burst.
   */
  let listening: (() => void) | null = null;
  let again: ReturnType<typeof setTimeout> | null = null;
  function listen(): void {
    if (listening) return;
    listening = api.on('onEpisodeChanged', (e) => {
      if (again || !groups.value.some((g) => g.episodes.some((x) => x.id === e.episodeId))) return;
      again = setTimeout(() => {
        again = null;
        void load();
      }, RELOAD_MS);
    });
  }

  function setTransport(next: Transport): void {
    listening?.();
    listening = null;
    api = next;
  }

  return {
    groups,
    loaded,
    error,
    notice,
    busy,
    failed,
    notes,
    failedEpisodes,
    load,
    act,
    listen,
    setTransport,
  };
});
