import { defineStep } from '../engine/workflow.ts';
import { modelResource, publisherCovers, whisperMode, type EpisodeInput } from '../episode-input.ts';
import { recordArtifact } from './artifact-rows.ts';
import type { TranscribeOutput } from './transcribe.ts';

/**
 * Whisper's transcript (gpu lane: one job per GPU device, or one at a time on the CPU), with the
 * model chosen when the episode was queued: its id is in the fingerprint.
 */
export const transcribeStep = defineStep<EpisodeInput, TranscribeOutput>({
  name: 'transcribe',
  lane: 'gpu',
  version: '1',
  after: ['decode', 'publisher-transcript'],
  fingerprint: (input) => `${whisperMode(input)}:${input.whisperModel ?? 'none'}`,
  run: async (ctx) => (await import('./transcribe.ts')).transcribe(ctx),
  // No Whisper model chosen, and no publisher's transcript to use instead: the episode waits
  // (it is not a failure) until one is chosen (Queue.wake).
  waitFor: (input, outputs) =>
    publisherCovers(input, outputs) || input.whisperModel
      ? null
      : { resource: modelResource('whisper'), what: 'a Whisper model' },
  commit: (ctx) => {
    if (ctx.output.path) {
      recordArtifact(ctx.db, {
        episodeId: ctx.input.episodeId,
        kind: 'transcript',
        path: ctx.output.path,
        fingerprint: ctx.fingerprint,
        modelId: ctx.output.modelId,
        now: ctx.now,
      });
      // The step removed the decoded audio once Whisper had read it.
      ctx.db.prepare(`DELETE FROM artifacts WHERE episode_id = ? AND kind = 'pcm'`).run(ctx.input.episodeId);
    }
    ctx.db
      .prepare(`UPDATE episodes SET status = 'transcribed', updated_at = ? WHERE id = ?`)
      .run(ctx.now, ctx.input.episodeId);
  },
});
