import { defineStep } from '../engine/workflow.ts';
import type { EpisodeInput } from '../episode-input.ts';
import { recordArtifact } from './artifact-rows.ts';
import type { PublisherOutput } from './publisher-transcript.ts';

/** The publisher's transcript and chapters, when the feed offers them (io lane, beside the download). */
export const publisherTranscriptStep = defineStep<EpisodeInput, PublisherOutput>({
  name: 'publisher-transcript',
  lane: 'io',
  version: '1',
  after: [],
  maxAttempts: 6,
  run: async (ctx) => (await import('./publisher-transcript.ts')).publisherTranscript(ctx),
  commit: (ctx) => {
    const row = {
      episodeId: ctx.input.episodeId,
      fingerprint: ctx.fingerprint,
      modelId: 'publisher',
      now: ctx.now,
    };
    if (ctx.output.transcript) {
      recordArtifact(ctx.db, { ...row, kind: 'transcript', path: ctx.output.transcript.path });
      // It has a transcript now, as one Whisper made would (lists said "Downloaded" for good).
      ctx.db
        .prepare(`UPDATE episodes SET status = 'transcribed', updated_at = ? WHERE id = ?`)
        .run(ctx.now, ctx.input.episodeId);
    }
    if (ctx.output.chapters)
      recordArtifact(ctx.db, { ...row, kind: 'chapters', path: ctx.output.chapters.path });
    // What was skipped this time replaces what was noted last time (chapters that load now clear it).
    const skipped = ctx.output.skipped ?? [];
    ctx.db
      .prepare('UPDATE episodes SET notes = ? WHERE id = ?')
      .run(skipped.length ? JSON.stringify(skipped) : null, ctx.input.episodeId);
  },
});
