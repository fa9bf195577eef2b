import { useRouter } from 'vue-router';
import { usePlayerStore } from './stores/player.ts';

/**
 * Play an episode from a moment (a quote's time, a playlist item) and open its transcript there,
 * as a search hit does: the player plays, the transcript follows.
 */
export function usePlayFrom(): (episodeId: number, ms: number) => void {
  const router = useRouter();
  const player = usePlayerStore();
  return (episodeId, ms) => {
    const at = Math.max(0, Math.round(ms));
    void player.playFrom(episodeId, at);
    void router.push({ name: 'transcript', params: { id: String(episodeId) }, query: { t: String(at) } });
  };
}
