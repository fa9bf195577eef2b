import type { RouteLocationRaw, Router } from 'vue-router';

/**
 * "Play from this moment". Until the player exists it opens the transcript at that time (as
 * Search does); this is the one place to point at the player (`player.playFrom(episodeId, ms)`)
 * when it does.
 */
export function momentLocation(episodeId: number, ms: number | null): RouteLocationRaw {
  return {
    name: 'transcript',
    params: { id: String(episodeId) },
    query: ms === null ? {} : { t: String(ms) },
  };
}

export function playFrom(router: Router, episodeId: number, ms: number | null): Promise<unknown> {
  return router.push(momentLocation(episodeId, ms));
}
