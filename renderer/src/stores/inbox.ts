import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { InboxView } from '../../../pipeline/api/contract.ts';
import { transport as defaultTransport } from '../api.ts';
import type { Transport } from '../transport.ts';

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The inbox: new episodes across shows, what arrived since the last visit, and the triage actions. */
export const useInboxStore = defineStore('inbox', () => {
  const inbox = ref<InboxView | null>(null);
  const error = ref<string | null>(null);
  /** Episodes queued for processing from the inbox in this window (so their row says so at once). */
  const queued = ref<Record<number, true>>({});
  let api: Transport = defaultTransport;

  async function load(): Promise<void> {
    try {
      inbox.value = await api.invoke('inbox', { limit: 500 });
      error.value = null;
    } catch (err) {
      error.value = message(err);
    }
  }

  /** Opening the inbox is a visit: read it (with what is new since the last one marked), then record it. */
  async function visit(): Promise<void> {
    await load();
    try {
      await api.invoke('visitInbox');
      // Seen now: nothing counts as new for the badge, though the list still shows what was.
      if (inbox.value) inbox.value = { ...inbox.value, newCount: 0 };
    } catch (err) {
      error.value = message(err);
    }
  }

  function drop(ids: number[]): void {
    if (!inbox.value) return;
    const gone = new Set(ids);
    const left = inbox.value.items.filter((i) => !gone.has(i.id));
    const removed = inbox.value.items.length - left.length;
    inbox.value = {
      ...inbox.value,
      items: left,
      total: inbox.value.total - removed,
      newCount: Math.max(
        0,
        inbox.value.newCount - inbox.value.items.filter((i) => gone.has(i.id) && i.isNew).length,
      ),
    };
  }

  async function markPlayed(ids: number[]): Promise<boolean> {
    try {
      await api.invoke('markPlayed', ids, true);
      drop(ids);
      return true;
    } catch (err) {
      error.value = message(err);
      return false;
    }
  }

  async function dismiss(ids: number[]): Promise<void> {
    try {
      await api.invoke('dismissFromInbox', ids);
      drop(ids);
    } catch (err) {
      error.value = message(err);
    }
  }

  async function process(ids: number[]): Promise<void> {
    try {
      await api.invoke('process', ids);
      for (const id of ids) queued.value[id] = true;
      await load();
    } catch (err) {
      error.value = message(err);
    }
  }

  function setTransport(next: Transport): void {
    api = next;
  }

  return { inbox, error, queued, load, visit, markPlayed, dismiss, process, setTransport };
});
