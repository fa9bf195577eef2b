import { SAMPLE_RATE } from './types.ts';

/**
 * Where to cut long audio for a binding whose whisper_full() blocks until it is done and cannot
 * be interrupted (@napi-rs/whisper): each piece is one blocking call, so progress is reported and
 * cancellation is honoured between pieces. Cuts go at the quietest 50 ms near each target so a
 * word is rarely split.
 *
 * Returns sample offsets [0, c1, c2, …, n]. Pure, for tests.
 */
export function planChunks(
  samples: Float32Array,
  options: {
    /** Target piece length in seconds. Default 120. */
    chunkSeconds?: number;
    /** How far either side of the target to look for a quiet spot, in seconds. Default 4. */
    searchSeconds?: number;
  } = {},
): number[] {
  const target = Math.round((options.chunkSeconds ?? 120) * SAMPLE_RATE);
  const search = Math.round((options.searchSeconds ?? 4) * SAMPLE_RATE);
  const frame = SAMPLE_RATE / 20; // 50 ms
  const n = samples.length;
  const cuts = [0];
  let at = 0;
  // A last piece shorter than half the target is folded into the one before it.
  while (n - at > target + target / 2) {
    const centre = at + target;
    let best = centre;
    let bestEnergy = Infinity;
    for (let start = centre - search; start + frame <= centre + search; start += frame) {
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
