import { useRouter } from 'vue-router';

/**
 * The one way the UI plays an episode from a moment (a quote's time, a playlist item). Until the
 * player exists it opens the transcript at that time, as Search does; rewire this to
 * `player.playFrom(episodeId, ms)` and every caller follows.
 */
export function usePlayFrom(): (episodeId: number, ms: number) => void {
  const router = useRouter();
  return (episodeId, ms) =>
    void router.push({
      name: 'transcript',
      params: { id: String(episodeId) },
      query: { t: String(Math.max(0, Math.round(ms))) },
    });
}
