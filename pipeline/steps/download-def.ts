import { defineStep } from '../engine/workflow.ts';
import type { EpisodeInput } from '../episode-input.ts';
import { recordArtifact } from './artifact-rows.ts';
import type { DownloadOutput } from './download.ts';

/** The episode's audio, downloaded (or a local file copied) into media/ (io lane). */
export const downloadStep = defineStep<EpisodeInput, DownloadOutput>({
  name: 'download',
  lane: 'io',
  version: '1',
  maxAttempts: 6,
  run: async (ctx) => (await import('./download.ts')).download(ctx),
  commit: (ctx) => {
    recordArtifact(ctx.db, {
      episodeId: ctx.input.episodeId,
      kind: 'audio',
      path: ctx.output.path,
      fingerprint: ctx.fingerprint,
      modelId: null,
      now: ctx.now,
    });
    ctx.db
      .prepare(`UPDATE episodes SET status = 'downloaded', updated_at = ? WHERE id = ?`)
      .run(ctx.now, ctx.input.episodeId);
  },
});
