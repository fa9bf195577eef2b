import { defineStep } from '../engine/workflow.ts';
import type { EpisodeInput } from '../episode-input.ts';
import { removePartial } from '../ingest/partial.ts';
import { recordArtifact } from './artifact-rows.ts';
import type { DownloadOutput } from './download.ts';

/** The episode's audio, downloaded (or a local file copied) into media/ (io lane). */
export const downloadStep = defineStep<EpisodeInput, DownloadOutput>({
  name: 'download',
  lane: 'io',
  version: '1',
  maxAttempts: 6,
  run: async (ctx) => (await import('./download.ts')).download(ctx),
  // Given up on: its partial file would only take disk space.
  onDead: (ctx) => removePartial(ctx.dataDir, ctx.input.key),
  commit: (ctx) => {
    recordArtifact(ctx.db, {
      episodeId: ctx.input.episodeId,
      kind: 'audio',
      path: ctx.output.path,
      fingerprint: ctx.fingerprint,
      modelId: null,
      now: ctx.now,
    });
    // The publisher's transcript (stored beside the download, maybe first) already made it transcribed.
    ctx.db
      .prepare(
        `UPDATE episodes SET status = 'downloaded', updated_at = ? WHERE id = ? AND status != 'transcribed'`,
      )
      .run(ctx.now, ctx.input.episodeId);
  },
});
