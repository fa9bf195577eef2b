import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import type { ChapterView, EpisodeDetailView } from '../../../pipeline/api/contract.ts';
import { transport as defaultTransport } from '../api.ts';
import type { Transport } from '../transport.ts';

/** The speeds the player offers (0.8–3×). */
export const SPEEDS = [0.8, 1, 1.1, 1.2, 1.3, 1.5, 1.75, 2, 2.5, 3] as const;
/** How often the position is saved while playing, in ms of wall time. */
const SAVE_EVERY_MS = 10_000;
const RATE_KEY = 'earshot.playbackRate';

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function savedRate(): number {
  const stored = Number(globalThis.localStorage?.getItem(RATE_KEY));
  return SPEEDS.includes(stored as (typeof SPEEDS)[number]) ? stored : 1;
}

/**
 * The one player: what is playing, where, how fast. Any view plays an episode from a moment with
 * `playFrom(episodeId, ms)` (a transcript line, a quote, a chapter, a search hit); without a
 * moment it resumes where the listener left off. The <audio> element is the mini player's
 * (`attach`); the position is saved through the API while playing, on pause and on seeking, and
 * the API marks the episode played near its end.
 */
export const usePlayerStore = defineStore('player', () => {
  const episode = shallowRef<EpisodeDetailView | null>(null);
  const playing = ref(false);
  const waiting = ref(false);
  const currentMs = ref(0);
  const durationMs = ref(0);
  const rate = ref(savedRate());
  const error = ref<string | null>(null);
  /** Bumped whenever a play state changes here (played, position), so lists can read again. */
  const changes = ref(0);
  let api: Transport = defaultTransport;
  let audio: HTMLAudioElement | null = null;
  let lastSaved = 0;
  let pendingSeekMs: number | null = null;

  const chapters = computed<ChapterView[]>(() => episode.value?.chapters ?? []);
  const chapter = computed<ChapterView | null>(() => {
    let found: ChapterView | null = null;
    for (const c of chapters.value) if (c.startMs <= currentMs.value) found = c;
    return found;
  });

  async function save(final = false): Promise<void> {
    const ep = episode.value;
    if (!ep || !audio) return;
    const position = Math.round(audio.currentTime * 1000);
    const length = Number.isFinite(audio.duration) ? Math.round(audio.duration * 1000) : undefined;
    lastSaved = Date.now();
    try {
      const state = await api.invoke('savePosition', ep.id, position, length);
      if (episode.value?.id === ep.id) {
        const before = episode.value.state;
        episode.value = {
          ...episode.value,
          state: state.state,
          positionMs: state.positionMs,
          playedAt: state.playedAt,
        };
        if (before !== state.state || final) changes.value++;
      }
    } catch (err) {
      error.value = `Earshot could not save where you are: ${message(err)}`;
    }
  }

  function onTime(): void {
    if (!audio) return;
    currentMs.value = audio.currentTime * 1000;
    if (playing.value && Date.now() - lastSaved >= SAVE_EVERY_MS) void save();
    updatePositionState();
  }

  function updatePositionState(): void {
    const session = globalThis.navigator?.mediaSession;
    if (!session?.setPositionState || !audio || !Number.isFinite(audio.duration)) return;
    try {
      session.setPositionState({
        duration: audio.duration,
        playbackRate: audio.playbackRate,
        position: Math.min(audio.currentTime, audio.duration),
      });
    } catch {
      // A position the browser will not take (a stream still finding its length): skip it.
    }
  }

  /** The mini player's <audio>: the store drives it and follows its events. */
  function attach(element: HTMLAudioElement): void {
    audio = element;
    audio.playbackRate = rate.value;
    audio.addEventListener('timeupdate', onTime);
    audio.addEventListener('seeked', onTime);
    audio.addEventListener('loadedmetadata', () => {
      if (!audio) return;
      durationMs.value = Number.isFinite(audio.duration)
        ? audio.duration * 1000
        : (episode.value?.durationMs ?? 0);
      if (pendingSeekMs !== null) {
        audio.currentTime = pendingSeekMs / 1000;
        pendingSeekMs = null;
      }
      audio.playbackRate = rate.value;
    });
    const session = globalThis.navigator?.mediaSession;
    audio.addEventListener('play', () => {
      playing.value = true;
      error.value = null;
      if (session) session.playbackState = 'playing';
    });
    audio.addEventListener('playing', () => (waiting.value = false));
    audio.addEventListener('waiting', () => (waiting.value = true));
    audio.addEventListener('pause', () => {
      playing.value = false;
      if (session) session.playbackState = 'paused';
      void save();
    });
    audio.addEventListener('ended', () => {
      playing.value = false;
      void save(true);
    });
    audio.addEventListener('error', () => {
      if (!episode.value) return;
      playing.value = false;
      waiting.value = false;
      error.value = episode.value.media?.downloaded
        ? 'Earshot could not play the downloaded file of this episode.'
        : "The episode's audio could not be streamed (the publisher's server did not answer with audio). Check your connection, or process the episode to download it for listening offline.";
    });
    setUpMediaSession();
  }

  function setUpMediaSession(): void {
    const session = globalThis.navigator?.mediaSession;
    if (!session) return;
    const handlers: [MediaSessionAction, MediaSessionActionHandler][] = [
      ['play', () => void resume()],
      ['pause', () => pause()],
      ['seekbackward', (d) => skip(-(d.seekOffset ?? 15))],
      ['seekforward', (d) => skip(d.seekOffset ?? 30)],
      ['seekto', (d) => d.seekTime !== undefined && seek(d.seekTime * 1000)],
      ['previoustrack', () => skip(-15)],
      ['nexttrack', () => skip(30)],
    ];
    for (const [action, handler] of handlers) {
      try {
        session.setActionHandler(action, handler);
      } catch {
        // This browser does not know the action: the others still work.
      }
    }
  }

  function announce(ep: EpisodeDetailView): void {
    const session = globalThis.navigator?.mediaSession;
    if (!session || typeof MediaMetadata === 'undefined') return;
    session.metadata = new MediaMetadata({
      title: ep.title ?? '(untitled)',
      artist: ep.showAuthor ?? ep.showTitle,
      album: ep.showTitle,
      artwork: ep.artwork ? [{ src: api.assetUrl(ep.artwork) }] : [],
    });
  }

  async function start(): Promise<void> {
    if (!audio) return;
    audio.playbackRate = rate.value;
    try {
      await audio.play();
    } catch (err) {
      // Replaced by another source before it started: the newer play() is the one that counts.
      if ((err as Error).name === 'AbortError') return;
      if ((err as Error).name === 'NotAllowedError')
        error.value = 'Press play to start: the browser waits for a click before it plays sound.';
      else if (!error.value) error.value = `Earshot could not play this episode: ${message(err)}`;
    }
  }

  /**
   * Play an episode from `ms`, or from where listening left off (the start, for a played one).
   * The one way views start playback.
   */
  async function playFrom(episodeId: number, ms?: number): Promise<void> {
    if (!audio) return;
    error.value = null;
    if (episode.value?.id !== episodeId) {
      if (episode.value && audio.currentTime > 0) void save();
      let detail: EpisodeDetailView;
      try {
        detail = await api.invoke('episode', episodeId);
      } catch (err) {
        error.value = message(err);
        return;
      }
      if (!detail.media) {
        error.value = 'This episode has nothing to play: its feed gives no audio file.';
        return;
      }
      episode.value = detail;
      const from = ms ?? (detail.state === 'played' ? 0 : detail.positionMs);
      currentMs.value = from;
      durationMs.value = detail.durationMs ?? 0;
      pendingSeekMs = from;
      audio.src = api.assetUrl(detail.media.url);
      announce(detail);
    } else if (ms !== undefined) {
      seek(ms);
    }
    await start();
  }

  function pause(): void {
    audio?.pause();
  }

  async function resume(): Promise<void> {
    if (episode.value) await start();
  }

  function toggle(): void {
    if (!audio || !episode.value) return;
    if (audio.paused) void resume();
    else pause();
  }

  function seek(ms: number): void {
    if (!audio) return;
    const end = Number.isFinite(audio.duration) ? audio.duration * 1000 : Infinity;
    const to = Math.max(0, Math.min(ms, end));
    if (audio.readyState === 0) pendingSeekMs = to;
    else audio.currentTime = to / 1000;
    currentMs.value = to;
    lastSaved = 0;
  }

  function skip(seconds: number): void {
    if (audio) seek(audio.currentTime * 1000 + seconds * 1000);
  }

  function setRate(next: number): void {
    rate.value = next;
    if (audio) audio.playbackRate = next;
    globalThis.localStorage?.setItem(RATE_KEY, String(next));
  }

  /** Mark the playing episode played or unplayed by hand. */
  async function markPlayed(played: boolean): Promise<void> {
    const ep = episode.value;
    if (!ep) return;
    try {
      const [state] = await api.invoke('markPlayed', [ep.id], played);
      if (state && episode.value?.id === ep.id) {
        episode.value = {
          ...episode.value,
          state: state.state,
          positionMs: state.positionMs,
          playedAt: state.playedAt,
        };
        rewindIfNew(ep.id, state.state);
      }
      changes.value++;
    } catch (err) {
      error.value = message(err);
    }
  }

  /** Marked unplayed while stopped here: it starts from the beginning, as a new episode does. */
  function rewindIfNew(episodeId: number, state: EpisodeDetailView['state']): void {
    if (state === 'new' && episode.value?.id === episodeId && audio?.paused) seek(0);
  }

  /** Another view changed a play state (marked played in a list): the player's copy follows. */
  function noteChange(episodeId: number, state: EpisodeDetailView['state']): void {
    if (episode.value?.id === episodeId) episode.value = { ...episode.value, state };
    rewindIfNew(episodeId, state);
    changes.value++;
  }

  /** Save at once (the window is going away). */
  function flush(): void {
    if (episode.value && audio && audio.currentTime > 0) void save();
  }

  function setTransport(next: Transport): void {
    api = next;
  }

  return {
    episode,
    playing,
    waiting,
    currentMs,
    durationMs,
    rate,
    error,
    changes,
    chapters,
    chapter,
    attach,
    playFrom,
    pause,
    resume,
    toggle,
    seek,
    skip,
    setRate,
    markPlayed,
    noteChange,
    flush,
    setTransport,
  };
});
