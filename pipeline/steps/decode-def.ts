import { defineStep } from '../engine/workflow.ts';
import { whisperMode, type EpisodeInput } from '../episode-input.ts';
import { recordArtifact } from './artifact-rows.ts';
import type { DecodeOutput } from './decode.ts';

/**
 * The audio decoded to 16 kHz mono PCM for Whisper (cpu lane). Waits for the publisher's
 * transcript: when there is one, Whisper is not needed and the audio is not decoded (unless the
 * user asked for Whisper anyway).
 */
export const decodeStep = defineStep<EpisodeInput, DecodeOutput>({
  name: 'decode',
  lane: 'cpu',
  version: '2',
  after: ['download', 'publisher-transcript'],
  fingerprint: whisperMode,
  run: async (ctx) => (await import('./decode.ts')).decode(ctx),
  commit: (ctx) => {
    if (ctx.output.path)
      recordArtifact(ctx.db, {
        episodeId: ctx.input.episodeId,
        kind: 'pcm',
        path: ctx.output.path,
        fingerprint: ctx.fingerprint,
        modelId: null,
        now: ctx.now,
      });
  },
});
