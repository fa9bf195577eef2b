import type { Router } from 'vue-router';
import { usePlayerStore } from './stores/player.ts';

/**
 * Play an episode from a moment (a quote's time, a playlist item, a node of the graph) and open
 * its transcript there, as a search hit does: the player plays, the transcript follows. The one
 * way views outside the player and the transcript start playback at a moment.
 */
export function playFrom(router: Router, episodeId: number, ms: number | null): Promise<unknown> {
  const at = ms === null ? undefined : Math.max(0, Math.round(ms));
  void usePlayerStore().playFrom(episodeId, at);
  return router.push({
    name: 'transcript',
    params: { id: String(episodeId) },
    query: at === undefined ? {} : { t: String(at) },
  });
}
