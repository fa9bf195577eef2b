import { SAMPLE_RATE } from './types.ts';

/**
 * Where to cut long audio for a binding whose whisper_full() blocks until it is done and cannot
 * be interrupted (@napi-rs/whisper): each piece is one blocking call, so progress is reported and
 * cancellation is honoured between pieces. Cuts go at the quietest 50 ms in the few seconds
 * before each target, so a word is rarely split; never after it, because whisper.cpp pads the end
 * of every call to a whole 30 s window, and a piece just over a multiple of 30 s costs a whole
 * extra window (measured: +15 % on a 600 s clip when cuts could land past the target).
 *
 * Returns sample offsets [0, c1, c2, …, n]. Pure, for tests.
 */
export function planChunks(
  samples: Float32Array,
  options: {
    /** Target piece length in seconds. Default 120. */
    chunkSeconds?: number;
    /** How far before the target to look for a quiet spot, in seconds. Default 8. */
    searchSeconds?: number;
  } = {},
): number[] {
  const target = Math.round((options.chunkSeconds ?? 120) * SAMPLE_RATE);
  const search = Math.round((options.searchSeconds ?? 8) * SAMPLE_RATE);
  const frame = SAMPLE_RATE / 20; // 50 ms
  const n = samples.length;
  const cuts = [0];
  let at = 0;
  // A last piece shorter than half the target is folded into the one before it.
  while (n - at > target + target / 2) {
    const centre = at + target;
    let best = centre;
    let bestEnergy = Infinity;
    for (let start = centre - search; start + frame <= centre; start += frame) {
      let e = 0;
      for (let i = start; i < start + frame; i++) e += samples[i]! * samples[i]!;
      if (e < bestEnergy) {
        bestEnergy = e;
        best = start + frame / 2;
      }
    }
    cuts.push(best);
    at = best;
  }
  cuts.push(n);
  return cuts;
}
